/**
 * Starts the REST API in its own thread and connects it to the run: every event of the loop goes to the
 * thread, every pause/resume/stop comes back. `close` ends the thread (forcibly after a deadline).
 */
import { Worker } from 'node:worker_threads';
import type { RunMonitor } from '../live/run-monitor.js';
import type { ApiThreadData, FromApi, ToApi } from './api-messages.js';

export type ApiOptions = ApiThreadData & { readonly monitor: RunMonitor };

export interface RunningApi {
  /** The URL once the API listens; rejects with ApiStartError if it cannot. */
  readonly ready: Promise<string>;
  close(): Promise<void>;
}

/** The API could not start (a port in use, an address this machine lacks). */
export class ApiStartError extends Error {
  readonly code = 'API_ERR_START';
  constructor(
    message: string,
    /** The socket error's code (EADDRINUSE…), when there is one. */
    readonly errno: string | null,
  ) {
    super(message);
  }
}

/**
 * Starts the thread and returns at once: the run need not wait for fastify to load (events sent before the
 * API listens are queued to the thread and applied in order).
 */
export function startApi(o: ApiOptions): RunningApi {
  const { monitor, ...data } = o;
  const thread = new Worker(new URL('./api-thread.js', import.meta.url), { workerData: data satisfies ApiThreadData });
  const send = (m: ToApi): void => thread.postMessage(m);
  monitor.onEvent((event) => send({ type: 'event', event }));
  // The run may have begun before the thread listens: it starts from what the loop has said so far.
  send({
    type: 'event',
    event: {
      type: 'run-started',
      data: { nIter: monitor.view.nIter, lastIter: monitor.view.lastIter, workManager: monitor.view.workManager, startedAt: monitor.view.startedAt },
    },
  });
  const exited = new Promise<void>((r) => thread.once('exit', () => r()));
  const ready = new Promise<string>((resolve, reject) => {
    thread.on('message', (m: FromApi) => {
      if (m.type === 'listening') resolve(m.url);
      else if (m.type === 'failed') reject(new ApiStartError(m.message, m.code));
      else if (m.type === 'control') {
        monitor.request(m.what);
        send({ type: 'ack', id: m.id });
      }
    });
    thread.once('error', (e) => reject(new ApiStartError(e.message, null)));
    void exited.then(() => reject(new ApiStartError('the API thread ended before it listened', null)));
  });
  ready.catch(() => undefined); // the caller reports it; never an unhandled rejection
  // Not unref'd: a run paused through the API waits on nothing else, and must stay up to be resumed.
  return {
    ready,
    async close() {
      send({ type: 'close' });
      const t = setTimeout(() => void thread.terminate(), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
