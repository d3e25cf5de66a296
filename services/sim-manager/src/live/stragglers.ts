/**
 * Stragglers: segments running far longer than their iteration's others. westream, like WESTPA, sets no
 * wall-time limit on a segment unless told (segment_timeout): a long one may be an honest slow trajectory. A
 * hung one would stall the run silently, so it is named instead — in /status, on the dashboard and in a log
 * line — once it has run both `minSeconds` and FACTOR × the median wall time of the iteration's completed
 * segments (at least MIN_COMPLETED of them, so that the median means something).
 */
export const STRAGGLER_FACTOR = 5;
export const MIN_COMPLETED = 3;

export interface Straggler {
  readonly nIter: number;
  readonly segId: number;
  /** Seconds it has been running. */
  readonly runningFor: number;
  /** Median wall time (s) of the iteration's completed segments, and how many there are. */
  readonly medianWalltime: number;
  readonly completed: number;
}

export interface TimedSegment {
  readonly status: string;
  readonly walltime: number | null;
  /** ms since the epoch when it started (running ones). */
  readonly startedAt: number | null;
}

export function findStragglers(nIter: number, segments: ReadonlyMap<number, TimedSegment>, minSeconds: number, now = Date.now()): Straggler[] {
  const times: number[] = [];
  for (const s of segments.values()) if (s.status === 'complete' && s.walltime !== null) times.push(s.walltime);
  if (times.length < MIN_COMPLETED) return [];
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? (times[mid] as number) : ((times[mid - 1] as number) + (times[mid] as number)) / 2;
  const limit = Math.max(minSeconds, STRAGGLER_FACTOR * median);
  const out: Straggler[] = [];
  for (const [segId, s] of segments) {
    if (s.status !== 'running' || s.startedAt === null) continue;
    const runningFor = (now - s.startedAt) / 1000;
    if (runningFor > limit) out.push({ nIter, segId, runningFor, medianWalltime: median, completed: times.length });
  }
  return out.sort((a, b) => b.runningFor - a.runningFor);
}

/** The log line for a straggler; `timeout` is segment_timeout (null: none). */
export function describeStraggler(s: Straggler, timeout: number | null): string {
  const fmt = (x: number): string => (x >= 120 ? `${(x / 60).toFixed(1)} min` : `${x.toFixed(1)} s`);
  const then =
    timeout === null
      ? 'no segment_timeout is set, so a hung segment waits forever: look at its log (GET /iterations/N/segments/ID/log), and kill its engine to have it retried, or set west.westream.segment_timeout'
      : `it is killed at segment_timeout (${timeout} s)`;
  return `straggler: segment ${s.segId} of iteration ${s.nIter} has been running ${fmt(s.runningFor)}, over ${STRAGGLER_FACTOR}× the median ${fmt(s.medianWalltime)} of the ${s.completed} completed segments of its iteration; ${then}`;
}
