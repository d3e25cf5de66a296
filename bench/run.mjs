// Runs every bench/*.bench.mjs and rewrites bench/RESULTS.md: each figure beside its peer or floor, as a ratio
// from the same run, with the machine and the date. Figures are reported, never asserted.
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { execSync, spawnSync } from 'node:child_process';

const dir = new URL('./', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort();
const rows = [];
for (const f of files) {
  process.stderr.write(`bench: ${f} ...\n`);
  // Each bench in a fresh process: one bench's heap, timers and JIT state must not slow the next (the IMD
  // decode lost a third of its speed when it ran after the API bench's load generator in the same process).
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(new URL(f, dir).href)}); process.stdout.write(JSON.stringify(await m.run()));`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
  );
  if (child.status !== 0) throw new Error(`bench ${f} failed (${child.status})`);
  for (const r of JSON.parse(child.stdout)) {
    rows.push({ file: f, ...r });
    process.stderr.write(
      `  ${r.name}: ${fmt(r.value)} ${r.unit}${r.peerValue != null ? ` | peer ${fmt(r.peerValue)} ${r.unit} | ${r.ratioLabel} = ${fmt(r.ratio)}×` : ''}\n`,
    );
  }
}

const py = (() => {
  try {
    return execSync('python3 --version', { encoding: 'utf8' }).trim();
  } catch {
    return 'no python3';
  }
})();
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${py}`;
const md = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machine}.`,
  '',
  '| benchmark | westream | goal | peer or floor | peer | ratio |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.goal ?? ''} | ${r.peer} | ${r.peerValue == null ? 'not measured' : `${fmt(r.peerValue)} ${r.unit}`} | ${r.ratio == null ? '–' : `${r.ratioLabel} = ${fmt(r.ratio)}×`} |`,
  ),
  '',
  ...rows.map((r) => `- \`${r.file}\`: ${r.detail}`),
  '',
].join('\n');
writeFileSync(new URL('RESULTS.md', dir), md);
process.stderr.write('bench: wrote bench/RESULTS.md\n');

function fmt(x) {
  if (x == null) return '–';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
