/**
 * What travels through Redis: one job per segment, its result back. Declared once here, as schemas; the
 * sim-manager validates results and the worker validates payloads with the same ones, so a version skew
 * between the two ends is a clear error rather than a half-read object.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { SegmentResult, SegmentTask } from '@westream/propagator';

// The domain's BasisState and InitialState (@westream/we states.ts) on the wire; the Same<> checks below keep them equal.
const BasisStateSchema = Type.Object({ id: Type.Integer(), label: Type.String(), probability: Type.Number(), auxref: Type.String() });
const InitialStateSchema = Type.Object({
  id: Type.Integer(),
  iterCreated: Type.Integer(),
  iterUsed: Type.Integer(),
  basisStateId: Type.Integer(),
  type: Type.Integer(),
  status: Type.Integer(),
  basisAuxref: Type.String(),
});

export const SegmentTaskSchema = Type.Object({
  nIter: Type.Integer({ minimum: 1 }),
  segId: Type.Integer({ minimum: 0 }),
  weight: Type.Number(),
  parentId: Type.Integer(),
  istate: Type.Union([InitialStateSchema, Type.Null()]),
  bstate: Type.Union([BasisStateSchema, Type.Null()]),
  attempt: Type.Integer({ minimum: 0 }),
  initPcoord: Type.Optional(Type.Array(Type.Number())),
});

export const SegmentJobSchema = Type.Object({
  /** Names the run: job ids start with it, so two runs can share one Redis. */
  runId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
  /** WEST_SIM_ROOT: a path every node sees (a shared file system, as WESTPA assumes). */
  simRoot: Type.String({ minLength: 1 }),
  /** The config file, absolute; the worker loads it itself. */
  config: Type.String({ minLength: 1 }),
  /** The run seed, decimal (WEST_RAND* derive from it). */
  seed: Type.String({ pattern: '^[0-9]+$' }),
  task: SegmentTaskSchema,
});

export const SegmentResultSchema = Type.Object({
  nIter: Type.Integer(),
  segId: Type.Integer(),
  attempt: Type.Integer(),
  status: Type.Union([Type.Literal('complete'), Type.Literal('failed'), Type.Literal('cancelled')]),
  pcoord: Type.Array(Type.Number()),
  auxdata: Type.Record(Type.String(), Type.Object({ shape: Type.Array(Type.Integer()), data: Type.Array(Type.Number()) })),
  cputime: Type.Number(),
  walltime: Type.Number(),
  reason: Type.Union([Type.String(), Type.Null()]),
  log: Type.Union([Type.String(), Type.Null()]),
  node: Type.String(),
  stagedDir: Type.Optional(Type.Object({ path: Type.String(), final: Type.String() })),
});

/**
 * A segment's stream analysis, on the queue of the node whose engine serves the stream. The node's own daemon
 * runs it (it holds the engine); the payload says which segment and port, for people reading the queue.
 */
export const StreamJobSchema = Type.Object({
  segment: Type.String({ minLength: 1 }),
  node: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
});

export type SegmentJob = Static<typeof SegmentJobSchema>;
export type StreamJob = Static<typeof StreamJobSchema>;

// The schemas and the runner's types must describe the same objects: these fail to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const taskMatches: Same<Static<typeof SegmentTaskSchema>, SegmentTask> = true;
const resultMatches: Same<Static<typeof SegmentResultSchema>, SegmentResult> = true;
void taskMatches;
void resultMatches;

const jobCheck = TypeCompiler.Compile(SegmentJobSchema);
const resultCheck = TypeCompiler.Compile(SegmentResultSchema);

function firstError(errors: Iterable<{ path: string; message: string }>): string {
  for (const e of errors) return `${e.path || '(root)'}: ${e.message}`;
  return 'invalid';
}

/** The payload, checked; throws naming the job and the first wrong field. */
export function readSegmentJob(jobId: string, data: unknown): SegmentJob {
  if (!jobCheck.Check(data))
    throw new Error(
      `job ${jobId}: payload does not match this westream's segment job schema (${firstError(jobCheck.Errors(data))}); are the sim-manager and the worker the same version?`,
    );
  return data;
}

/** A worker's result, checked; throws naming the job and the first wrong field. */
export function readSegmentResult(jobId: string, data: unknown): SegmentResult {
  if (!resultCheck.Check(data))
    throw new Error(
      `job ${jobId}: result does not match this westream's segment result schema (${firstError(resultCheck.Errors(data))}); are the sim-manager and the worker the same version?`,
    );
  return data;
}

/** `<run-id>-i<iter>-s<seg>`: deterministic, so a re-enqueue after a crash is recognised as the same segment. */
export function segmentJobId(runId: string, t: Pick<SegmentTask, 'nIter' | 'segId'>): string {
  return `${runId}-i${t.nIter}-s${t.segId}`;
}

export const SEGMENT_QUEUE = 'segments';
export const QUEUE_PREFIX = 'westream';
/**
 * Node queues: BullMQ forbids ':' in queue names, so node `A`'s queue is named `A` under this prefix, and its
 * Redis keys read `westream:node:A:…` — the `node:<node-id>` queue of the design.
 */
export const NODE_QUEUE_PREFIX = `${QUEUE_PREFIX}:node`;
/** A hash: node id → its last heartbeat (JSON), kept after the node dies, so dead nodes' queues get swept. */
export const NODES_KEY = `${QUEUE_PREFIX}:nodes`;
/** A node's heartbeat, with a TTL: present while its daemon lives. */
export const HEARTBEAT_KEY = (nodeId: string): string => `${QUEUE_PREFIX}:worker:${nodeId}`;

/** What a worker daemon says about itself in its heartbeat. */
export const WorkerInfoSchema = Type.Object({
  node: Type.String(),
  slots: Type.Integer(),
  gpus: Type.Array(Type.String()),
  pid: Type.Integer(),
  running: Type.Array(Type.String()),
  draining: Type.Boolean(),
  lockDurationMs: Type.Integer(),
  /** ISO time of this heartbeat. */
  at: Type.String(),
});
export type WorkerInfo = Static<typeof WorkerInfoSchema>;
const workerInfoCheck = TypeCompiler.Compile(WorkerInfoSchema);

/** A heartbeat read back; null when it is not one (another version's, or garbage). */
export function readWorkerInfo(json: string | null): WorkerInfo | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return workerInfoCheck.Check(v) ? v : null;
  } catch {
    return null;
  }
}
