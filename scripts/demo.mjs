#!/usr/bin/env node
// `npm run demo`: a complete westream run of the bundled example in a fresh directory — the toy engine in a
// 1-D double well through the executable propagator, weighted ensemble measuring the rate over a 4 kT barrier —
// a live table on the terminal (JSON logs in run.log.jsonl), then the rate with its error bar beside the
// brute-force rate of the same engine, and the MD time each needed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const westream = join(repo, 'packages/cli/bin/westream.js');
const toyMd = join(repo, 'packages/toy-md/bin/westream-toy-md.js');
const dir = process.env.WESTREAM_DEMO_DIR ? resolve(process.env.WESTREAM_DEMO_DIR) : mkdtempSync(join(tmpdir(), 'westream-demo-'));
mkdirSync(dir, { recursive: true });
for (const f of ['west.yaml', 'md.in', 'bstates.txt', 'tstates.txt', 'bstates'])
  cpSync(join(repo, 'config/examples/toy', f), join(dir, f), { recursive: true });
cpSync(join(repo, 'westpa-scripts/toy'), join(dir, 'westpa_scripts'), { recursive: true });

const env = { ...process.env, TOY_MD: toyMd };
const step = (args) => {
  const r = spawnSync(process.execPath, [westream, ...args], { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`\ndemo: 'westream ${args.join(' ')}' failed (exit ${r.status}) in ${dir}\n`);
    process.exit(r.status ?? 1);
  }
};
console.log(`westream demo in ${dir}\n`);
const t0 = Date.now();
step(['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '4', '--force']);
// The table on the terminal (pretty, even when stdout is not one), the JSON lines in a file.
step(['run', '--log-format', 'pretty', '--log-file', 'run.log.jsonl']);
const seconds = (Date.now() - t0) / 1000;

// The rate, as the table's last row estimated it: recycled weight per iteration over the second half of the
// run, its error from block averages (the same estimator), per unit time (τ from md.in).
const { WestH5, recycledOf } = await import(join(repo, 'packages/store/dist/index.js'));
const { runningFlux } = await import(join(repo, 'services/sim-manager/dist/index.js'));
const md = readFileSync(join(dir, 'md.in'), 'utf8');
const num = (key) => Number(new RegExp(`^${key}\\s*=\\s*([^\\s;]+)`, 'm').exec(md)?.[1]);
const tau = num('steps') * num('dt');
const store = await WestH5.open(join(dir, 'west.h5'), { readOnly: true });
const fluxes = [];
let segments = 0;
for (let n = 1; n < store.currentIteration; n++) {
  const it = await store.readIteration(n);
  segments += it.nSegs;
  fluxes.push(recycledOf(it).recycledWeight);
}
const est = runningFlux(fluxes);
const weMd = segments * tau;

// Brute force with the same engine: one walker from the same basis state, recycled at x >= 1, the target
// tested every τ as WE tests it; independent passages, so the error of 1/MFPT is (sd/√n)/MFPT².
const events = 400;
const bf = spawnSync(
  process.execPath,
  [
    toyMd,
    'mfpt',
    '--input',
    'md.in',
    '--restart',
    'bstates/left.rst',
    '--target',
    '1.0',
    '--events',
    String(events),
    '--check-every',
    String(num('steps')),
    '--seed',
    '5',
  ],
  { cwd: dir, encoding: 'utf8' },
);
if (bf.status !== 0) {
  process.stderr.write(`demo: brute force failed: ${bf.stderr}\n`);
  process.exit(1);
}
const times = JSON.parse(bf.stdout).times;
const mfpt = times.reduce((a, b) => a + b, 0) / times.length;
const sd = Math.sqrt(times.reduce((a, b) => a + (b - mfpt) ** 2, 0) / (times.length - 1));
const kBf = 1 / mfpt;
const seBf = sd / Math.sqrt(times.length) / mfpt ** 2;
const pct = (se, k) => `${Math.round((100 * se) / k)} %`;
const lines = [];
if (est && est !== 0) {
  const kWe = est.mean / tau;
  const seWe = est.se / tau;
  const rel = seWe / kWe;
  // Brute force's relative error after n passages is (sd/mean)/√n; for WE's relative error it needs
  // n = (sd/mean / rel)² passages, each of MFPT on average.
  const nNeeded = (sd / mfpt / rel) ** 2;
  const bfMd = nNeeded * mfpt;
  const z = (kWe - kBf) / Math.hypot(seWe, seBf);
  lines.push(
    `rate, WE:          k = ${kWe.toExponential(2)} ± ${seWe.toExponential(1)} per time unit (${pct(seWe, kWe)}; iterations ${fluxes.length - est.n + 1}-${fluxes.length}, block averages)`,
    `rate, brute force: k = ${kBf.toExponential(2)} ± ${seBf.toExponential(1)} per time unit (${pct(seBf, kBf)}; ${times.length} passages, MFPT ${mfpt.toFixed(0)})`,
    `                   WE/brute force = ${(kWe / kBf).toFixed(2)}, ${Math.abs(z).toFixed(1)} combined standard errors apart`,
    `MD time: WE spent ${weMd.toFixed(0)} time units (${segments} segments of τ = ${tau}); brute force needs ~${bfMd.toFixed(0)} for the same ${pct(seWe, kWe)} error`,
    `         (${nNeeded.toFixed(0)} passages of ${mfpt.toFixed(0)}): WE used ${(bfMd / weMd).toFixed(1)}x less MD.`,
  );
} else {
  lines.push(`rate, WE: no flux into the target in the second half of the run yet (${fluxes.length} iterations); run more iterations.`);
  lines.push(`rate, brute force: k = ${kBf.toExponential(2)} ± ${seBf.toExponential(1)} per time unit (${times.length} passages)`);
}
writeFileSync(join(dir, 'summary.txt'), lines.join('\n') + '\n');
console.log(`\n${lines.join('\n')}\n`);
console.log(
  `done in ${seconds.toFixed(0)} s\n  record:   ${join(dir, 'west.h5')}  (h5py, w_pdist, ... read it)\n  logs:     ${join(dir, 'run.log.jsonl')} (JSON lines), ${join(dir, 'seg_logs/')}\n  summary:  ${join(dir, 'summary.txt')}\n  status:   cd ${dir} && npx --prefix ${repo} westream status`,
);
