/** Messages between a runner and its launcher process. */
export interface LaunchRequest {
  readonly id: number;
  readonly executable: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The child's environment; through the launcher, only what differs from the launcher's base environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string | null;
  readonly stdout: string | null;
  readonly stderr: string | null;
  /**
   * Segments: wait in the launcher's queue while `limit` queued children run, and start the moment one
   * exits, without a round trip to the parent (which prepares the next segments ahead).
   */
  readonly queued?: boolean;
}

/** Control: how many queued children may run at once; or drop a request still waiting in the queue. */
export type LaunchControl = { readonly queueLimit: number; readonly ack?: number } | { readonly cancel: number };

export type LaunchReply =
  | { readonly id: number; readonly kind: 'spawned'; readonly pid: number }
  | { readonly id: number; readonly kind: 'error'; readonly code: string }
  | { readonly id: number; readonly kind: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  /** A queueLimit with `ack` was applied (nothing queued starts beyond it from now on). */
  | { readonly id: number; readonly kind: 'ack' };

/** Sent once when the launcher starts: the environment every request's `env` is laid over. */
export interface LaunchBase {
  readonly base: Readonly<Record<string, string>>;
}
