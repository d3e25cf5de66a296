/**
 * The REST API's thread. The sim-manager's main thread runs the loop (resampling, HDF5 commits: work that
 * holds its event loop for tens of milliseconds); here the API answers regardless. It keeps a RunView from the
 * events the main thread posts, reads west.h5 and Redis on its own handles, and posts pause/resume/stop back.
 */
import { hostname } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { QueueObserver } from '@westream/work-manager';
import { RunView, type ControlRequest } from '../live/run-view.js';
import { listenApi } from './api-app.js';
import type { ApiThreadData, FromApi, ToApi } from './api-messages.js';
import type { WorkerView } from './api-schemas.js';

const data = workerData as ApiThreadData;
const port = parentPort;
if (!port) throw new Error('api-thread.ts runs as a worker thread of the sim-manager');

let nextId = 0;
const acks = new Map<number, () => void>();
const post = (m: FromApi): void => port.postMessage(m);
const view = new RunView(
  (what: ControlRequest) =>
    new Promise<void>((resolve) => {
      const id = nextId++;
      acks.set(id, resolve);
      post({ type: 'control', id, what });
    }),
);
port.on('message', (m: ToApi) => {
  if (m.type === 'event') view.apply(m.event);
  else if (m.type === 'ack') {
    acks.get(m.id)?.();
    acks.delete(m.id);
  } else if (m.type === 'close') void close();
});

const { config } = data;
const observer = data.redisUrl ? QueueObserver.connect(data.redisUrl) : undefined;
/** The workers /workers lists: the registry (BullMQ), this machine (local), or none (westream serve: no run). */
const thisMachine = (): Promise<WorkerView[]> =>
  Promise.resolve([
    {
      node: hostname(),
      alive: true,
      slots: data.localSlots,
      gpus: [],
      running: [...view.segments].filter(([, s]) => s.status === 'running').map(([id]) => `${data.runId}-i${view.nIter}-s${id}`),
      draining: false,
      lastHeartbeat: new Date().toISOString(),
    },
  ]);
const workers = observer
  ? async () =>
      (await observer.workers()).map((w) => ({
        node: w.node,
        alive: w.alive,
        slots: w.slots,
        gpus: w.gpus,
        running: w.running,
        draining: w.draining,
        lastHeartbeat: w.at,
      }))
  : data.localSlots === 0
    ? () => Promise.resolve([])
    : thisMachine;

const started = listenApi({
  host: data.host,
  port: data.port,
  token: data.token,
  monitor: view,
  config,
  simRoot: data.simRoot,
  westH5: data.westH5,
  runId: data.runId,
  workers,
  ...(observer ? { queueCounts: () => observer.jobCounts(), queues: () => observer.queues() } : {}),
});

let closing: Promise<void> | undefined;
/** Ends the thread, also when asked while the API is still starting (a run shorter than fastify's load). */
function close(): Promise<void> {
  closing ??= (async () => {
    const api = await started.catch(() => undefined);
    await api?.app.close();
    await observer?.close();
    post({ type: 'closed' });
    port?.close();
  })();
  return closing;
}

try {
  post({ type: 'listening', url: (await started).url });
} catch (e) {
  post({ type: 'failed', message: (e as Error).message, code: (e as NodeJS.ErrnoException).code ?? null });
  await close();
}
