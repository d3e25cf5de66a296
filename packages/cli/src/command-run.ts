/** `westream run`: WESTPA's w_run — iterate until max_total_iterations, the wall-clock limit or a stop. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '@westream/config';
import { ProcessRegistry, SegmentRunner } from '@westream/propagator';
import { makeReporter, parseApiAddress, RunMonitor, runSimulation, simPaths, type RunningApi, type RunSummary } from '@westream/sim-manager';
import { WestH5 } from '@westream/store';
import { BullmqWorkManager, LocalWorkManager, type WorkManager } from '@westream/work-manager';
import { UsageError } from './exit-codes.js';
import { runIdOf } from './run-id.js';

export interface RunArgs {
  readonly config: string;
  readonly workManager: string | undefined;
  readonly slots: string | undefined;
  readonly redis: string | undefined;
  readonly api: string | undefined;
  readonly apiToken: string | undefined;
}

/** The run's id in Redis: west.westream.run_id, else one derived from the sim root (stable across restarts). */
export async function commandRun(a: RunArgs): Promise<RunSummary> {
  const { config, warnings } = loadConfig(a.config);
  const wmName = a.workManager ?? process.env.WM_WORK_MANAGER ?? config.westream.workManager;
  if (wmName !== 'local' && wmName !== 'bullmq') throw new UsageError(`--work-manager ${wmName}: expected local or bullmq`);
  const slots = a.slots === undefined ? config.westream.slots : Number(a.slots);
  if (slots !== null && (!Number.isInteger(slots) || slots < 1)) throw new UsageError(`--slots '${a.slots}': expected a positive integer`);
  let apiAddress: { host: string; port: number } | null;
  try {
    apiAddress = parseApiAddress(a.api ?? process.env.WESTREAM_API ?? '127.0.0.1:8080');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const simRoot = process.cwd();
  const paths = simPaths(config, simRoot);
  const store = await WestH5.open(paths.westH5);
  const registry = new ProcessRegistry(join(paths.stateDir, 'pgids'));
  const reporter = new RunMonitor(makeReporter({ tty: process.stderr.isTTY === true, stream: process.stderr.isTTY ? process.stderr : process.stdout }));
  for (const w of warnings) reporter.warn(w.message);
  const orphans = registry.reapOrphans();
  if (orphans.length > 0) reporter.warn(`killed ${orphans.length} process(es) left running by an earlier westream run that was killed (pids ${orphans.join(', ')})`);
  const runner = new SegmentRunner({ config, simRoot, seed: store.meta.seed, registry });
  const runId = runIdOf(config.westream.runId, simRoot);
  const redisUrl = a.redis ?? config.westream.redisUrl;
  let workManager: WorkManager;
  let bull: BullmqWorkManager | undefined;
  if (wmName === 'bullmq') {
    try {
      workManager = bull = await BullmqWorkManager.connect({ redisUrl, runId, simRoot, config: resolve(config.file), seed: store.meta.seed });
    } catch (e) {
      runner.close();
      registry.close();
      throw new UsageError(`--work-manager bullmq: ${(e as Error).message}`);
    }
  } else workManager = new LocalWorkManager(runner, slots);
  let api: RunningApi | undefined;
  if (apiAddress) {
    const token = a.apiToken ?? process.env.WESTREAM_API_TOKEN ?? randomBytes(18).toString('base64url');
    const { startApi } = await import('@westream/sim-manager/api');
    api = startApi({
      ...apiAddress,
      token,
      monitor: reporter,
      configFile: resolve(config.file),
      simRoot,
      westH5: paths.westH5,
      runId,
      redisUrl: bull ? redisUrl : null,
      localSlots: (workManager as LocalWorkManager).slots ?? 1,
    });
    let where = 'from --api-token / WESTREAM_API_TOKEN';
    if (!a.apiToken && !process.env.WESTREAM_API_TOKEN) {
      // Only the run's owner can read it: the token lets its holder pause or stop the run.
      mkdirSync(paths.stateDir, { recursive: true });
      const file = join(paths.stateDir, 'api-token');
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      where = `in ${file}`;
    }
    const address = apiAddress;
    // The run starts while the API loads beside it.
    void api.ready.then(
      (url) => reporter.info(`REST API on ${url} (docs ${url}/docs); the token to pause or stop the run is ${where}`),
      (e: Error & { code?: string | null }) =>
        reporter.warn(`REST API not started: ${e.code === 'EADDRINUSE' ? `${address.host}:${address.port} is in use` : e.message}; the run goes on without it (pass --api HOST:PORT, or --api off)`),
    );
  }
  const ac = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) return;
    reporter.info(`${sig}: stopping; running segments are killed, completed ones are kept. 'westream run' resumes.`);
    ac.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    // A Python propagator's helpers (one per local slot; one for gen_istate when workers propagate): a broken
    // set-up is an exit-2 error before anything runs.
    if (!bull) runner.python?.setSlots((workManager as LocalWorkManager).slots);
    await runner.prepare();
    const summary = await runSimulation({ config, simRoot, workManager, runner, reporter, signal: ac.signal, control: reporter });
    reporter.finished(true);
    const why = { max_total_iterations: 'reached max_total_iterations', max_run_wallclock: 'max_run_wallclock is near', stopped: 'stopped' }[summary.reason];
    reporter.info(`${why}: ${summary.iterationsRun} iteration(s) run; next iteration ${summary.currentIteration}; record in ${summary.westH5}`);
    return summary;
  } catch (e) {
    reporter.finished(false);
    throw e;
  } finally {
    await api?.close();
    reporter.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await workManager.close();
    runner.close();
    registry.close();
  }
}
