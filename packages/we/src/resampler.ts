/**
 * WESTPA's weighted-ensemble resampling (`westpa.core.we_driver.WEDriver`), without I/O.
 *
 * Order, as in WESTPA: every completed segment continues as a child in its final bin; children in
 * target-state bins are recycled into initial states (the flux is recorded); then every non-empty bin is
 * split (walkers heavier than `weight_split_threshold × ideal` become `ceil(w / ideal)` copies), merged
 * (the lightest walkers whose cumulative weight stays ≤ `weight_merge_cutoff × ideal` become one), and with
 * `adjust_counts` brought to exactly its target count (split the heaviest in two / merge the two lightest);
 * with `thresholds`, walkers above `largest_allowed_weight` are split and those below
 * `smallest_allowed_weight` merged. A merge keeps one history, chosen in proportion to weight, and the
 * union of the merged walkers' weight-graph parents.
 *
 * Subgroups (WESTPA's `we_driver.subgroup_function`): a bin's walkers may come in labelled groups. With fewer
 * groups than the bin's target, each group is split and merged on its own (against the bin's ideal weight),
 * then the count is adjusted across groups (splits from the lightest group up, merges alternating direction,
 * as WESTPA's `_adjust_count`); with at least as many groups as the target, each group merges into one walker
 * and the bin is brought down to its target. One group per bin (no function, or WESTPA's identity function) is
 * the plain algorithm above, step for step. `stageResample` hands out the bins after recycling, so the caller
 * can compute the labels (in the user's Python) before `finish` runs the rest.
 *
 * Where WESTPA iterates a Python `set` (arbitrary order), this code uses a stable order (sorted by weight,
 * ties in creation order), so the same input and seed always give the same output. Endpoint types are
 * derived from the result: a parent continues when any child survives, is recycled when its child was
 * recycled, and is merged otherwise (WESTPA marks them as merges happen, so a split parent whose one child
 * is merged away can end MERGED while a sibling continues; here it is CONTINUES).
 */
import { assignSegmentsTogether, SegmentOutsideBins } from './adaptive-driver.js';
import { BinAssignmentError, isAdaptive, type AdaptiveBinsRecord, type BinMapper } from './bin-mapper.js';
import { numpySum } from './numpy-sum.js';
import type { Rng } from './rng.js';
import { Endpoint, istateIdOfParent, NewWeightSource, parentIdForIstate } from './segment.js';
import { codedError } from './errors.js';

/** The six `west.we` settings, with WESTPA's meaning. */
export interface WeParams {
  readonly adjustCounts: boolean;
  readonly thresholds: boolean;
  readonly weightSplitThreshold: number;
  readonly weightMergeCutoff: number;
  readonly largestAllowedWeight: number;
  readonly smallestAllowedWeight: number;
}

/** WESTPA's defaults for `west.we`. */
export const WESTPA_WE_DEFAULTS: WeParams = Object.freeze({
  adjustCounts: true,
  thresholds: true,
  weightSplitThreshold: 2.0,
  weightMergeCutoff: 1.0,
  largestAllowedWeight: 1.0,
  smallestAllowedWeight: 1e-310,
});

/** An initial state a recycled walker can restart from. */
export interface InitialStateRef {
  readonly id: number;
  /** One pcoord point (`ndim` values). */
  readonly pcoord: ArrayLike<number>;
}

/** A target state (a sink): walkers whose final point lands in its bin are recycled. */
export interface TargetStateRef {
  readonly id: number;
  readonly pcoord: ArrayLike<number>;
}

/** The completed segments of iteration n, as parallel arrays (segment ids are 0..nSegs-1). */
export interface CompletedIteration {
  readonly nSegs: number;
  readonly weights: ArrayLike<number>;
  /** First pcoord point of each segment, `nSegs × ndim`. */
  readonly initPoints: ArrayLike<number>;
  /** Last pcoord point of each segment, `nSegs × ndim`. */
  readonly finalPoints: ArrayLike<number>;
}

/** A walker of the next iteration. Its first pcoord point is its parent's last one, or its initial state's. */
export interface NextSegment {
  readonly weight: number;
  /** A segment of iteration n, or `-(istateId + 1)` for a walker that starts from an initial state. */
  readonly parentId: number;
  /** Weight-graph parents, ascending (WESTPA's `wtg_parent_ids`). */
  readonly wtgParentIds: readonly number[];
  /** The bin the walker starts in. */
  readonly bin: number;
}

/** WESTPA's `NewWeightEntry`: the record of one recycling event (the flux into a target). */
export interface RecyclingEntry {
  readonly sourceType: number;
  readonly weight: number;
  readonly prevSegId: number;
  readonly prevInitPcoord: number[];
  readonly prevFinalPcoord: number[];
  readonly newInitPcoord: number[];
  readonly targetStateId: number;
  readonly initialStateId: number;
}

export interface ResampleInput {
  readonly mapper: BinMapper;
  /** Target count per bin (`bin_target_counts`, length `mapper.nbins`). */
  readonly targetCounts: ArrayLike<number>;
  readonly params: WeParams;
  readonly rng: Rng;
  readonly segments: CompletedIteration;
  readonly targetStates?: readonly TargetStateRef[];
  /** Initial states available for recycling, used in this order. */
  readonly initialStates?: readonly InitialStateRef[];
  /** TEST ONLY: deliberate faults for negative controls. No config key reaches it (the loop takes it from code). */
  readonly testOnly?: ResampleTestOnly;
}

/**
 * TEST ONLY. Faults a statistical test must detect, to prove it can fail. `mergeSurvivor` is the history a
 * merge keeps: 'uniform' draws it uniformly instead of in proportion to weight (the same random draw),
 * 'lightest' always keeps the lightest walker's. Both bias WE towards where light walkers are.
 */
export interface ResampleTestOnly {
  readonly mergeSurvivor?: 'uniform' | 'lightest';
}

export interface ResampleResult {
  /** Walkers of iteration n+1, in bin order (their index is their seg_id). */
  readonly next: NextSegment[];
  /** Endpoint type of each segment of iteration n. */
  readonly endpointTypes: Uint8Array;
  /** Final bin of each segment of iteration n. */
  readonly finalBins: Uint32Array;
  /** One entry per recycled walker, in recycling order. */
  readonly recycled: RecyclingEntry[];
  /** Ids of the initial states the next iteration starts from (recycled walkers merged away give theirs back). */
  readonly usedIstateIds: number[];
  /** Total weight per bin after resampling. */
  readonly binWeights: Float64Array;
  /** The bins adaptive mappers placed for this step (empty for fixed bins). */
  readonly adaptiveBins: AdaptiveBinsRecord[];
}

/** The WE step failed an invariant that input or settings broke (WESTPA's ConsistencyError). */
export class ConsistencyError extends codedError('ConsistencyError', 'WE_ERR_CONSISTENCY') {}

interface Walker {
  weight: number;
  parentId: number;
  wtg: number[];
  /** Its subgroup's label within the bin (0 when the bin is one group). */
  group?: number;
  /** Its first pcoord point when it starts from an initial state (else its parent's last, read when asked). */
  start?: ArrayLike<number>;
}

/** A walker as a subgroup function sees it: the next iteration's segment before splitting and merging. */
export interface StagedWalker {
  readonly weight: number;
  /** A segment of iteration n, or `-(istateId + 1)` (recycled, or iteration 1). */
  readonly parentId: number;
  readonly wtgParentIds: readonly number[];
  /** Its first pcoord point (its parent's last, or its initial state's). */
  readonly initPoint: ArrayLike<number>;
}

/** The non-empty bins after recycling, each with its walkers in a fixed order (the order labels refer to). */
export interface StagedBin {
  readonly bin: number;
  readonly walkers: readonly StagedWalker[];
}

/** Subgroup labels: for a bin, one label per walker of its StagedBin, in that order. Bins left out are one group. */
export type SubgroupLabels = ReadonlyMap<number, ArrayLike<number>>;

/** A WE step stopped after recycling: `bins` for a subgroup function, `finish` for the rest. */
export interface Staged<R> {
  readonly bins: readonly StagedBin[];
  /** Splits, merges and adjusts (per subgroup where labels are given). Call once. */
  finish(labels?: SubgroupLabels): R;
}

const byWeight = (a: Walker, b: Walker): number => a.weight - b.weight;

/** Bins of the target states' points; a target state outside the bins is an error naming it. */
export function targetBins(mapper: BinMapper, targetStates: readonly TargetStateRef[]): Map<number, TargetStateRef> {
  const bins = new Map<number, TargetStateRef>();
  for (const t of targetStates) {
    bins.set(stateBin(mapper, t.pcoord, `target state ${t.id}`), t);
  }
  return bins;
}

/** The bin of a state's point; a point outside the bins is a ConsistencyError naming the state. */
function stateBin(mapper: BinMapper, pcoord: ArrayLike<number>, what: string): number {
  try {
    return mapper.assignPoint(pcoord, 0);
  } catch (err) {
    if (err instanceof BinAssignmentError) throw new ConsistencyError(`${what}: pcoord ${Array.from(pcoord).join(' ')} lies outside the bins`);
    throw err;
  }
}

/** Final bins of the completed segments; a point outside the bins names its segment. */
export function assignFinalBins(mapper: BinMapper, segments: CompletedIteration): Uint32Array {
  return finalBinsOf(mapper, segments).finalBins;
}

/** Final bins, and the bins adaptive mappers placed: those bin initial and final points together (WESTPA's MABDriver). */
function finalBinsOf(mapper: BinMapper, segments: CompletedIteration): { finalBins: Uint32Array; adaptiveBins: AdaptiveBinsRecord[] } {
  if (isAdaptive(mapper)) {
    try {
      return assignSegmentsTogether(mapper, segments);
    } catch (err) {
      if (err instanceof SegmentOutsideBins) throw new ConsistencyError(err.message);
      throw err;
    }
  }
  return { finalBins: fixedFinalBins(mapper, segments), adaptiveBins: [] };
}

function fixedFinalBins(mapper: BinMapper, segments: CompletedIteration): Uint32Array {
  const bins = new Uint32Array(segments.nSegs);
  const ndim = mapper.ndim;
  for (let i = 0; i < segments.nSegs; i++) {
    try {
      bins[i] = mapper.assignPoint(segments.finalPoints, i * ndim);
    } catch (err) {
      if (err instanceof BinAssignmentError) {
        throw new ConsistencyError(
          `segment ${i}: final pcoord ${pointOf(segments.finalPoints, i, ndim).join(' ')} lies outside the bins ` +
            `(coordinate ${err.dim} not in [${err.range[0]}, ${err.range[1]})); extend the outer boundaries`,
        );
      }
      throw err;
    }
  }
  return bins;
}

/** How many walkers will be recycled, so the caller can prepare that many initial states first. */
export function countRecycled(mapper: BinMapper, segments: CompletedIteration, targetStates: readonly TargetStateRef[]): number {
  if (targetStates.length === 0) return 0;
  const tbins = targetBins(mapper, targetStates);
  const bins = assignFinalBins(mapper, segments);
  let n = 0;
  for (const b of bins) if (tbins.has(b)) n++;
  return n;
}

/** Picks `n` basis states by probability (WESTPA's `digitize(uniform, cumsum(probs))`), as indices. */
export function pickBasisStates(n: number, probabilities: readonly number[], rng: Rng): number[] {
  const cumul: number[] = [];
  let total = 0;
  for (const p of probabilities) cumul.push((total += p));
  const picks: number[] = [];
  for (let k = 0; k < n; k++) picks.push(digitize(rng.uniform(total), cumul));
  return picks;
}

/** Runs one WE step: recycle, split, merge, adjust, thresholds. Deterministic for a given rng state. */
export function resample(input: ResampleInput, labels?: SubgroupLabels): ResampleResult {
  return stageResample(input).finish(labels);
}

/** One WE step up to recycling (bins assigned, recycled walkers moved); `finish` resamples. */
export function stageResample(input: ResampleInput): Staged<ResampleResult> {
  const { mapper, segments, params } = input;
  const ndim = mapper.ndim;
  checkTargetCounts(mapper, input.targetCounts);
  const counts = Array.from(input.targetCounts);
  const { finalBins, adaptiveBins } = finalBinsOf(mapper, segments);
  const tbins = targetBins(mapper, input.targetStates ?? []);
  for (const b of tbins.keys()) counts[b] = 0; // WESTPA: target-state bins hold no walkers

  const bins: Walker[][] = Array.from({ length: mapper.nbins }, () => []);
  for (let i = 0; i < segments.nSegs; i++) {
    const w = segments.weights[i] as number;
    if (!(w > 0) || !Number.isFinite(w)) throw new ConsistencyError(`segment ${i} has weight ${w}; weights must be positive`);
    (bins[finalBins[i] as number] as Walker[]).push({ weight: w, parentId: i, wtg: [i] });
  }

  // Recycling: WESTPA walks target states in order and takes initial states in the order given.
  const recycled: RecyclingEntry[] = [];
  const recycledParents = new Set<number>();
  const istates = input.initialStates ?? [];
  const istateById = new Map(istates.map((s) => [s.id, s]));
  let nextIstate = 0;
  for (const [ibin, tstate] of tbins) {
    const walkers = bins[ibin] as Walker[];
    for (const walker of walkers) {
      const istate = istates[nextIstate++];
      if (!istate) {
        throw new ConsistencyError(
          `recycling needs an initial state for every walker that reached a target (${countInTargets(bins, tbins)}), ` +
            `but only ${istates.length} were given`,
        );
      }
      const prev = walker.parentId;
      recycledParents.add(prev);
      recycled.push({
        sourceType: NewWeightSource.RECYCLED,
        weight: walker.weight,
        prevSegId: prev,
        prevInitPcoord: pointOf(segments.initPoints, prev, ndim),
        prevFinalPcoord: pointOf(segments.finalPoints, prev, ndim),
        newInitPcoord: Array.from(istate.pcoord),
        targetStateId: tstate.id,
        initialStateId: istate.id,
      });
      walker.parentId = parentIdForIstate(istate.id); // wtg parents stay: the weight came from `prev`
      walker.start = istate.pcoord;
      const ib = stateBin(mapper, istate.pcoord, `initial state ${istate.id}`);
      if (tbins.has(ib)) throw new ConsistencyError(`initial state ${istate.id} lies in the bin of target state ${tbins.get(ib)?.id}`);
      (bins[ib] as Walker[]).push(walker);
    }
    bins[ibin] = [];
  }

  const startOf = (w: Walker): ArrayLike<number> => w.start ?? pointOf(segments.finalPoints, w.parentId, ndim);
  return staged(bins, startOf, (labels) => {
    biasedSurvivorForTests = input.testOnly?.mergeSurvivor;
    let next: NextSegment[];
    try {
      next = resampleBins(bins, counts, params, input.rng, labels);
    } finally {
      biasedSurvivorForTests = undefined;
    }
    const endpointTypes = new Uint8Array(segments.nSegs).fill(Endpoint.MERGED);
    const used = new Set<number>();
    for (const s of next) {
      if (s.parentId >= 0) endpointTypes[s.parentId] = Endpoint.CONTINUES;
      else used.add(istateIdOfParent(s.parentId));
    }
    for (const p of recycledParents) endpointTypes[p] = Endpoint.RECYCLED;
    for (const id of used) if (!istateById.has(id)) throw new ConsistencyError(`walker refers to unknown initial state ${id}`);
    return {
      next,
      endpointTypes,
      finalBins,
      recycled,
      usedIstateIds: [...used].sort((a, b) => a - b),
      binWeights: weightsPerBin(next, mapper.nbins),
      adaptiveBins,
    };
  });
}

/** The staged bins (built only when asked: a run without subgroups never needs them) and their continuation. */
function staged<R>(bins: Walker[][], startOf: (w: Walker) => ArrayLike<number>, rest: (labels: SubgroupLabels | undefined) => R): Staged<R> {
  let view: StagedBin[] | undefined;
  let done = false;
  return {
    get bins(): readonly StagedBin[] {
      if (!view) {
        view = [];
        bins.forEach((b, bin) => {
          if (b.length > 0)
            view?.push({ bin, walkers: b.map((w) => ({ weight: w.weight, parentId: w.parentId, wtgParentIds: w.wtg, initPoint: startOf(w) })) });
        });
      }
      return view;
    },
    finish(labels) {
      if (done) throw new Error('a staged WE step finishes once');
      done = true;
      if (labels) {
        for (const [ibin, l] of labels) {
          const b = bins[ibin];
          if (!b || l.length !== b.length) throw new ConsistencyError(`subgroup labels for bin ${ibin}: ${l.length} given for ${b?.length ?? 0} walkers`);
          b.forEach((w, k) => (w.group = l[k] as number));
        }
      }
      return rest(labels);
    },
  };
}

export interface PopulateInput {
  readonly mapper: BinMapper;
  readonly targetCounts: ArrayLike<number>;
  readonly params: WeParams;
  readonly rng: Rng;
  /** One walker per entry; weights are normalised to sum to 1 (WESTPA's `populate_initial`). */
  readonly initialStates: readonly (InitialStateRef & { readonly weight: number })[];
}

export interface PopulateResult {
  readonly next: NextSegment[];
  readonly usedIstateIds: number[];
  readonly binWeights: Float64Array;
  readonly adaptiveBins: AdaptiveBinsRecord[];
}

/** Builds iteration 1 from initial states (WESTPA's `populate_initial`): bin, split and merge to the targets. */
export function populateInitial(input: PopulateInput, labels?: SubgroupLabels): PopulateResult {
  return stagePopulate(input).finish(labels);
}

/** `populateInitial` up to binning the initial states; `finish` resamples. */
export function stagePopulate(input: PopulateInput): Staged<PopulateResult> {
  const { mapper, initialStates } = input;
  checkTargetCounts(mapper, input.targetCounts);
  let total = 0;
  for (const s of initialStates) {
    if (!(s.weight > 0) || !Number.isFinite(s.weight)) throw new ConsistencyError(`initial state ${s.id} has weight ${s.weight}; it must be positive`);
    total += s.weight;
  }
  const eps = Number.EPSILON;
  const scale = Math.abs(1 - total) > initialStates.length * eps ? 1 / total : 1;
  const bins: Walker[][] = Array.from({ length: mapper.nbins }, () => []);
  // WESTPA's MAB driver bins the start states together (initial and final point both the state's pcoord).
  let adaptiveBins: AdaptiveBinsRecord[] = [];
  let startBins: Uint32Array | undefined;
  if (isAdaptive(mapper)) {
    const ndim = mapper.ndim;
    const points = new Float64Array(initialStates.length * ndim);
    initialStates.forEach((s, i) => {
      for (let d = 0; d < ndim; d++) points[i * ndim + d] = s.pcoord[d] as number;
    });
    let together;
    try {
      together = assignSegmentsTogether(mapper, {
        nSegs: initialStates.length,
        weights: initialStates.map((s) => s.weight * scale),
        initPoints: points,
        finalPoints: points,
      });
    } catch (err) {
      if (err instanceof SegmentOutsideBins) throw new ConsistencyError(`initial state ${initialStates[err.segment]?.id}: pcoord lies outside the bins`);
      throw err;
    }
    startBins = together.initialBins;
    adaptiveBins = together.adaptiveBins;
  }
  initialStates.forEach((s, i) => {
    const ib = startBins ? (startBins[i] as number) : stateBin(mapper, s.pcoord, `initial state ${s.id}`);
    const pid = parentIdForIstate(s.id);
    (bins[ib] as Walker[]).push({ weight: s.weight * scale, parentId: pid, wtg: [pid], start: s.pcoord });
  });
  return staged(
    bins,
    (w) => w.start ?? [],
    (labels) => {
      const next = resampleBins(bins, Array.from(input.targetCounts), input.params, input.rng, labels);
      const used = new Set<number>();
      for (const s of next) if (s.parentId < 0) used.add(istateIdOfParent(s.parentId));
      return { next, usedIstateIds: [...used].sort((a, b) => a - b), binWeights: weightsPerBin(next, mapper.nbins), adaptiveBins };
    },
  );
}

function resampleBins(bins: Walker[][], counts: number[], params: WeParams, rng: Rng, labels?: SubgroupLabels): NextSegment[] {
  let scratch = new Float64Array(256);
  let totalBefore = 0;
  for (const bin of bins) for (const w of bin) totalBefore += w.weight;

  const next: NextSegment[] = [];
  for (let ibin = 0; ibin < bins.length; ibin++) {
    let bin = bins[ibin] as Walker[];
    if (bin.length === 0) continue;
    const target = counts[ibin] as number;
    if (target === 0) throw new ConsistencyError(`bin ${ibin} has a target count of 0 but holds ${bin.length} walkers`);
    bin.sort(byWeight);
    if (scratch.length < bin.length) scratch = new Float64Array(bin.length * 2);
    for (let i = 0; i < bin.length; i++) scratch[i] = (bin[i] as Walker).weight;
    const ideal = numpySum(scratch, 0, bin.length) / target; // WESTPA: the sorted weights' numpy sum

    let groups = labels?.has(ibin) ? subgroupsOf(bin) : [bin];
    const nGroups = groups.length;
    if (nGroups >= target) {
      // WESTPA: with at least as many subgroups as the target, each subgroup merges into one walker …
      bin = groups.map((g) => (g.length > 1 ? mergeWalkers(g, rng) : (g[0] as Walker)));
      // … and the bin, as one group, is merged down to the target (two lightest at a time).
      if (nGroups > target) bin = adjustCount(bin, target, rng);
      groups = nGroups === target ? bin.map((w) => [w]) : [bin];
    } else {
      groups = groups.map((g) => mergeByWeight(splitByWeight(g, ideal, params.weightSplitThreshold), ideal * params.weightMergeCutoff, rng));
      if (params.adjustCounts) adjustGroups(groups, target, rng);
    }
    bin = groups.length === 1 ? (groups[0] as Walker[]) : groups.flat();
    if ((params.adjustCounts || nGroups >= target) && bin.length !== target) {
      throw new ConsistencyError(`bin ${ibin} ends with ${bin.length} walkers instead of its target ${target}`);
    }
    // Thresholds come last and may leave a bin off its target, as in WESTPA (which then logs a warning).
    if (params.thresholds) {
      const thresholded = (g: Walker[]): Walker[] => mergeByThreshold(splitByThreshold(g, params.largestAllowedWeight), params.smallestAllowedWeight, rng);
      bin = groups.length === 1 ? thresholded(bin) : groups.flatMap(thresholded);
    }
    for (const w of bin) {
      if (!(w.weight > 0)) throw new ConsistencyError(`bin ${ibin}: a walker has weight ${w.weight} after resampling`);
      next.push({ weight: w.weight, parentId: w.parentId, wtgParentIds: w.wtg, bin: ibin });
    }
  }
  let totalAfter = 0;
  for (const s of next) totalAfter += s.weight;
  if (Math.abs(totalAfter - totalBefore) > 1e-12) {
    throw new ConsistencyError(`resampling changed the total weight from ${totalBefore} to ${totalAfter}`);
  }
  return next;
}

/** A bin (sorted by weight) as its subgroups, each sorted by weight, in ascending label order. */
function subgroupsOf(bin: readonly Walker[]): Walker[][] {
  const byLabel = new Map<number, Walker[]>();
  for (const w of bin) {
    const label = w.group ?? 0;
    let g = byLabel.get(label);
    if (!g) byLabel.set(label, (g = []));
    g.push(w);
  }
  return [...byLabel.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

/**
 * WESTPA's `_adjust_count` over fewer subgroups than the target, in place: groups ordered by their total
 * weight (lightest first); while short, each group in turn splits its heaviest walker in two; while over,
 * the order is reversed each round and each group with two or more merges its two lightest.
 */
function adjustGroups(groups: Walker[][], target: number, rng: Rng): void {
  for (const g of groups) g.sort(byWeight);
  let n = 0;
  for (const g of groups) n += g.length;
  const total = (g: readonly Walker[]): number => g.reduce((a, w) => a + w.weight, 0);
  const order = groups
    .map((g, i) => ({ i, w: total(g) }))
    .sort((a, b) => a.w - b.w)
    .map((e) => e.i);
  while (n < target) {
    for (const gi of order) {
      const g = groups[gi] as Walker[];
      for (const half of splitWalker(g.pop() as Walker, 2)) insertSorted(g, half);
      if (++n === target) break;
    }
  }
  while (n > target) {
    order.reverse();
    for (const gi of order) {
      const g = groups[gi] as Walker[];
      if (g.length < 2) continue;
      insertSorted(g, mergeWalkers(g.splice(0, 2), rng));
      if (--n === target) break;
    }
  }
}

/** `ceil(w / ideal)` equal copies of every walker heavier than `threshold × ideal`. */
function splitByWeight(bin: Walker[], ideal: number, threshold: number): Walker[] {
  const limit = threshold * ideal;
  const out: Walker[] = [];
  const splits: Walker[] = [];
  for (const w of bin) {
    if (w.weight > limit) splits.push(...splitWalker(w, Math.ceil(w.weight / ideal)));
    else out.push(w);
  }
  return out.concat(splits);
}

/** Repeatedly merges the lightest walkers whose cumulative weight is at most `limit`. */
function mergeByWeight(bin: Walker[], limit: number, rng: Rng): Walker[] {
  return mergeLightest(bin, rng, (b) => {
    let cumul = 0;
    let k = 0;
    while (k < b.length && (cumul += (b[k] as Walker).weight) <= limit) k++;
    return k;
  });
}

/**
 * Sorts the bin by weight, then merges its `k` lightest walkers into one for as long as `lightest` says k ≥ 2.
 * The merged walker goes back in sorted position, so the next round sees it.
 */
function mergeLightest(bin: Walker[], rng: Rng, lightest: (sorted: readonly Walker[]) => number): Walker[] {
  bin.sort(byWeight);
  for (let k = lightest(bin); k >= 2; k = lightest(bin)) insertSorted(bin, mergeWalkers(bin.splice(0, k), rng));
  return bin;
}

/** Splits the heaviest walker in two, or merges the two lightest, until the bin holds `target` walkers. */
function adjustCount(bin: Walker[], target: number, rng: Rng): Walker[] {
  bin.sort(byWeight);
  while (bin.length < target) {
    for (const half of splitWalker(bin.pop() as Walker, 2)) insertSorted(bin, half);
  }
  while (bin.length > target) insertSorted(bin, mergeWalkers(bin.splice(0, 2), rng));
  return bin;
}

function splitByThreshold(bin: Walker[], largest: number): Walker[] {
  if (!bin.some((w) => w.weight > largest)) return bin;
  bin.sort(byWeight);
  const out: Walker[] = [];
  for (const w of bin) {
    if (w.weight > largest) out.push(...splitWalker(w, Math.ceil(w.weight / largest)));
    else out.push(w);
  }
  return out;
}

function mergeByThreshold(bin: Walker[], smallest: number, rng: Rng): Walker[] {
  let below = 0;
  for (const w of bin) if (w.weight < smallest) below++;
  if (below < 2) return bin; // unsorted, as WESTPA leaves a bin it does not touch
  return mergeLightest(bin, rng, (b) => {
    let k = 0;
    while (k < b.length && (b[k] as Walker).weight < smallest) k++;
    return k;
  });
}

function splitWalker(w: Walker, m: number): Walker[] {
  const out: Walker[] = [];
  const weight = w.weight / m;
  for (let i = 0; i < m; i++) out.push({ weight, parentId: w.parentId, wtg: w.wtg });
  return out;
}

/** ResampleTestOnly.mergeSurvivor, for the (synchronous) duration of one `resample` call. */
let biasedSurvivorForTests: ResampleTestOnly['mergeSurvivor'];

/** Merges walkers (sorted by weight) into one; the surviving history is drawn in proportion to weight. */
function mergeWalkers(walkers: Walker[], rng: Rng): Walker {
  const cumul: number[] = [];
  let total = 0;
  for (const w of walkers) cumul.push((total += w.weight));
  const u = rng.uniform(total);
  // TEST ONLY (negative controls): the wrong choices (walkers are sorted by weight, the lightest first).
  const pick =
    biasedSurvivorForTests === 'lightest'
      ? 0
      : biasedSurvivorForTests === 'uniform'
        ? Math.min(walkers.length - 1, Math.floor((u / total) * walkers.length))
        : digitize(u, cumul);
  const chosen = walkers[pick] as Walker;
  return { weight: total, parentId: chosen.parentId, wtg: unionSorted(walkers) };
}

/** The sorted union of the walkers' (sorted) weight-graph parents. */
function unionSorted(walkers: readonly Walker[]): number[] {
  const all: number[] = [];
  for (const w of walkers) for (const p of w.wtg) all.push(p);
  all.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i] as number;
  all.length = n;
  return all;
}

/** Inserts into a bin sorted by weight, after any equal weights: the order a stable re-sort would give. */
function insertSorted(bin: Walker[], w: Walker): void {
  let lo = 0;
  let hi = bin.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((bin[mid] as Walker).weight <= w.weight) lo = mid + 1;
    else hi = mid;
  }
  bin.splice(lo, 0, w);
}

/** numpy's `digitize(x, bins)` for increasing bins: the number of bins ≤ x, capped at the last index. */
function digitize(x: number, cumul: readonly number[]): number {
  let lo = 0;
  let hi = cumul.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumul[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cumul.length - 1);
}

function checkTargetCounts(mapper: BinMapper, counts: ArrayLike<number>): void {
  if (counts.length !== mapper.nbins) {
    throw new ConsistencyError(`bin_target_counts has ${counts.length} entries but the bin mapper has ${mapper.nbins} bins`);
  }
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (!Number.isInteger(c) || c < 0) throw new ConsistencyError(`bin_target_counts[${i}] = ${c}; counts must be whole numbers ≥ 0`);
  }
}

function countInTargets(bins: Walker[][], tbins: Map<number, TargetStateRef>): number {
  let n = 0;
  for (const b of tbins.keys()) n += (bins[b] as Walker[]).length;
  return n;
}

function weightsPerBin(next: readonly NextSegment[], nbins: number): Float64Array {
  const out = new Float64Array(nbins);
  for (const s of next) out[s.bin] = (out[s.bin] as number) + s.weight;
  return out;
}

function pointOf(points: ArrayLike<number>, i: number, ndim: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < ndim; d++) out.push(points[i * ndim + d] as number);
  return out;
}
