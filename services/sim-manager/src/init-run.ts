/** `westream init` (w_init): basis and target states, their pcoords, iteration 1, a fresh west.h5. */
import { randomBytes } from 'node:crypto';
import { dirname, relative } from 'node:path';
import { mapperFromSpec, type WestConfig } from '@westream/config';
import type { SegmentRunner } from '@westream/propagator';
import { WestH5 } from '@westream/store';
import {
  assignPoints,
  BinAssignmentError,
  ConsistencyError,
  RandomStream,
  stagePopulate,
  Rng,
  targetBins,
  type BasisStateRecord,
  type BinMapper,
  type PopulateResult,
  type TargetStateRecord,
} from '@westream/we';
import { normalizeBasisStates, type BasisStateSpec, type TargetStateSpec } from './state-specs.js';
import { iterationFileOf, writeIterationEntries, type IterationFileEntry } from './iteration-files.js';
import { simPaths } from './sim-paths.js';
import { makeIstates, prepared } from './we-step.js';
import { ResultsJournal } from './results-journal.js';
import { AssignedBins, SimManagerPython, stack } from './python-helper.js';

export interface InitOptions {
  readonly config: WestConfig;
  readonly simRoot: string;
  /** `basisStateData`, when the runner has it, gives the basis states' restart and log for iter_000000.h5. */
  readonly runner: Pick<SegmentRunner, 'getPcoord' | 'genIstate'> & Partial<Pick<SegmentRunner, 'basisStateData'>>;
  readonly bstates: readonly BasisStateSpec[];
  readonly tstates: readonly TargetStateSpec[];
  readonly segsPerState: number;
  readonly force: boolean;
  /** The run seed (see `chooseSeed`); recorded in west.h5. */
  readonly seed: bigint;
}

/** west.westream.seed, or 64 fresh random bits when the config has none. */
export function chooseSeed(config: WestConfig): bigint {
  return config.westream.seed !== null ? BigInt(config.westream.seed) : randomBytes(8).readBigUInt64LE();
}

export interface InitSummary {
  readonly westH5: string;
  readonly seed: bigint;
  readonly nSegs: number;
  readonly bstates: readonly BasisStateRecord[];
  /** Things the user should know (probabilities rescaled). */
  readonly warnings: readonly string[];
}

export async function initRun(o: InitOptions): Promise<InitSummary> {
  const { config } = o;
  if (o.bstates.length === 0) throw new ConsistencyError('no basis states: give --bstate label,probability[,auxref] or --bstates-from FILE');
  const { seed } = o;
  const paths = simPaths(config, o.simRoot);
  const normalized = normalizeBasisStates(o.bstates);
  const warnings = normalized.warning ? [normalized.warning] : [];
  const bstates: BasisStateRecord[] = [];
  // WESTPA's HDF5 framework: the basis states' restart and log returns go to iteration 0's file.
  const iterationFile = o.runner.basisStateData ? iterationFileOf(config, o.simRoot) : null;
  const basisData: IterationFileEntry[] = [];
  for (const [id, b] of normalized.states.entries()) {
    if (iterationFile && o.runner.basisStateData) {
      const d = await o.runner.basisStateData({ id, ...b });
      bstates.push({ ...b, pcoord: Array.from(d.pcoord) });
      const t = d.trajectory ?? null;
      basisData.push({ nIter: 0, segId: id, ...(t ? { trajectory: t } : {}), ...(d.restart ? { restart: d.restart } : {}), ...(d.log ? { log: d.log } : {}) });
    } else {
      bstates.push({ ...b, pcoord: Array.from(await o.runner.getPcoord({ id, ...b })) });
    }
  }
  const tstates: TargetStateRecord[] = o.tstates.map((t) => ({ label: t.label, pcoord: t.pcoord }));
  const picks0 = bstates.flatMap((_, b) => Array.from({ length: o.segsPerState }, () => b));
  const gen0 = config.propagation.genIstates
    ? (i: Parameters<SegmentRunner['genIstate']>[0], b: Parameters<SegmentRunner['genIstate']>[1]) => o.runner.genIstate(i, b)
    : undefined;
  // created "in" iteration 1, as w_init records them
  const istates = await makeIstates({ seed, states: { bstates, istates: [], tstates }, ...(gen0 ? { genIstate: gen0 } : {}) }, picks0.length, 1, 1, picks0);
  let mapper = mapperFromSpec(config.system.bins);
  if (tstates.length > 0 && (config.system.bins.type === 'MABBinMapper' || config.system.bins.type === 'BinlessMapper')) {
    // WESTPA's MABSimManager logs this as an error too: a target's bin would move with the walkers.
    throw new ConsistencyError(
      `${config.system.bins.type} cannot be the outer bin mapper when there are target states; nest it in a RecursiveBinMapper whose fixed bins hold the targets (as WESTPA's MAB tutorials do)`,
    );
  }
  const python = await SimManagerPython.forConfig(config, o.simRoot);
  let pop: PopulateResult;
  try {
    if (python?.assign) {
      // A Python mapper: the target and initial states' points in one batched call.
      const pts = [...tstates.map((t) => t.pcoord), ...istates.map((s) => s.pcoord)];
      mapper = new AssignedBins(config, null, null).add(pts, await python.assign(stack(pts, config.system.pcoordNdim), pts.length));
    }
    tstates.forEach((t, id) => binOf(mapper, t.pcoord, `target state ${id} '${t.label}'`));
    const tbins = targetBins(
      mapper,
      tstates.map((t, id) => ({ id, pcoord: t.pcoord })),
    );
    istates.forEach((s, i) => {
      const from = `basis state ${s.basisStateId} '${bstates[s.basisStateId]?.label}'`;
      const bin = binOf(mapper, s.pcoord, config.propagation.genIstates ? `initial state ${i} (generated from ${from})` : from);
      if (tbins.has(bin))
        throw new ConsistencyError(
          `initial state ${i} (from basis state '${bstates[s.basisStateId]?.label}') lies in the bin of a target state; move the basis state or the target`,
        );
    });
    const total = bstates.reduce((a, b) => a + b.probability, 0);
    const staged = stagePopulate({
      mapper,
      targetCounts: config.system.binTargetCounts,
      params: config.we,
      rng: Rng.derive(seed, RandomStream.POPULATE),
      initialStates: istates.map((s, id) => ({
        id,
        pcoord: s.pcoord,
        weight: (bstates[s.basisStateId] as BasisStateRecord).probability / total / o.segsPerState,
      })),
    });
    // WESTPA's populate_initial runs the subgroup function too (iteration 1's walkers, all from initial states)
    pop = staged.finish(python?.subgroups ? await python.subgroups(1, staged.bins) : undefined);
  } finally {
    python?.close();
  }
  const ndim = config.system.pcoordNdim;
  const init = new Float64Array(pop.next.length * ndim);
  pop.next.forEach((s, i) => init.set((istates[-s.parentId - 1] as { pcoord: readonly number[] }).pcoord, i * ndim));
  // Iteration 1's bin target counts, as w_init records them (the counts populate_initial filled the bins to).
  const first = prepared(1, pop.next, init, config.system.binTargetCounts, [], pop.binWeights, pop.adaptiveBins);
  await WestH5.create(
    paths.westH5,
    { pcoordNdim: ndim, pcoordLen: config.system.pcoordLen, pcoordDtype: config.system.pcoordDtype, iterPrec: config.data.iterPrec, seed },
    { bstates, istates, tstates },
    first,
    o.force,
    iterationFile ? relative(dirname(paths.westH5), iterationFile(0)) : undefined,
  );
  // After west.h5 (init's commit point): a refused init (west.h5 exists, no --force) leaves the old file alone.
  if (iterationFile) {
    await writeIterationEntries(iterationFile(0), 0, basisData, (segId) => `basis state ${segId}`);
  }
  new ResultsJournal(paths.stateDir).prune(-1); // results of a replaced run must never be reused
  return { westH5: paths.westH5, seed, nSegs: pop.next.length, bstates, warnings };
}

/** The bin of a state's pcoord; outside the bins, an error that names the state, its pcoord and the bins. */
function binOf(mapper: BinMapper, pcoord: readonly number[], what: string): number {
  try {
    return assignPoints(mapper, pcoord, 1)[0] as number;
  } catch (e) {
    if (!(e instanceof BinAssignmentError)) throw e;
    throw new ConsistencyError(
      `${what} has pcoord [${pcoord.join(', ')}], outside the bins: coordinate ${e.dim} = ${e.value} is not in [${e.range[0]}, ${e.range[1]}), ` +
        `the span of system_options.bins (${mapper.type}, ${mapper.nbins} bins). Fix the state, or extend the outer boundaries to '-inf' and 'inf' as WESTPA configs usually do.`,
    );
  }
}
