/** The REST API's boundary: every request and response shape, declared once; the types derive from them. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

// Responses are serialized by fast-json-stringify, which resolves an anyOf by validating the value against
// each branch, on every response. A nullable type list or an enum says the same thing without that cost.

/** `schema` or null, as a JSON-schema type list. */
function nullable<T extends TSchema>(schema: T, o: Record<string, unknown> = {}) {
  return Type.Unsafe<Static<T> | null>({ ...schema, ...o, type: [schema.type as string, 'null'] });
}

/** One of these strings. */
function oneOf<T extends string>(values: readonly T[], o: Record<string, unknown> = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: values, ...o });
}

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() }, { $id: 'Error' });

const Counts = Type.Object({ total: Type.Integer(), pending: Type.Integer(), running: Type.Integer(), complete: Type.Integer(), failed: Type.Integer() });

export const Worker = Type.Object({
  node: Type.String(),
  alive: Type.Boolean(),
  slots: Type.Integer(),
  gpus: Type.Array(Type.String()),
  running: Type.Array(Type.String()),
  draining: Type.Boolean(),
  lastHeartbeat: Type.String({ description: 'ISO time' }),
});
export type WorkerView = Static<typeof Worker>;

export const IterationSummary = Type.Object({
  nIter: Type.Integer(),
  nParticles: Type.Integer(),
  norm: Type.Number(),
  minBinProb: Type.Number(),
  maxBinProb: Type.Number(),
  minSegProb: Type.Number(),
  maxSegProb: Type.Number(),
  cputime: Type.Number(),
  walltime: Type.Number(),
  complete: Type.Boolean({ description: 'false for the iteration being propagated' }),
});

export const Status = Type.Object({
  runId: Type.String(),
  config: Type.String({ description: 'the config file' }),
  westH5: Type.String(),
  workManager: Type.String(),
  state: oneOf(['initializing', 'running', 'paused', 'stopping', 'done', 'failed', 'recorded'] as const),
  requested: Type.Unsafe<'pause' | 'stop' | null>({
    type: ['string', 'null'],
    enum: ['pause', 'stop', null],
    description: 'asked for, takes effect at the end of the iteration',
  }),
  currentIteration: Type.Integer(),
  maxTotalIterations: nullable(Type.Integer()),
  segments: Counts,
  workers: Type.Array(Worker),
  elapsed: Type.Number({ description: 'seconds since this sim-manager started' }),
  eta: nullable(Type.Number(), { description: 'seconds to max_total_iterations, from recent iterations' }),
  lastIteration: nullable(
    Type.Object({
      nIter: Type.Integer(),
      nSegs: Type.Integer(),
      walltime: Type.Number(),
      nRecycled: Type.Integer(),
      recycledWeight: Type.Number(),
      nextSegs: Type.Integer(),
    }),
  ),
  stragglers: Type.Array(
    Type.Object({
      nIter: Type.Integer(),
      segId: Type.Integer(),
      runningFor: Type.Number({ description: 'seconds' }),
      medianWalltime: Type.Number({ description: "seconds: the median of its iteration's completed segments" }),
      completed: Type.Integer(),
    }),
    {
      description:
        'running segments of the current iteration past straggler_seconds and 5× the median of its completed ones (longest first); none is killed for it',
    },
  ),
});
export type StatusBody = Static<typeof Status>;

export const IterParams = Type.Object({ n: Type.Integer({ minimum: 1, maximum: 1e9 }) });
export const SegParams = Type.Object({ n: Type.Integer({ minimum: 1, maximum: 1e9 }), id: Type.Integer({ minimum: 0, maximum: 1e9 }) });

export const Bin = Type.Object({ bin: Type.Integer(), label: Type.String(), count: Type.Integer(), weight: Type.Number() });

const Numbers = Type.Array(Type.Number());
/** The bins one MAB or binless mapper placed (packages/we AdaptiveBinsRecord). */
export const AdaptiveBins = Type.Object({
  type: oneOf(['MABBinMapper', 'BinlessMapper'] as const),
  firstBin: Type.Integer({ description: "index of the mapper's bin 0 among all bins; -1 when a recursive mapper renumbers them" }),
  nbins: Type.Integer(),
  nPoints: Type.Integer({ description: 'walkers (final points) the bins were placed from' }),
  boundaries: Type.Optional(Type.Array(Numbers, { description: 'MAB: linear bin boundaries per dimension' })),
  minima: Type.Optional(Type.Array(nullable(Type.Number()), { description: 'MAB: lagging pcoord per dimension' })),
  maxima: Type.Optional(Type.Array(nullable(Type.Number()), { description: 'MAB: leading pcoord per dimension' })),
  bottlenecksForward: Type.Optional(Type.Array(nullable(Numbers), { description: 'MAB: forward bottleneck walker per dimension' })),
  bottlenecksReverse: Type.Optional(Type.Array(nullable(Numbers))),
  nBottleneckFilled: Type.Optional(Type.Integer()),
  maxBottleneck: Type.Optional(Type.Integer()),
  groupSizes: Type.Optional(Type.Array(Type.Integer(), { description: 'binless: walkers per group' })),
});

export const IterationDetail = Type.Object({
  summary: IterationSummary,
  bins: Type.Array(Bin, {
    description:
      'occupied bins, by where segments start (what the resampler saw; with MAB or binless bins, as WESTPA reports them: placed from these start points)',
  }),
  adaptiveBins: nullable(Type.Array(AdaptiveBins), { description: 'the MAB or binless bins the WE step that made this iteration placed; null for fixed bins' }),
  flux: Type.Object({
    recycledWeight: Type.Number({ description: 'weight that reached a target state in this iteration' }),
    nRecycled: Type.Integer(),
    perTau: Type.Number({ description: 'recycledWeight per iteration: the rate estimate in units of 1/tau' }),
  }),
});

export const SegmentRow = Type.Object({
  id: Type.Integer(),
  weight: Type.Number(),
  parent: Type.Integer(),
  status: Type.String(),
  node: nullable(Type.String()),
  cputime: nullable(Type.Number()),
  walltime: nullable(Type.Number()),
  finalPcoord: nullable(Type.Array(Type.Number())),
});

/** A query parameter with a default is optional: Type.Optional, or the OpenAPI document marks it required. */
export const PAGE_DEFAULTS = { offset: 0, limit: 100 } as const;
export const Page = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0, default: PAGE_DEFAULTS.offset })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: PAGE_DEFAULTS.limit })),
});

export const SegmentPage = Type.Object({
  nIter: Type.Integer(),
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
  segments: Type.Array(SegmentRow),
});

export const SegmentDetail = Type.Object({
  nIter: Type.Integer(),
  segment: SegmentRow,
  pcoord: Type.Array(Type.Array(Type.Number())),
  parents: Type.Array(Type.Integer(), { description: 'wtgraph: every segment whose weight merged into this one' }),
  auxdata: Type.Record(Type.String(), Type.Object({ shape: Type.Array(Type.Integer()), data: Type.Array(Type.Number()) })),
  links: Type.Object({ log: Type.String(), analysisLog: nullable(Type.String()) }),
});

export const LogQuery = Type.Object({
  // Every combination the schema admits is served (schemathesis checks that): tail with a range tails the range.
  tail: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'last N lines (default 100 without a byte range; with one, of the range)' })),
  start: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 50, description: 'byte range start' })),
  end: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 50, description: 'byte range end (exclusive; before start: empty); at most 1 MiB is returned' })),
});

export const LogBody = Type.Object({ file: Type.String(), size: Type.Integer(), start: Type.Integer(), end: Type.Integer(), text: Type.String() });

export const ControlBody = Type.Object({ state: Type.String(), requested: nullable(Type.String()), message: Type.String() });
