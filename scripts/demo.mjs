#!/usr/bin/env node
// `npm run demo`: a complete westream run of the bundled example in a fresh directory — the toy engine in a
// 1-D double well, weighted ensemble pushing probability over a 6 kT barrier — then a per-iteration summary.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const westream = join(repo, 'packages/cli/bin/westream.js');
const toyMd = join(repo, 'packages/toy-md/bin/westream-toy-md.js');
const dir = process.env.WESTREAM_DEMO_DIR ? resolve(process.env.WESTREAM_DEMO_DIR) : mkdtempSync(join(tmpdir(), 'westream-demo-'));
mkdirSync(dir, { recursive: true });
for (const f of ['west.yaml', 'md.in', 'bstates.txt', 'tstates.txt', 'bstates']) cpSync(join(repo, 'config/examples/toy', f), join(dir, f), { recursive: true });
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
step(['run']);
const seconds = (Date.now() - t0) / 1000;

// Per-iteration summary, read back from west.h5.
const { WestH5 } = await import(join(repo, 'packages/store/dist/index.js'));
const store = await WestH5.open(join(dir, 'west.h5'));
const len = store.meta.pcoordLen;
const rows = ['iter  segs  P(x > 0) at end      recycled weight (flux into x >= 1)'];
let firstFlux = 0;
let segsBefore = 0;
let segsTotal = 0;
const fluxes = [];
for (let n = 1; n < store.currentIteration; n++) {
  const it = await store.readIteration(n);
  let over = 0;
  for (let i = 0; i < it.nSegs; i++) if (it.pcoord[i * len + len - 1] > 0) over += it.weights[i];
  let flux = 0; // weight of the walkers recycled at the end of this iteration (endpoint type 3)
  for (let i = 0; i < it.nSegs; i++) if (it.endpointTypes[i] === 3) flux += it.weights[i];
  if (flux > 0 && !firstFlux) {
    firstFlux = n;
    segsBefore = segsTotal + it.nSegs;
  }
  segsTotal += it.nSegs;
  fluxes.push(flux);
  const bar = over > 0 ? '#'.repeat(Math.max(1, Math.round(12 + Math.log10(over)))) : '';
  rows.push(`${String(n).padStart(4)}  ${String(it.nSegs).padStart(4)}  ${over.toExponential(2).padStart(9)} ${bar.padEnd(12)}  ${flux > 0 ? flux.toExponential(3) : '-'}`);
}
writeFileSync(join(dir, 'summary.txt'), rows.join('\n') + '\n');
console.log(`\n${rows.join('\n')}\n`);
// Brute force with the same engine, for scale: first passage times from the same basis state to x >= 1.
const bf = spawnSync(process.execPath, [toyMd, 'mfpt', '--input', 'md.in', '--restart', 'bstates/left.rst', '--target', '1.0', '--events', '100', '--check-every', '50', '--seed', '5'], { cwd: dir, encoding: 'utf8' });
const times = JSON.parse(bf.stdout).times;
const mfpt = times.reduce((a, b) => a + b, 0) / times.length;
const tau = 0.5;
const late = fluxes.slice(Math.floor(fluxes.length / 2));
const kWe = late.reduce((a, b) => a + b, 0) / late.length / tau;
if (firstFlux) console.log(`WE: the first walker crossed the barrier and reached x >= 1 in iteration ${firstFlux}, after ${segsBefore} segments (${(segsBefore * tau).toFixed(0)} time units of MD in all).`);
else console.log('WE: no walker reached x >= 1 in this run.');
console.log(`Plain MD with the same engine: one crossing every ${mfpt.toFixed(0)} time units on average (${(mfpt / tau).toFixed(0)} segments of one walker; 100 brute-force passages).`);
console.log(`Rate: WE flux over the second half k = ${kWe.toExponential(2)} per time unit; brute force 1/MFPT = ${(1 / mfpt).toExponential(2)} (WE's estimate is noisy over ${late.length} iterations).\n`);
console.log(`done in ${seconds.toFixed(0)} s\n  record:   ${join(dir, 'west.h5')}  (h5py, w_pdist, ... read it)\n  logs:     ${join(dir, 'seg_logs/')}\n  summary:  ${join(dir, 'summary.txt')}\n  status:   cd ${dir} && npx --prefix ${repo} westream status`);
