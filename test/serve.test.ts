/**
 * `westream serve`: the REST API and dashboard on a run's record, with no run. What it shows equals what the run
 * reported; nothing can be changed; Ctrl-C ends it at once; mistakes are usage errors.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapStarted, start, waitForLine, type Started } from './support/processes.js';
import { childEnv, demoSimDir, westream, WESTREAM } from './support/sim-dir.js';

describe('westream serve', () => {
  let dir: string;
  let reported: { nIter: number; nSegs: number; recycledWeight: number; nRecycled: number }[];
  let served: Started;
  let base: string;

  beforeAll(async () => {
    dir = demoSimDir((y) => y.replace(/max_total_iterations: \d+/, 'max_total_iterations: 4'));
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '4']).code).toBe(0);
    const run = westream(dir, ['run']);
    expect(run.code, run.stderr).toBe(0);
    reported = run.stdout
      .split('\n')
      .filter((l) => l.includes('"iteration finished"'))
      .map((l) => JSON.parse(l) as { nIter: number; nSegs: number; recycledWeight: number; nRecycled: number });
    expect(reported).toHaveLength(4);
    served = start(process.execPath, [WESTREAM, 'serve', '--api', '0'], { cwd: dir, env: childEnv({}) });
    base = (await waitForLine(served, 'stdout', /REST API on (http:\/\/\S+) /))[1] as string;
  });
  afterAll(() => reapStarted());

  it('shows the record as the run left it: state recorded, iteration 5 prepared, the last iteration as reported', async () => {
    const s = (await (await fetch(`${base}/status`)).json()) as {
      state: string;
      currentIteration: number;
      segments: { total: number; complete: number };
      workers: unknown[];
      lastIteration: { nIter: number; recycledWeight: number; nRecycled: number };
    };
    expect(s.state).toBe('recorded');
    expect(s.currentIteration).toBe(5);
    expect(s.workers).toEqual([]);
    const last = reported.at(-1) as (typeof reported)[number];
    expect(s.lastIteration).toMatchObject({ nIter: 4, nRecycled: last.nRecycled });
    expect(s.lastIteration.recycledWeight).toBeCloseTo(last.recycledWeight, 15);
    expect(s.segments.complete).toBe(0); // iteration 5 is prepared, not run
  });

  it('serves the iterations, the evolution and the dashboard from west.h5', async () => {
    const it3 = (await (await fetch(`${base}/iterations/3`)).json()) as { summary: { nIter: number; nParticles: number } };
    expect(it3.summary).toMatchObject({ nIter: 3, nParticles: reported[2]?.nSegs });
    const evo = (await (await fetch(`${base}/evolution`)).json()) as { iterations: { nIter: number; recycledWeight: number }[] };
    expect(evo.iterations.map((i) => i.nIter)).toEqual([1, 2, 3, 4]);
    evo.iterations.forEach((i, k) => expect(i.recycledWeight).toBeCloseTo(reported[k]?.recycledWeight as number, 15));
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>westream</title>');
  });

  it('changes nothing: pause, resume and stop are 409 and say why', async () => {
    for (const what of ['pause', 'resume', 'stop']) {
      const r = await fetch(`${base}/run/${what}`, { method: 'POST' });
      expect(r.status).toBe(409);
      expect(((await r.json()) as { message: string }).message).toMatch(/westream serve.*nothing runs here/);
    }
  });

  it('ends at Ctrl-C, at once', async () => {
    const t0 = Date.now();
    served.child.kill('SIGINT');
    expect(await served.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a sim root without west.h5, or --api off: exit 2 and what to do', () => {
    const empty = demoSimDir();
    const r = westream(empty, ['serve', '--api', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${join(empty, 'west.h5').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not exist; run 'westream init'`));
    const off = westream(dir, ['serve', '--api', 'off']);
    expect(off.code).toBe(2);
    expect(off.stderr).toMatch(/--api off leaves nothing to serve/);
  });
});
