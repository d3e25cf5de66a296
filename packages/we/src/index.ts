/**
 * @westream/we — the pure weighted-ensemble core: no I/O, deterministic for a given seed.
 *
 * ```ts
 * import { RectilinearBinMapper, resample, Rng, WESTPA_WE_DEFAULTS } from '@westream/we';
 * const mapper = new RectilinearBinMapper([[0, 1, 2, Infinity]]);
 * const { next } = resample({ mapper, targetCounts: [4, 4, 4], params: WESTPA_WE_DEFAULTS,
 *   rng: Rng.derive(42n, 1), segments: { nSegs: 1, weights: [1], initPoints: [0.5], finalPoints: [1.5] } });
 * ```
 */
export { Rng, deriveKey } from './rng.js';
export { numpySum, numpySum32 } from './numpy-sum.js';
export { SegStatus, Endpoint, InitpointType, NewWeightSource, parentIdForIstate, istateIdOfParent } from './segment.js';
export type { Pcoord } from './segment.js';
export { IstateType, IstateStatus, RandomStream, basisStateOf, initialStateOf, segmentTemplateFields } from './states.js';
export type { BasisState, InitialState, BasisStateRecord, InitialStateRecord, TargetStateRecord, StateSet, SegmentTemplateFields } from './states.js';
export { BinAssignmentError, assignPoints, assignBatch, isAdaptive } from './bin-mapper.js';
export type { BinMapper, PointBatch, AdaptiveBinsRecord } from './bin-mapper.js';
export { MABBinMapper, MAB_DIRECTIONS, linspace32 } from './mab-bin-mapper.js';
export type { MabOptions } from './mab-bin-mapper.js';
export { BinlessMapper, identityGrouping, IDENTITY_GROUPING_NAMES } from './binless-mapper.js';
export type { GroupFunction } from './binless-mapper.js';
export { assignSegmentsTogether, SegmentOutsideBins } from './adaptive-driver.js';
export type { SegmentPoints, DriverAssignment } from './adaptive-driver.js';
export { RectilinearBinMapper } from './rectilinear-bin-mapper.js';
export { RecursiveBinMapper } from './recursive-bin-mapper.js';
export {
  resample,
  stageResample,
  populateInitial,
  stagePopulate,
  countRecycled,
  pickBasisStates,
  assignFinalBins,
  targetBins,
  ConsistencyError,
  WESTPA_WE_DEFAULTS,
} from './resampler.js';
export type {
  WeParams,
  InitialStateRef,
  TargetStateRef,
  CompletedIteration,
  NextSegment,
  RecyclingEntry,
  ResampleInput,
  ResampleResult,
  ResampleTestOnly,
  PopulateInput,
  PopulateResult,
  Staged,
  StagedBin,
  StagedWalker,
  SubgroupLabels,
} from './resampler.js';
export { codedError } from './errors.js';
