/** What the sim-manager's main thread and the API's thread say to each other. */
import type { WestConfig } from '@westream/config';
import type { ControlRequest, RunEvent } from '../live/run-view.js';

export interface ApiThreadData {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /**
   * The run's compiled config, cloned into the thread: loading the file again there would start the user's
   * Python system a second time (0.4 s of a core at every start-up).
   */
  readonly config: WestConfig;
  readonly simRoot: string;
  readonly westH5: string;
  readonly runId: string;
  /** BullMQ mode: where the registry and the queue are. */
  readonly redisUrl: string | null;
  /** Local mode: this machine's slots; 0: no run, no workers (westream serve). */
  readonly localSlots: number;
}

/** Main → API thread. */
export type ToApi = { readonly type: 'event'; readonly event: RunEvent } | { readonly type: 'ack'; readonly id: number } | { readonly type: 'close' };

/** API thread → main. */
export type FromApi =
  | { readonly type: 'listening'; readonly url: string }
  | { readonly type: 'failed'; readonly message: string; readonly code: string | null }
  | { readonly type: 'control'; readonly id: number; readonly what: ControlRequest }
  | { readonly type: 'closed' };
