/**
 * `westream serve`: the REST API and dashboard on a run's record, with no run: a finished or halted run, or one
 * copied from the cluster, browsed as it was live. west.h5 is opened read-only (a run writing it meanwhile is
 * left alone); nothing can be paused or stopped. Ctrl-C ends it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '@westream/config';
import { parseApiAddress, RunMonitor, simPaths, type Reporter } from '@westream/sim-manager';
import { recycledOf, WestH5 } from '@westream/store';
import { SegStatus } from '@westream/we';
import { UsageError } from './exit-codes.js';
import { runIdOf } from './run-id.js';

export interface ServeArgs {
  readonly config: string;
  readonly api: string | undefined;
}

/** Says nothing: serve has no loop to report on. */
const quiet: Reporter = {
  runStarted() {},
  iterationStarted() {},
  segmentStarted() {},
  segmentFinished() {},
  iterationFinished() {},
  warn() {},
  info() {},
  close() {},
};

export async function commandServe(a: ServeArgs, out: NodeJS.WritableStream): Promise<void> {
  const { config } = loadConfig(a.config);
  let address: { host: string; port: number } | null;
  try {
    address = parseApiAddress(a.api ?? process.env.WESTREAM_API ?? '127.0.0.1:8080');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!address) throw new UsageError('westream serve: --api off leaves nothing to serve; give HOST:PORT, a port, or 0');
  const simRoot = process.cwd();
  const paths = simPaths(config, simRoot);
  if (!existsSync(paths.westH5))
    throw new UsageError(`westream serve: ${paths.westH5} does not exist; run 'westream init' and 'westream run' first, or serve from the sim root of a run`);
  const store = await WestH5.open(paths.westH5, { readOnly: true });

  // The API thread hears the events sent from here on (the replay below), as it would a live run's.
  const monitor = new RunMonitor(quiet);
  const { startApi } = await import('@westream/sim-manager/api');
  const api = startApi({
    ...address,
    token: randomBytes(18).toString('base64url'), // nobody needs it: a record cannot be changed
    monitor,
    config: { ...config, file: resolve(config.file) },
    simRoot,
    westH5: paths.westH5,
    runId: runIdOf(config.westream.runId, simRoot),
    redisUrl: null,
    localSlots: 0,
  });
  // The view a live run would have built: its current iteration, which of that iteration's segments are
  // recorded complete, and the last finished iteration with its recycled weight.
  const n = store.currentIteration;
  monitor.runStarted({ nIter: n, lastIter: config.propagation.maxTotalIterations, westH5: paths.westH5, workManager: 'none (westream serve)' });
  const current = await store.readIteration(n);
  monitor.iterationStarted(n, current.nSegs, current.status.filter((s) => s !== SegStatus.COMPLETE).length);
  if (n > 1) {
    const last = await store.readIteration(n - 1);
    const summary = (await store.readSummary()).find((r) => r.nIter === n - 1);
    monitor.iterationFinished({ nIter: n - 1, nSegs: last.nSegs, walltime: summary?.walltime ?? 0, ...recycledOf(last), nextSegs: current.nSegs, rssMB: 0 });
  }
  monitor.recorded();

  let url: string;
  try {
    url = await api.ready;
  } catch (e) {
    await api.close();
    const errno = (e as { errno?: string | null }).errno;
    throw new UsageError(
      `westream serve: ${errno === 'EADDRINUSE' ? `${address.host}:${address.port} is in use (a run's own API?); pass --api HOST:PORT or --api 0` : (e as Error).message}`,
    );
  }
  out.write(`REST API on ${url} (dashboard ${url}/, docs ${url}/docs): the record of ${paths.westH5}, iteration ${n}; Ctrl-C ends it\n`);
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await api.close();
}
