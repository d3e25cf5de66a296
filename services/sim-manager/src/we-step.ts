/**
 * The shell around the pure WE core for one iteration: make the initial states recycling needs, resample,
 * and describe the next iteration for the store. All randomness comes from (run seed, purpose, iteration).
 */
import type { IterationSummary, PreparedIteration } from '@westream/store';
import type { WestConfig } from '@westream/config';
import { AssignedBins, stack, type Assign, type Subgroups } from './python-helper.js';
import {
  basisStateOf,
  countRecycled,
  IstateStatus,
  IstateType,
  numpySum,
  pickBasisStates,
  RandomStream,
  stageResample,
  Rng,
  type BasisState,
  type BinMapper,
  type InitialState,
  type InitialStateRecord,
  type NextSegment,
  type ResampleTestOnly,
  type StateSet,
  type WeParams,
} from '@westream/we';

export interface WeStepInput {
  readonly nIter: number;
  readonly seed: bigint;
  readonly mapper: BinMapper;
  readonly targetCounts: readonly number[];
  readonly params: WeParams;
  readonly ndim: number;
  readonly pcoordLen: number;
  readonly states: StateSet;
  readonly weights: ArrayLike<number>;
  /** `nSegs × pcoordLen × ndim`. */
  readonly pcoord: Float64Array;
  /** Makes a generated initial state and returns its pcoord (gen_istates); absent: use the basis state's. */
  readonly genIstate?: (istate: InitialState, bstate: BasisState) => Promise<Float64Array>;
  /** TEST ONLY: resampler faults for negative controls (see ResampleTestOnly). */
  readonly testOnly?: ResampleTestOnly;
  /**
   * The run's Python pieces: a Python mapper (`assign`: every point through the bridge, one batched call per
   * assignment) and a subgroup function (`subgroups`: every bin's walkers grouped in one call).
   */
  readonly python?: { readonly config: WestConfig; readonly assign?: Assign | undefined; readonly subgroups?: Subgroups | undefined };
}

export interface WeStepOutput {
  readonly next: PreparedIteration;
  readonly newIstates: InitialStateRecord[];
  readonly endpointTypes: Uint8Array;
  readonly nRecycled: number;
  readonly recycledWeight: number;
}

export async function weStep(x: WeStepInput): Promise<WeStepOutput> {
  const { ndim, pcoordLen: len } = x;
  const nSegs = x.weights.length;
  const initPoints = new Float64Array(nSegs * ndim);
  const finalPoints = new Float64Array(nSegs * ndim);
  for (let i = 0; i < nSegs; i++) {
    for (let d = 0; d < ndim; d++) {
      initPoints[i * ndim + d] = x.pcoord[i * len * ndim + d] as number;
      finalPoints[i * ndim + d] = x.pcoord[(i * len + len - 1) * ndim + d] as number;
    }
  }
  const segments = { nSegs, weights: x.weights, initPoints, finalPoints };
  const targetStates = x.states.tstates.map((t, id) => ({ id, pcoord: t.pcoord }));
  let mapper = x.mapper;
  let assigned: AssignedBins | undefined;
  const assign = x.python?.assign;
  if (x.python && assign) {
    // One call for the final points and the target states together.
    const tPts = targetStates.map((t) => t.pcoord);
    const all = new Float64Array((nSegs + tPts.length) * ndim);
    all.set(finalPoints);
    all.set(stack(tPts, ndim), nSegs * ndim);
    const bins = await assign(all, nSegs + tPts.length);
    assigned = new AssignedBins(x.python.config, finalPoints, bins.subarray(0, nSegs)).add(tPts, bins.subarray(nSegs));
    mapper = assigned;
  }
  const nRecycle = countRecycled(mapper, segments, targetStates);
  const newIstates = await makeIstates(x, nRecycle, x.nIter, x.nIter + 1);
  if (assign && assigned && newIstates.length > 0) {
    const pts = newIstates.map((s) => s.pcoord);
    assigned.add(pts, await assign(stack(pts, ndim), pts.length));
  }
  const firstId = x.states.istates.length;
  const staged = stageResample({
    mapper,
    targetCounts: x.targetCounts,
    params: x.params,
    rng: Rng.derive(x.seed, RandomStream.RESAMPLE, x.nIter),
    segments,
    targetStates,
    initialStates: newIstates.map((s, k) => ({ id: firstId + k, pcoord: s.pcoord })),
    ...(x.testOnly ? { testOnly: x.testOnly } : {}),
  });
  const subgroups = x.python?.subgroups;
  const r = staged.finish(subgroups ? await subgroups(x.nIter + 1, staged.bins) : undefined);
  const allIstates = [...x.states.istates, ...newIstates];
  const initPcoords = new Float64Array(r.next.length * ndim);
  r.next.forEach((s, i) => {
    const p = s.parentId >= 0 ? finalPoints.subarray(s.parentId * ndim, (s.parentId + 1) * ndim) : (allIstates[-s.parentId - 1] as InitialStateRecord).pcoord;
    for (let d = 0; d < ndim; d++) initPcoords[i * ndim + d] = p[d] as number;
  });
  return {
    next: prepared(x.nIter + 1, r.next, initPcoords, x.targetCounts, r.recycled, r.binWeights, r.adaptiveBins),
    newIstates,
    endpointTypes: r.endpointTypes,
    nRecycled: r.recycled.length,
    recycledWeight: numpySum(Float64Array.from(r.recycled, (e) => e.weight)),
  };
}

/** Initial states for `n` walkers: basis states picked by probability, generated or taken as they are. */
export async function makeIstates(
  x: Pick<WeStepInput, 'seed' | 'states' | 'genIstate'>,
  n: number,
  iterCreated: number,
  iterUsed: number,
  picks?: readonly number[],
): Promise<InitialStateRecord[]> {
  if (n === 0) return [];
  const { bstates } = x.states;
  const chosen =
    picks ??
    pickBasisStates(
      n,
      bstates.map((b) => b.probability),
      Rng.derive(x.seed, RandomStream.ISTATE_PICK, iterCreated),
    );
  const out: InitialStateRecord[] = [];
  for (let k = 0; k < n; k++) {
    const bid = chosen[k] as number;
    const b = bstates[bid];
    if (!b) throw new Error(`basis state ${bid} does not exist`);
    const id = x.states.istates.length + k;
    const base = { iterCreated, iterUsed, basisStateId: bid, status: IstateStatus.PREPARED, basisAuxref: '' };
    if (x.genIstate) {
      const info: InitialState = { id, ...base, type: IstateType.GENERATED };
      const pcoord = await x.genIstate(info, basisStateOf(x.states, bid) as BasisState);
      out.push({ ...base, type: IstateType.GENERATED, pcoord: Array.from(pcoord) });
    } else {
      out.push({ ...base, type: IstateType.BASIS, pcoord: [...b.pcoord] });
    }
  }
  return out;
}

export function prepared(
  nIter: number,
  next: readonly NextSegment[],
  initPcoords: ArrayLike<number>,
  targetCounts: readonly number[] | null,
  newWeights: PreparedIteration['newWeights'],
  binWeights: Float64Array,
  adaptiveBins: PreparedIteration['adaptiveBins'] = [],
): PreparedIteration {
  return {
    nIter,
    weights: next.map((s) => s.weight),
    parentIds: next.map((s) => s.parentId),
    wtgParentIds: next.map((s) => s.wtgParentIds),
    initPcoords,
    binTargetCounts: targetCounts,
    newWeights,
    summary: summarize(
      next.map((s) => s.weight),
      binWeights,
    ),
    ...(adaptiveBins && adaptiveBins.length > 0 ? { adaptiveBins } : {}),
  };
}

function summarize(weights: number[], binWeights: Float64Array): IterationSummary {
  const occupied = Array.from(binWeights).filter((w) => w > 0);
  return {
    nParticles: weights.length,
    norm: numpySum(Float64Array.from(weights)),
    minBinProb: occupied.length ? occupied.reduce((a, b) => Math.min(a, b)) : 0,
    maxBinProb: occupied.length ? occupied.reduce((a, b) => Math.max(a, b)) : 0,
    minSegProb: weights.length ? weights.reduce((a, b) => Math.min(a, b)) : 0,
    maxSegProb: weights.length ? weights.reduce((a, b) => Math.max(a, b)) : 0,
  };
}
