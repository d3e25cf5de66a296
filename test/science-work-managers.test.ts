/**
 * The science cases through the other paths a user runs (test/science-rate.test.ts runs them locally):
 *
 * 1. The rate case through BullMQ worker daemons on a real Redis gives the local run's record, iteration for
 *    iteration (segments are seeded by (run seed, iteration, segment), wherever they run): its statistics are
 *    the local runs'.
 * 2. The real executable propagator with the toy engine (processes, files): the demo's settings, fewer
 *    iterations, a looser bar (stated there).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fluxSeries, rateFromPassages, runWe, show, type Estimate } from '@westream/testing';
import { WestH5 } from '@westream/store';
import { BullmqWorkManager, WorkerDaemon, type DaemonRunner } from '@westream/work-manager';
import { runningFlux, type FluxEstimate } from '@westream/sim-manager';
import { commandMissing, skipWithoutPeer } from './support/peers.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { RATE_MAPPERS, RATE_TAU, rateCase, type Bins } from './support/science-cases.js';
import { toyExampleDir, TOY_MD, westream } from './support/sim-dir.js';

// ---------------------------------------------------------------------------------------------------------
// 1. Through BullMQ: two worker daemons (in this process, so they can hold the function propagator) on a
// private redis-server, the run's segments as jobs. Same seed, same record as the local run.
// ---------------------------------------------------------------------------------------------------------
const skipRedis = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

describe.skipIf(skipRedis)('the rate case through BullMQ worker daemons', () => {
  let redis: PrivateRedis;
  const daemons: WorkerDaemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.drain();
    await redis?.stop();
  });

  it('gives the local run’s record (fluxes iteration for iteration), every segment run by the daemons', async () => {
    redis = await startRedis();
    // Fewer walkers (8 per bin) and iterations than the rate case: each segment is a job through Redis.
    const ITERS = 30;
    const small = { ...rateCase(RATE_MAPPERS.RectilinearBinMapper as Bins, 11, ITERS), binTargetCounts: 8 };
    const local = await runWe(small);
    const perNode = new Map<string, number>();
    const viaRedis = await runWe({
      ...small,
      workManager: async (propagator, simRoot, config) => {
        for (const node of ['node-a', 'node-b']) {
          // Each daemon's runner counts what it ran, then hands the segment to the shared propagator.
          const makeRunner = (): DaemonRunner => ({
            runSegment: (task, signal) => {
              perNode.set(node, (perNode.get(node) ?? 0) + 1);
              return propagator.runSegment(task, signal);
            },
            close: () => undefined,
          });
          daemons.push(await WorkerDaemon.start({ redisUrl: redis.url, nodeId: node, slots: 2, stateDir: join(redis.dir, node), makeRunner }));
        }
        return BullmqWorkManager.connect({ redisUrl: redis.url, runId: 'science', simRoot, config, seed: 11n });
      },
    });
    const a = await fluxSeries(local.westH5, RATE_TAU);
    const b = await fluxSeries(viaRedis.westH5, RATE_TAU);
    expect(b).toEqual(a);
    // Every segment of the record ran on a daemon (the loop itself holds no runner here), on both nodes. Jobs
    // are delivered at least once: a redelivered one may run again (or find its parent's state gone), so the
    // daemons may have run a few more than the record holds, never fewer.
    const store = await WestH5.open(viaRedis.westH5, { readOnly: true });
    let recorded = 0;
    for (let n = 1; n <= ITERS; n++) recorded += (await store.readIteration(n)).nSegs;
    const ranOnDaemons = (perNode.get('node-a') ?? 0) + (perNode.get('node-b') ?? 0);
    expect(ranOnDaemons, JSON.stringify([...perNode])).toBeGreaterThanOrEqual(recorded);
    expect(viaRedis.propagator.segmentsRun).toBeLessThanOrEqual(ranOnDaemons);
    expect(viaRedis.propagator.segmentsRun).toBeGreaterThanOrEqual(recorded);
    expect(perNode.get('node-a'), JSON.stringify([...perNode])).toBeGreaterThan(0);
    expect(perNode.get('node-b'), JSON.stringify([...perNode])).toBeGreaterThan(0);
    // The statistics are the local runs' (test/science-rate.test.ts): a run through BullMQ is the same run. This
    // one is too short for a rate of its own (30 iterations of 8 walkers per bin: the flux is still rising), so
    // it only shows one after iteration 20.
    expect(b.slice(20).some((f) => f > 0)).toBe(true);
    console.log(
      `via BullMQ: ${viaRedis.propagator.segmentsRun} segments as jobs (node-a ${perNode.get('node-a')}, node-b ${perNode.get('node-b')}), fluxes equal to the local run's in all ${ITERS} iterations`,
    );
  }, 600_000);
});

// ---------------------------------------------------------------------------------------------------------
// 2. The real executable propagator and the toy engine (a process per segment, restart files, west.h5):
// config/examples/toy exactly as `npm run demo` runs it (same config and seed: the demo's very run), estimated
// as its table estimates (runningFlux: the second half, block averages). Looser bar, for a one-minute run: WE
// within 3 combined standard errors of the same engine's brute-force rate, WE's own relative error ≤ 50 %.
// ---------------------------------------------------------------------------------------------------------
describe('the rate with the executable propagator and the toy engine (the demo’s settings)', () => {
  it('k_WE matches 1/MFPT of the same engine within 3 combined standard errors', () => {
    const dir = toyExampleDir();
    const init = westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '4']);
    expect(init.code, init.stderr).toBe(0);
    const run = westream(dir, ['run', '--log-format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const md = readFileSync(join(dir, 'md.in'), 'utf8');
    const steps = Number(/^steps\s*=\s*(\d+)/m.exec(md)?.[1]);
    const tau = steps * Number(/^dt\s*=\s*([\d.]+)/m.exec(md)?.[1]);
    const r = spawnSync(
      process.execPath,
      [
        TOY_MD,
        'mfpt',
        '--input',
        'md.in',
        '--restart',
        'bstates/left.rst',
        '--target',
        '1.0',
        '--events',
        '1000',
        '--check-every',
        String(steps),
        '--seed',
        '99',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const bf = rateFromPassages((JSON.parse(r.stdout) as { times: number[] }).times);
    return fluxSeries(join(dir, 'west.h5'), 1).then((perIteration) => {
      const est = runningFlux(perIteration);
      expect(est, 'no flux in the second half of the run').toBeTruthy();
      const e = est as FluxEstimate;
      const we: Estimate = { mean: e.mean / tau, se: e.se / tau, n: e.n };
      const msg = `executable + toy engine: k_WE = ${show(we)} (the last ${e.n} of ${perIteration.length} iterations), k_BF = ${show(bf)} (1,000 passages)`;
      console.log(msg);
      expect(we.mean, msg).toBeGreaterThan(0);
      expect(we.se / we.mean, msg).toBeLessThanOrEqual(0.5);
      expect(Math.abs(we.mean - bf.mean), msg).toBeLessThan(3 * Math.hypot(we.se, bf.se));
    });
  }, 900_000);
});
