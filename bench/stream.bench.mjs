// Streaming's cost and what it saves, with the toy engine (pair system), same seeds, in the same run:
// 1. per-segment wall time of a WE run whose pcoord comes from the IMD stream (stream_trajectory, builtin
//    pcoord) against the same run with the engine writing its pcoord itself (no streaming): 12 atoms.
// 2. 100,000 atoms: pcoord from the stream against the classic way (the engine writes an XYZ trajectory,
//    then a get_pcoord-style program reads it): wall time per segment and bytes written under traj_segs/.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const westream = join(repo, 'packages/cli/bin/westream.js');
const TOY_MD = join(repo, 'packages/toy-md/bin/westream-toy-md.js');

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  return r;
}

function bytesUnder(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += bytesUnder(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/**
 * A sim root from config/examples/toy-stream: `mode` 'stream' (builtin pcoord from IMD), 'plain' (the engine writes
 * its pcoord) or 'xyz' (the engine writes an XYZ trajectory; a second program computes the pcoord from it).
 */
function simRoot(mode, { walkers, iterations, solvent, steps, stride }) {
  const dir = mkdtempSync(join(tmpdir(), `westream-bench-stream-${mode}-`));
  cpSync(join(repo, 'config/examples/toy-stream'), dir, { recursive: true });
  cpSync(join(repo, 'westpa-scripts/toy-stream'), join(dir, 'westpa_scripts'), { recursive: true });
  let md = readFileSync(join(dir, 'md.in'), 'utf8')
    .replace(/^steps .*$/m, `steps = ${steps}`)
    .replace(/^stride .*$/m, `stride = ${stride}`)
    .replace(/^solvent .*$/m, `solvent = ${solvent}`);
  writeFileSync(join(dir, 'md.in'), md);
  must(
    spawnSync(process.execPath, [TOY_MD, 'init', '--input', 'md.in', '--pcoord', '0.5', '--out', 'bstates/close.rst', '--seed', '1'], {
      cwd: dir,
      encoding: 'utf8',
    }),
    'toy init',
  );
  let cfg = readFileSync(join(dir, 'west.yaml'), 'utf8')
    .replace('max_total_iterations: 4', `max_total_iterations: ${iterations}`)
    .replace("[0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 'inf']", "[0.0, 'inf']")
    .replace('bin_target_counts: 2', `bin_target_counts: ${walkers}`)
    .replace('      builtin: [pcoord, guard]\n', '      builtin: pcoord\n')
    .replace(/      guard: .*\n/, '')
    .replace('  westream:\n', '  westream:\n    slots: 2\n');
  if (mode !== 'stream') {
    cfg = cfg.replace(/    stream_trajectory:\n(      .*\n)+/, '');
    const run =
      mode === 'plain'
        ? '"$TOY_MD" run --input "$WEST_SIM_ROOT/md.in" --restart parent.rst --out-restart seg.rst --out-pcoord "$WEST_PCOORD_RETURN"'
        : '"$TOY_MD" run --input "$WEST_SIM_ROOT/md.in" --restart parent.rst --out-restart seg.rst --out-xyz traj.xyz\n"$TOY_MD" xyz-pcoord --input "$WEST_SIM_ROOT/md.in" --xyz traj.xyz --atoms 0,1 > "$WEST_PCOORD_RETURN"';
    const p = join(dir, 'westpa_scripts/runseg.sh');
    writeFileSync(p, readFileSync(p, 'utf8').replace(/args=\(.*\n.*\n.*exec "\$TOY_MD" run "\$\{args\[@\]\}"\n/s, `${run}\n`));
  }
  writeFileSync(join(dir, 'west.yaml'), cfg);
  return dir;
}

function runWe(dir) {
  const env = { ...process.env, TOY_MD };
  must(
    spawnSync(process.execPath, [westream, 'init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '64'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    }),
    'westream init',
  );
  const t0 = performance.now();
  must(spawnSync(process.execPath, [westream, 'run', '--config', 'west.yaml'], { cwd: dir, env, encoding: 'utf8' }), 'westream run');
  const seconds = (performance.now() - t0) / 1000;
  const segments = readdirSync(join(dir, 'traj_segs')).reduce((n, it) => n + readdirSync(join(dir, 'traj_segs', it)).length, 0);
  return { seconds, segments, bytes: bytesUnder(join(dir, 'traj_segs')) };
}

const pcoords = (dir) =>
  spawnSync(
    'python3',
    [
      '-c',
      "import h5py,sys,json;f=h5py.File(sys.argv[1]);print(json.dumps([f['iterations'][k]['pcoord'][:].round(4).tolist() for k in f['iterations']]))",
      join(dir, 'west.h5'),
    ],
    { encoding: 'utf8' },
  ).stdout;

export async function run() {
  const small = { walkers: 8, iterations: 3, solvent: 10, steps: 200, stride: 20 };
  const s = simRoot('stream', small);
  const p = simRoot('plain', small);
  const rs = runWe(s);
  const rp = runWe(p);
  const same = pcoords(s) === pcoords(p);
  const big = { walkers: 4, iterations: 1, solvent: 99_998, steps: 20, stride: 2 };
  const bs = simRoot('stream', big);
  const bx = simRoot('xyz', big);
  const rbs = runWe(bs);
  const rbx = runWe(bx);
  const bigSame = pcoords(bs) === pcoords(bx);
  for (const d of [s, p, bs, bx]) rmSync(d, { recursive: true, force: true });
  const per = (r) => (1000 * r.seconds) / r.segments;
  const mb = (b) => (b / 1e6).toFixed(1);
  return [
    {
      name: 'Streaming cost per segment (toy pair, 12 atoms, 11 frames): pcoord from the IMD stream vs the engine writing it',
      value: per(rs),
      unit: 'ms',
      goal: 'reported',
      peer: 'same run, no stream_trajectory (the engine writes its pcoord)',
      peerValue: per(rp),
      ratio: per(rs) / per(rp),
      ratioLabel: 'streamed / plain',
      detail: `${rs.segments} segments each (3 iterations × 8, 2 slots): streamed ${rs.seconds.toFixed(2)} s, plain ${rp.seconds.toFixed(2)} s; pcoords identical (to 1e-4): ${same}.`,
    },
    {
      name: '100,000 atoms (11 frames per segment): pcoord from the stream vs XYZ trajectory + get_pcoord-style reader',
      value: per(rbs),
      unit: 'ms',
      goal: 'reported: time and bytes on disk',
      peer: 'the engine writes traj.xyz, a second program computes the pcoord from it',
      peerValue: per(rbx),
      ratio: per(rbx) / per(rbs),
      ratioLabel: 'file way / streamed',
      detail: `${rbs.segments} segments each: bytes written under traj_segs/: streamed ${mb(rbs.bytes)} MB (restart files only), file way ${mb(rbx.bytes)} MB; pcoords identical (to 1e-4): ${bigSame}.`,
    },
  ];
}
