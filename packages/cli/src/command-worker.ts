/**
 * `westream worker`: the daemon a cluster node runs for the bullmq work manager. It runs until stopped: the
 * first SIGTERM/SIGINT drains (running segments finish, no new ones start), a second kills the running
 * segments' process groups and leaves their jobs for another node.
 */
import { availableParallelism, homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { WorkerDaemon } from '@westream/work-manager';
import { WORK_MANAGER_DEFAULTS } from '@westream/work-manager/defaults';
import { UsageError } from './exit-codes.js';

export interface WorkerArgs {
  readonly redis: string | undefined;
  readonly nodeId: string | undefined;
  readonly slots: string | undefined;
  readonly gpus: string | undefined;
  readonly stateDir: string | undefined;
  readonly lockDuration: string | undefined;
  readonly heartbeat: string | undefined;
}

export async function commandWorker(a: WorkerArgs): Promise<number> {
  const redisUrl = a.redis ?? process.env.WESTREAM_REDIS ?? 'redis://127.0.0.1:6379';
  const nodeId = a.nodeId ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(nodeId)) throw new UsageError(`--node-id '${nodeId}': use letters, digits, '.', '_' and '-'`);
  const gpus = a.gpus === undefined ? undefined : a.gpus.split(',').map((g) => g.trim());
  if (gpus && gpus.some((g) => !/^[A-Za-z0-9-]+$/.test(g)))
    throw new UsageError(`--gpus '${a.gpus}': expected device indices or UUIDs separated by commas, e.g. --gpus 0,1`);
  // One slot per GPU unless told otherwise: a segment per device, as WESTPA users pin with WM_PROCESS_INDEX.
  const slots = a.slots === undefined ? (gpus?.length ?? availableParallelism()) : Number(a.slots);
  if (!Number.isInteger(slots) || slots < 1) throw new UsageError(`--slots '${a.slots}': expected a positive integer`);
  if (gpus && gpus.length !== slots)
    throw new UsageError(`--gpus '${a.gpus}' names ${gpus.length} device(s) for ${slots} slot(s): give one GPU per slot (or leave --slots out)`);
  if (gpus && new Set(gpus).size !== gpus.length) throw new UsageError(`--gpus '${a.gpus}' names a device twice: give each slot its own GPU`);
  const lock = a.lockDuration === undefined ? WORK_MANAGER_DEFAULTS.lockDurationMs / 1000 : Number(a.lockDuration);
  if (!(lock >= 1)) throw new UsageError(`--lock-duration '${a.lockDuration}': expected seconds ≥ 1`);
  const beat = a.heartbeat === undefined ? WORK_MANAGER_DEFAULTS.heartbeatMs / 1000 : Number(a.heartbeat);
  if (!(beat >= 0.1)) throw new UsageError(`--heartbeat '${a.heartbeat}': expected seconds ≥ 0.1`);
  const stateDir = a.stateDir ?? join(homedir(), '.westream', `worker-${nodeId}`);
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${nodeId} ${line}\n`);
  let daemon: WorkerDaemon;
  try {
    daemon = await WorkerDaemon.start({
      redisUrl,
      nodeId,
      slots,
      ...(gpus ? { gpus } : {}),
      stateDir,
      lockDurationMs: lock * 1000,
      heartbeatMs: beat * 1000,
      log,
    });
  } catch (e) {
    throw new UsageError(`westream worker: ${(e as Error).message}`);
  }
  for (const line of daemon.startReport) log(line);
  log(`ready: ${slots} slot(s)${gpus ? ` on GPU(s) ${gpus.join(',')}` : ''}, Redis ${redisUrl}, state in ${stateDir}`);
  return new Promise((resolve) => {
    let signals = 0;
    const stop = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log(`${sig}: draining (running segments finish; a second ${sig} kills them)`);
        void daemon.drain().then(() => {
          if (signals === 1) resolve(0);
        });
      } else if (signals === 2) {
        log(`${sig}: killing running segments; their jobs go to other nodes`);
        void daemon.kill().then(() => resolve(130));
      }
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
