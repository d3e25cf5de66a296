/**
 * The work managers' timing defaults, in one place: the worker daemon, the BullMQ work manager and the CLI's
 * help all read them from here (a subpath export, so `westream --help` does not load BullMQ).
 */
export const WORK_MANAGER_DEFAULTS = {
  /** A job stays locked this long without renewal before another node may take it (BullMQ lockDuration). */
  lockDurationMs: 30_000,
  /** Between a daemon's heartbeats; the heartbeat key lives three of them. */
  heartbeatMs: 5_000,
  /** Between the sim-manager's sweeps of dead nodes' queues; also BullMQ's stalled-check interval cap. */
  sweepMs: 10_000,
  /** Between the sim-manager's reconciliations of pending segments with Redis. */
  reconcileMs: 2_000,
  /** Quiet time before the sim-manager looks again for segments nobody is running. */
  idleCheckMs: 60_000,
} as const;
