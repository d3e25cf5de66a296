/** `westream run`: WESTPA's w_run — iterate until max_total_iterations, the wall-clock limit or a stop. */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, statSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '@westream/config';
import { removeStaleReturnDirs, SegmentRunner } from '@westream/propagator';
import { makeReporter, parseApiAddress, RunMonitor, runSimulation, simPaths, type RunningApi, type RunSummary } from '@westream/sim-manager';
import { WestH5 } from '@westream/store';
import type { BullmqWorkManager, WorkManager } from '@westream/work-manager';
// The local work manager alone: BullMQ and ioredis (a fifth of a local run's start-up) load only for a BullMQ run.
import { LocalWorkManager } from '@westream/work-manager/local';
import { writeApiTokenFile } from './api-token-file.js';
import { givenApiToken } from './api-token-source.js';
import { UsageError } from './exit-codes.js';
import { lockSimRoot } from './sim-root-lock.js';
import { runIdOf } from './run-id.js';

export interface RunArgs {
  readonly config: string;
  readonly workManager: string | undefined;
  readonly slots: string | undefined;
  readonly redis: string | undefined;
  readonly api: string | undefined;
  /** A file holding the API token (the token itself never comes from the command line). */
  readonly apiTokenFile: string | undefined;
  readonly logFormat: string | undefined;
  readonly logFile: string | undefined;
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
  const given = givenApiToken(a.apiTokenFile); // checked even with --api off: a wrong flag is a mistake either way
  if (a.logFormat !== undefined && a.logFormat !== 'json' && a.logFormat !== 'pretty')
    throw new UsageError(`--log-format ${a.logFormat}: expected pretty or json`);
  let logStream: WriteStream | undefined;
  if (a.logFile !== undefined) {
    const file = resolve(a.logFile);
    if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`--log-file ${a.logFile}: is a directory; give a file name`);
    mkdirSync(dirname(file), { recursive: true });
    logStream = createWriteStream(file, { flags: 'a' });
  }
  const simRoot = process.cwd();
  const paths = simPaths(config, simRoot);
  const registry = lockSimRoot(paths.stateDir, simRoot, 'run');
  let store: WestH5;
  try {
    store = await WestH5.open(paths.westH5);
  } catch (e) {
    registry.close();
    throw e;
  }
  const tty = process.stderr.isTTY === true;
  const reporter = new RunMonitor(
    makeReporter({ tty, stream: tty ? process.stderr : process.stdout, ...(a.logFormat ? { format: a.logFormat } : {}), ...(logStream ? { logStream } : {}) }),
    {
      stragglerSeconds: config.westream.stragglerSeconds,
      segmentTimeout: config.westream.segmentTimeout,
    },
  );
  for (const w of warnings) reporter.warn(w.message);
  registry.reapOrphans();
  for (const line of registry.describeReaped('westream run')) reporter.warn(line);
  const stale = removeStaleReturnDirs();
  if (stale.length > 0) reporter.info(`removed ${stale.length} return-file directory(ies) of westream processes that died: ${stale.join(', ')}`);
  const runner = new SegmentRunner({ config, simRoot, seed: store.meta.seed, registry });
  const runId = runIdOf(config.westream.runId, simRoot);
  const redisUrl = a.redis ?? config.westream.redisUrl;
  let workManager: WorkManager;
  let bull: BullmqWorkManager | undefined;
  if (wmName === 'bullmq') {
    try {
      workManager = bull = await (
        await import('@westream/work-manager')
      ).BullmqWorkManager.connect({ redisUrl, runId, simRoot, config: resolve(config.file), seed: store.meta.seed });
    } catch (e) {
      runner.close();
      registry.close();
      throw new UsageError(`--work-manager bullmq: ${(e as Error).message}`);
    }
  } else workManager = new LocalWorkManager(runner, slots);
  let api: RunningApi | undefined;
  if (apiAddress) {
    const token = given?.token ?? randomBytes(18).toString('base64url');
    const { startApi } = await import('@westream/sim-manager/api');
    api = startApi({
      ...apiAddress,
      token,
      monitor: reporter,
      config: { ...config, file: resolve(config.file) },
      simRoot,
      westH5: paths.westH5,
      runId,
      redisUrl: bull ? redisUrl : null,
      localSlots: (workManager as LocalWorkManager).slots ?? 1,
    });
    let where = given?.where ?? '';
    if (!given) {
      // Only the run's owner can read it: the token lets its holder pause or stop the run.
      const file = join(paths.stateDir, 'api-token');
      try {
        writeApiTokenFile(file, token);
      } catch (e) {
        await api.close();
        reporter.close();
        await workManager.close();
        throw e;
      }
      where = `in ${file}`;
    }
    const address = apiAddress;
    // The run starts while the API loads beside it.
    void api.ready.then(
      (url) => reporter.info(`REST API on ${url} (docs ${url}/docs); the token to pause or stop the run is ${where}`),
      (e: Error & { errno?: string | null }) =>
        reporter.warn(
          `REST API not started: ${e.errno === 'EADDRINUSE' ? `${address.host}:${address.port} is in use` : e.message}; the run goes on without it (pass --api HOST:PORT, or --api off)`,
        ),
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
    if (logStream) await new Promise<void>((done) => logStream.end(done));
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await workManager.close();
    runner.close();
    registry.close();
  }
}
