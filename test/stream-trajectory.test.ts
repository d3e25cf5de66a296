/**
 * stream_trajectory end to end with the real command line and the toy engine streaming IMD: the progress
 * coordinate comes from the stream only (the engine writes none), by either port strategy, by the built-in
 * or by a Python MDAnalysis script; failures of every kind end the segment with a clear reason and no orphans.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { survivors } from './support/processes.js';
import { pcoordsOf, python, streamSimDir, westream } from './support/sim-dir.js';

const ITERS = 3;
const withEngineCheck = { TOY_ENGINE_PCOORD: '1' };

function initAndRun(dir: string, env: Record<string, string> = {}): { code: number | null; out: string } {
  const init = westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '2'], env);
  expect(init.code, init.stderr).toBe(0);
  const run = westream(dir, ['run', '--config', 'west.yaml'], env);
  return { code: run.code, out: run.stdout + run.stderr };
}

const iterations = (y: string): string => y.replace('max_total_iterations: 4', `max_total_iterations: ${ITERS}`);

/** Every segment's pcoord in west.h5 (from the stream) against the pcoord file the engine wrote itself. */
function expectStreamEqualsEngine(dir: string): number {
  const h5 = pcoordsOf(dir);
  let segments = 0;
  for (const [n, segs] of Object.entries(h5)) {
    if (!existsSync(join(dir, 'traj_segs', n.padStart(6, '0')))) continue; // the prepared, not yet run iteration
    segs.forEach((rows, seg) => {
      const file = join(dir, 'traj_segs', n.padStart(6, '0'), String(seg).padStart(6, '0'), 'pcoord.dat');
      const engine = readFileSync(file, 'utf8').trim().split('\n').map(Number);
      expect(rows.map((r) => r[0] as number)).toHaveLength(engine.length);
      rows.forEach((r, i) => expect(r[0] as number, `iteration ${n} segment ${seg} point ${i}`).toBeCloseTo(engine[i] as number, 5));
      segments++;
    });
  }
  return segments;
}

describe('stream_trajectory with the toy engine: pcoord from the stream only', () => {
  it("port_discovery engine (port 0, read from the log) + builtin pcoord and guard: several iterations, equal to the engine's own pcoord", () => {
    const dir = streamSimDir(iterations);
    const r = initAndRun(dir, withEngineCheck);
    expect(r.code, r.out).toBe(0);
    expect(Object.keys(pcoordsOf(dir))).toHaveLength(ITERS + 1); // + the prepared next iteration
    expect(expectStreamEqualsEngine(dir)).toBeGreaterThanOrEqual(2 * ITERS);
    const analysis = readFileSync(join(dir, 'seg_logs/000002-000000_analysis.log'), 'utf8');
    expect(analysis).toMatch(/westream: connected to 127\.0\.0\.1:\d+: IMD v3/);
    expect(analysis).toContain('westream: 11 frame(s)');
    expect(readFileSync(join(dir, 'seg_logs/000002-000000.log'), 'utf8')).toMatch(/IMD: Listening for IMD connection on port \d+\./);
  });

  it('port_discovery reserve: the port reaches the engine in $WEST_STREAM_PORT; same pcoords as port 0, bit for bit (same seed)', () => {
    const a = streamSimDir(iterations);
    expect(initAndRun(a).code).toBe(0);
    const b = streamSimDir((y) => iterations(y).replace('port_discovery: engine ', 'port_discovery: reserve'));
    const r = initAndRun(b, withEngineCheck);
    expect(r.code, r.out).toBe(0);
    expect(expectStreamEqualsEngine(b)).toBeGreaterThanOrEqual(2 * ITERS);
    expect(pcoordsOf(b)).toEqual(pcoordsOf(a));
    const port = /IMD: Listening for IMD connection on port (\d+)\./.exec(readFileSync(join(b, 'seg_logs/000001-000000.log'), 'utf8'))?.[1];
    expect(readFileSync(join(b, 'seg_logs/000001-000000_analysis.log'), 'utf8')).toContain(`127.0.0.1:${port}:`);
  });

  it('port_discovery reserve: a port taken by someone else makes the engine fail to bind, and the segment is retried on a new port', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as { port: number }).port;
    try {
      const dir = streamSimDir((y) =>
        y.replace('max_total_iterations: 4', 'max_total_iterations: 1').replace('port_discovery: engine ', 'port_discovery: reserve'),
      );
      // The first attempt of each segment is sent to the taken port: a real EADDRINUSE from the real engine.
      const p = join(dir, 'westpa_scripts/runseg.sh');
      writeFileSync(
        p,
        readFileSync(p, 'utf8').replace(
          'args=(',
          'if [ ! -e "$WEST_SIM_ROOT/collided-$WEST_CURRENT_SEG_ID" ]; then touch "$WEST_SIM_ROOT/collided-$WEST_CURRENT_SEG_ID"; WEST_STREAM_PORT=$COLLIDE_PORT; fi\nargs=(',
        ),
      );
      const t0 = Date.now();
      const r = initAndRun(dir, { COLLIDE_PORT: String(taken) });
      expect(r.code, r.out).toBe(0);
      expect(r.out, 'retried inside the runner, not failed and re-run').not.toContain('"level":40');
      expect(Date.now() - t0).toBeLessThan(20_000); // no waiting out connection timeouts on the dead attempt
      for (const seg of [0, 1]) {
        expect(existsSync(join(dir, `collided-${seg}`))).toBe(true);
        const analysis = readFileSync(join(dir, `seg_logs/000001-00000${seg}_analysis.log`), 'utf8');
        expect(analysis).toMatch(/connected to 127\.0\.0\.1:\d+: IMD v3/);
        expect(analysis).not.toContain(`127.0.0.1:${taken}:`);
      }
    } finally {
      squatter.close();
    }
  });

  const noPy = skipWithoutPeer('MDAnalysis + imdclient (PyPI)', pythonModuleMissing('MDAnalysis') ?? pythonModuleMissing('imdclient'));
  it.skipIf(noPy)('an analysis executable instead: the Python MDAnalysis script (imd://) gives the same pcoords', () => {
    const a = streamSimDir(iterations);
    expect(initAndRun(a).code).toBe(0);
    const b = streamSimDir(iterations, 'west-mdanalysis.yaml'); // the example's MDAnalysis config
    const r = initAndRun(b, withEngineCheck);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(b, 'seg_logs/000001-000000_analysis.log'), 'utf8')).toContain('stream_pcoord.py: 11 frames');
    const h5a = pcoordsOf(a);
    const h5b = pcoordsOf(b);
    for (const n of Object.keys(h5a)) {
      (h5a[n] as number[][][]).forEach((rows, s) => rows.forEach((row, i) => expect((h5b[n] as number[][][])[s]?.[i]?.[0]).toBeCloseTo(row[0] as number, 5)));
    }
  });

  it.skipIf(noPy)('builtin record: an H5MD file per segment that MDAnalysis reads, equal to the frames the engine wrote', () => {
    const dir = streamSimDir((y) =>
      y
        .replace('max_total_iterations: 4', 'max_total_iterations: 2')
        .replace('builtin: [pcoord, guard]', 'builtin: [pcoord, record]')
        .replace(/      guard: .*\n/, '      record: { fields: [position, velocity], atoms: [0, 1, 5], compression: 6 }\n'),
    );
    const r = initAndRun(dir, { TOY_ENGINE_TRAJ: '1' });
    expect(r.code, r.out).toBe(0);
    const segDir = join(dir, 'traj_segs/000002/000001');
    const h5md = JSON.parse(
      python(
        `import json, sys, warnings
warnings.simplefilter('ignore')
import MDAnalysis as mda
import h5py
u = mda.Universe.empty(3, trajectory=False)
u.load_new(sys.argv[1], format='H5MD')
f = h5py.File(sys.argv[1], 'r')
print(json.dumps({'compression': f['particles/stream/position/value'].compression, 'frames': [
  {'step': int(ts.data['step']) if 'step' in ts.data else None, 'time': float(ts.time), 'box': ts.dimensions[:3].tolist(), 'x': ts.positions.ravel().tolist(), 'v': ts.velocities.ravel().tolist()}
  for ts in u.trajectory]}))`,
        [join(segDir, 'seg.h5md')],
      ),
    ) as { compression: string; frames: { time: number; box: number[]; x: number[]; v: number[] }[] };
    const traj = readFileSync(join(segDir, 'traj.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: number; box: number[]; positions: number[]; velocities: number[] });
    expect(h5md.compression).toBe('gzip');
    expect(h5md.frames).toHaveLength(traj.length);
    const pick = (a: number[]): number[] => [0, 1, 5].flatMap((i) => a.slice(3 * i, 3 * i + 3));
    h5md.frames.forEach((fr, i) => {
      const t = traj[i] as (typeof traj)[number];
      expect(fr.time).toBeCloseTo(t.time, 12);
      expect(fr.box).toEqual([t.box[0], t.box[4], t.box[8]]);
      expect(fr.x).toEqual(pick(t.positions));
      expect(fr.v).toEqual(pick(t.velocities));
    });
    expect(readFileSync(join(dir, 'seg_logs/000002-000001_analysis.log'), 'utf8')).toMatch(/record: 11 frame\(s\) of 3 atom\(s\) to .*seg\.h5md/);
  });

  it('8 segments at once on one machine: no port collision, each analysis reads its own engine', () => {
    const dir = streamSimDir((y) =>
      y
        .replace('max_total_iterations: 4', 'max_total_iterations: 1')
        .replace('bin_target_counts: 2', 'bin_target_counts: 8')
        .replace('  westream:\n', '  westream:\n    slots: 8\n'),
    );
    const init = westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '8'], withEngineCheck);
    expect(init.code, init.stderr).toBe(0);
    const run = westream(dir, ['run', '--config', 'west.yaml'], withEngineCheck);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const ports = new Set<string>();
    for (let seg = 0; seg < 8; seg++) {
      const log = readFileSync(join(dir, `seg_logs/000001-${String(seg).padStart(6, '0')}.log`), 'utf8');
      const port = /on port (\d+)\./.exec(log)?.[1] as string;
      expect(readFileSync(join(dir, `seg_logs/000001-${String(seg).padStart(6, '0')}_analysis.log`), 'utf8')).toContain(`127.0.0.1:${port}:`);
      ports.add(port);
    }
    expect(ports.size).toBe(8);
    // The signature: distinct seeds give distinct trajectories, and each stream's pcoord equals its own engine's.
    expect(expectStreamEqualsEngine(dir)).toBe(8);
    const finals = (pcoordsOf(dir)['1'] as number[][][]).map((rows) => rows.at(-1)?.[0]);
    expect(new Set(finals).size).toBe(8);
  });
});

describe('stream_trajectory failures: a clear reason on the segment, nothing left running', () => {
  /** Runs one iteration expected to halt; returns the reason printed and the segment's logs. */
  function halted(edit: (y: string) => string, runseg?: (text: string) => string): { out: string; dir: string } {
    const dir = streamSimDir((y) =>
      edit(y.replace('max_total_iterations: 4', 'max_total_iterations: 1').replace('  westream:\n', '  westream:\n    max_segment_retries: 0\n')),
    );
    if (runseg) {
      const p = join(dir, 'westpa_scripts/runseg.sh');
      writeFileSync(p, runseg(readFileSync(p, 'utf8')));
    }
    const r = initAndRun(dir);
    expect(r.code, r.out).toBe(3);
    expect(survivors(dir), 'processes left running').toEqual([]);
    return { out: r.out, dir };
  }

  it('the port never appears: the engine is stopped; the reason quotes the pattern and the log', () => {
    const t0 = Date.now();
    const { out } = halted(
      (y) => y.replace('      timeout: 30\n', '      timeout: 30\n      port_timeout: 2\n'),
      (t) => t.replace('--imd-port "${WEST_STREAM_PORT:-0}" --imd-wait', '--set steps=100000000'),
    );
    expect(out).toMatch(
      /segment 0 of iteration 1: stream_trajectory: no line matching the port pattern \/IMD: Listening for IMD connection on port \(\\d\+\)\/ appeared in the propagator's log within 2 s/,
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('the analysis cannot connect (a port is printed, nobody listens): a clear error within the timeout, the engine stopped', () => {
    const t0 = Date.now();
    const { out } = halted(
      (y) => y.replace('      timeout: 30\n', '      timeout: 2\n'),
      (t) =>
        t.replace(
          'exec "$TOY_MD" run "${args[@]}"',
          'echo "IMD: Listening for IMD connection on port 9."\nexec "$TOY_MD" run --input "$WEST_SIM_ROOT/md.in" --restart parent.rst --out-restart seg.rst --set steps=100000000',
        ),
    );
    expect(out).toMatch(
      /segment 0 of iteration 1: stream_trajectory: IMD engine at 127\.0\.0\.1:9: nothing accepted a connection within 2000 ms \(last error ECONNREFUSED\)/,
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('the guard trips: the engine is killed at once and the reason names the atom and frames', () => {
    const { out } = halted(
      (y) => y.replace('max_displacement: 5.0', 'max_displacement: 0.001').replace('steps        = 200', 'steps = 200'),
      (t) => t.replace('--imd-wait', '--imd-wait --set steps=100000000'),
    );
    expect(out).toMatch(
      /stream_trajectory: guard: atom \d+ moved \d+\.\d+ between frame 0 \(step 0\) and frame 1 \(step 20\), more than max_displacement 0\.001/,
    );
  });

  it('the analysis program fails: the segment fails with its exit status and log', () => {
    const { out } = halted((y) =>
      y.replace(/      builtin: \[pcoord, guard\]\n/, '      executable: /bin/false\n').replace(/      pcoord: .*\n      guard: .*\n/, ''),
    );
    expect(out).toMatch(/stream_trajectory: the analysis program: \/bin\/false exited with status 1/);
  });

  it("the engine dies mid-stream: its own failure is the reason, the stream's end a consequence", () => {
    // The script reports the death half a second later (a runseg.sh cleaning up): the stream's end comes first.
    const { out } = halted(
      (y) => y,
      (t) =>
        t.replace(
          'exec "$TOY_MD" run "${args[@]}"',
          '"$TOY_MD" run "${args[@]}" --set steps=100000000 &\nsleep 1; kill -9 $!; wait $! || true; sleep 0.5; exit 42',
        ),
    );
    expect(out).toMatch(/runseg\.sh exited with status 42 \(and stream_trajectory: /);
  });

  it("required: false lets a segment whose analysis failed complete with the engine's own pcoord", () => {
    const dir = streamSimDir((y) =>
      y
        .replace('max_total_iterations: 4', 'max_total_iterations: 1')
        .replace(/      builtin: \[pcoord, guard\]\n/, '      executable: /bin/false\n      required: false\n')
        .replace(/      pcoord: .*\n      guard: .*\n/, ''),
    );
    const p = join(dir, 'westpa_scripts/runseg.sh');
    writeFileSync(
      p,
      readFileSync(p, 'utf8').replace(
        'exec "$TOY_MD" run "${args[@]}"',
        '"$TOY_MD" run "${args[@]}" --out-pcoord pcoord.dat\ncp pcoord.dat "$WEST_PCOORD_RETURN"',
      ),
    );
    const r = initAndRun(dir);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(dir, 'seg_logs/000001-000000_analysis.log'), 'utf8')).toMatch(
      /westream: stream_trajectory: the analysis program: \/bin\/false exited with status 1/,
    );
    expect(existsSync(join(dir, 'traj_segs/000001/000000/pcoord.dat'))).toBe(true);
    expect(readdirSync(join(dir, 'seg_logs')).length).toBeGreaterThan(0);
  });
});
