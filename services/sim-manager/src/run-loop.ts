/**
 * `westream run` (w_run): iterations of propagate → check → resample → record, from west.h5's current
 * iteration until max_total_iterations, the wall-clock limit, or a stop. Completed segments are journaled as
 * they finish; each iteration is committed to west.h5 atomically, so a crash at any instant resumes cleanly.
 */
import { existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { mapperFromSpec, type WestConfig } from '@westream/config';
import { unwireTrajectory, type SegmentResult, type SegmentRunner, type SegmentTask } from '@westream/propagator';
import { readIterationFileBytes, WestH5, type IterationOutcome, type IterationRecord, type StateSet } from '@westream/store';
import { basisStateOf, codedError, initialStateOf, istateIdOfParent, IstateType, SegStatus, type ResampleTestOnly } from '@westream/we';
import type { WorkManager } from '@westream/work-manager';
import type { Reporter } from './reporter.js';
import { ResultsJournal, segmentKey } from './results-journal.js';
import { iterationFileOf, writeIterationEntries } from './iteration-files.js';
import { simPaths } from './sim-paths.js';
import { weStep } from './we-step.js';
import { logAdaptiveBins } from './adaptive-bin-log.js';
import { SimManagerPython } from './python-helper.js';

export interface RunOptions {
  readonly config: WestConfig;
  readonly simRoot: string;
  readonly workManager: WorkManager;
  readonly runner: Pick<SegmentRunner, 'genIstate' | 'runHook'>;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  /** Asked before each iteration whether to go on (the REST API's pause and graceful stop). */
  readonly control?: RunControl;
  /** TEST ONLY: resampler faults for the science tests' negative controls; the CLI never sets it. */
  readonly testOnly?: ResampleTestOnly;
}

/** Pause and graceful stop, at iteration boundaries: an iteration, once started, is finished and recorded. */
export interface RunControl {
  /** Resolves when the loop may start iteration `n` ('go'), or should end here ('stop'). */
  beforeIteration(n: number, signal: AbortSignal): Promise<'go' | 'stop'>;
}

export type StopReason = 'max_total_iterations' | 'max_run_wallclock' | 'stopped';

export interface RunSummary {
  readonly reason: StopReason;
  readonly iterationsRun: number;
  readonly currentIteration: number;
  readonly westH5: string;
}

/** west.h5 and the config disagree (pcoord shape): the user's input, not a failed segment. */
export class RecordMismatch extends codedError('RecordMismatch', 'SIM_ERR_RECORD_MISMATCH') {}

/** Segments failed more often than max_segment_retries allows; west.h5 records them as FAILED. */
export class RunHalted extends Error {
  readonly code = 'SIM_ERR_HALTED';
  constructor(
    message: string,
    readonly failures: readonly SegmentResult[],
  ) {
    super(message);
    this.name = 'RunHalted';
  }
}

export async function runSimulation(o: RunOptions): Promise<RunSummary> {
  const { config, reporter, signal } = o;
  const paths = simPaths(config, o.simRoot);
  const store = await WestH5.open(paths.westH5);
  const { meta } = store;
  if (meta.pcoordLen !== config.system.pcoordLen || meta.pcoordNdim !== config.system.pcoordNdim) {
    throw new RecordMismatch(
      `${paths.westH5} holds pcoords of shape (${meta.pcoordLen}, ${meta.pcoordNdim}) but the config says pcoord_len ${config.system.pcoordLen}, ` +
        `pcoord_ndim ${config.system.pcoordNdim}; change the config back or start over with 'westream init --force'`,
    );
  }
  const journal = new ResultsJournal(paths.stateDir);
  const iterationFile = iterationFileOf(config, o.simRoot);
  // The basis states' restarts (iter_000000.h5, written by init), for walkers that start from a basis state.
  const basisRestarts = iterationFile ? await restartsOf(iterationFile(0), 0) : null;
  const mapper = mapperFromSpec(config.system.bins);
  // A Python mapper or subgroup function: one helper for the run, started before the first segment so a broken
  // set-up fails fast.
  const python = await SimManagerPython.forConfig(config, o.simRoot, (t) => reporter.warn(`python (sim-manager): ${t.trimEnd()}`));
  try {
    return await loop();
  } finally {
    python?.close();
  }
  async function loop(): Promise<RunSummary> {
    const states = await store.readStates();
    const maxIter = config.propagation.maxTotalIterations;
    const maxWall = config.propagation.maxRunWallclock;
    const t0 = performance.now();
    let lastIterTime = 0;
    let iterationsRun = 0;
    reporter.runStarted({ nIter: store.currentIteration, lastIter: maxIter, westH5: paths.westH5, workManager: o.workManager.name });
    o.workManager.onStart = (t) => reporter.segmentStarted(t);
    const done = (reason: StopReason): RunSummary => {
      journal.close();
      return { reason, iterationsRun, currentIteration: store.currentIteration, westH5: paths.westH5 };
    };

    for (;;) {
      const n = store.currentIteration;
      if (maxIter !== null && n > maxIter) return done('max_total_iterations');
      const elapsed = (performance.now() - t0) / 1000;
      // WESTPA's rule: stop when the next iteration, at 1.1× the last one's time, would pass the limit.
      if (maxWall !== null && iterationsRun > 0 && elapsed + 1.1 * lastIterTime >= maxWall) return done('max_run_wallclock');
      if (signal.aborted) return done('stopped');
      if (o.control && (await o.control.beforeIteration(n, signal)) === 'stop') return done('stopped');
      const iterStart = performance.now();

      const rec = await store.readIteration(n);
      journal.prune(n);
      const journaled = journal.load(n, (id) => keyOf(rec, id));
      const results = collectFinished(rec, journaled, meta.pcoordLen * meta.pcoordNdim);
      // Every segment recorded complete in west.h5 and none journaled: the iteration was committed before (a
      // run after `truncate` redoes its WE step). Its iteration file was written before that commit and holds what
      // west.h5 does not (restarts, trajectories, logs): it stays as it is.
      const committedBefore = journaled.size === 0 && rec.status.every((st) => st === SegStatus.COMPLETE);
      let pending = rec.status.reduce<number[]>((acc, _s, i) => (results[i] ? acc : (acc.push(i), acc)), []);
      reporter.iterationStarted(n, rec.nSegs, pending.length);
      if (pending.length > 0) {
        const w = await o.runner.runHook('pre', n);
        if (w) reporter.warn(w);
      }
      let failures: SegmentResult[] = [];
      // WESTPA's HDF5 framework: each child gets its parent's restart bytes from the last iteration's file.
      const parentRestarts = iterationFile && n > 1 && pending.length > 0 ? await restartsOf(iterationFile(n - 1), n - 1) : null;
      const restartOf = (task: SegmentTask): string | undefined =>
        task.parentId >= 0 ? parentRestarts?.get(task.parentId) : basisRestartOf(task, basisRestarts);
      for (let attempt = 0; pending.length > 0 && attempt <= config.westream.maxSegmentRetries; attempt++) {
        const tasks = pending.map((id) => withParentRestart(taskFor(rec, id, n, attempt, states, { len: meta.pcoordLen, ndim: meta.pcoordNdim }), restartOf));
        const out = await o.workManager.propagate(
          tasks,
          (r) => {
            if (r.status === 'complete') journal.append(n, keyOf(rec, r.segId), r);
            reporter.segmentFinished(r);
          },
          signal,
        );
        if (signal.aborted) return done('stopped');
        for (const r of out) if (r.status === 'complete') results[r.segId] = r;
        failures = out.filter((r) => r.status !== 'complete');
        pending = failures.map((r) => r.segId);
      }
      if (failures.length > 0) {
        const per = meta.pcoordLen * meta.pcoordNdim;
        const pcoord = new Float64Array(rec.nSegs * per);
        results.forEach((r, i) => r && pcoord.set(r.pcoord, i * per));
        await store.recordHalt(n, {
          status: Uint8Array.from(results, (r) => (r ? SegStatus.COMPLETE : SegStatus.FAILED)),
          pcoord,
          cputime: Float64Array.from(results, (r) => r?.cputime ?? 0),
          walltime: Float64Array.from(results, (r) => r?.walltime ?? 0),
        });
        journal.close();
        throw new RunHalted(
          `propagation failed for ${failures.length} segment(s) of iteration ${n} after ${config.westream.maxSegmentRetries + 1} attempt(s) each:\n` +
            failures.map((f) => `- ${f.reason ?? `segment ${f.segId}`}`).join('\n') +
            `\nFix the cause and run 'westream run' again: completed segments are kept, the failed ones re-run.`,
          failures,
        );
      }

      const finished = results as SegmentResult[];
      const pcoord = new Float64Array(rec.nSegs * meta.pcoordLen * meta.pcoordNdim);
      finished.forEach((r, i) => pcoord.set(r.pcoord, i * meta.pcoordLen * meta.pcoordNdim));
      const step = await weStep({
        nIter: n,
        seed: meta.seed,
        mapper,
        targetCounts: config.system.binTargetCounts,
        params: config.we,
        ndim: meta.pcoordNdim,
        pcoordLen: meta.pcoordLen,
        states,
        weights: rec.weights,
        pcoord,
        ...(config.propagation.genIstates ? { genIstate: (i, b) => o.runner.genIstate(i, b, signal) } : {}),
        ...(o.testOnly ? { testOnly: o.testOnly } : {}),
        ...(python ? { python: { config, assign: python.assign, subgroups: python.subgroups } } : {}),
      });
      const iterWalltime = (performance.now() - iterStart) / 1000;
      const outcome: IterationOutcome = {
        nIter: n,
        status: new Uint8Array(rec.nSegs).fill(SegStatus.COMPLETE),
        endpointTypes: step.endpointTypes,
        cputime: Float64Array.from(finished, (r) => r.cputime),
        walltime: Float64Array.from(finished, (r) => r.walltime),
        pcoord,
        auxdata: auxdataOf(finished),
        iterCputime: finished.reduce((a, r) => a + r.cputime, 0),
        iterWalltime,
        ...(iterationFile ? { trajectories: relative(dirname(paths.westH5), iterationFile(n)) } : {}),
      };
      // Written before west.h5 commits the iteration: a crash between the two re-writes the same file on resume.
      if (iterationFile && !(committedBefore && existsSync(iterationFile(n)))) await writeIterationData(iterationFile(n), n, finished);
      await store.commit({ outcome, newIstates: step.newIstates, next: step.next });
      logAdaptiveBins(config, paths.simRoot, n, step.next.adaptiveBins, (m) => reporter.info(m));
      states.istates.push(...step.newIstates);
      journal.prune(n + 1);
      iterationsRun++;
      const w = await o.runner.runHook('post', n);
      if (w) reporter.warn(w);
      lastIterTime = (performance.now() - iterStart) / 1000;
      reporter.iterationFinished({
        nIter: n,
        nSegs: rec.nSegs,
        walltime: lastIterTime,
        nRecycled: step.nRecycled,
        recycledWeight: step.recycledWeight,
        nextSegs: step.next.weights.length,
        // For whoever watches a weeks-long run: the sim-manager's own memory must stay flat.
        rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      });
    }
  }
}

function withParentRestart(task: SegmentTask, restartOf: (task: SegmentTask) => string | undefined): SegmentTask {
  const parentRestart = restartOf(task);
  return parentRestart ? { ...task, parentRestart } : task;
}

/**
 * An iteration file's restarts by seg_id, base64 as tasks carry them: encoded once per file, not once per child
 * and attempt (a parent's restart goes to each of its children; a basis state's to every walker from it).
 */
async function restartsOf(path: string, nIter: number): Promise<Map<number, string>> {
  const bytes = await readIterationFileBytes(path, 'restart', nIter);
  return new Map([...bytes].map(([segId, b]) => [segId, Buffer.from(b).toString('base64')]));
}

/**
 * A walker that starts from an initial state (iteration 1, or recycled) gets its basis state's restart files, as
 * WESTPA's prepare_segment_restarts gives them from iter_000000.h5, generated initial states included; a start
 * state has none (WESTPA skips it too).
 */
function basisRestartOf(task: SegmentTask, basisRestarts: Map<number, string> | null): string | undefined {
  if (!task.istate || task.istate.type === IstateType.START) return undefined;
  return basisRestarts?.get(task.istate.basisStateId);
}

/** The iteration's file of WESTPA's HDF5 framework: each segment's trajectory, restart and log. */
async function writeIterationData(path: string, nIter: number, finished: readonly SegmentResult[]): Promise<void> {
  const bytes = (b64: string | null | undefined): Uint8Array | undefined => (b64 ? new Uint8Array(Buffer.from(b64, 'base64')) : undefined);
  const entries = finished.map((r) => {
    const restart = bytes(r.iterationData?.restart);
    const log = bytes(r.iterationData?.log);
    const wire = r.iterationData?.trajectory;
    return { nIter, segId: r.segId, ...(wire ? { trajectory: unwireTrajectory(wire) } : {}), ...(restart ? { restart } : {}), ...(log ? { log } : {}) };
  });
  await writeIterationEntries(path, nIter, entries, (segId) => `segment ${segId} of iteration ${nIter}`);
}

function keyOf(rec: IterationRecord, segId: number): string {
  return segmentKey(rec.parentIds[segId] as number, rec.weights[segId] as number);
}

/** Segments already done: journaled before a crash or a halt (with auxdata), or COMPLETE in west.h5 (truncate). */
function collectFinished(rec: IterationRecord, journaled: Map<number, SegmentResult>, perSeg: number): (SegmentResult | undefined)[] {
  const out: (SegmentResult | undefined)[] = new Array<SegmentResult | undefined>(rec.nSegs);
  for (let i = 0; i < rec.nSegs; i++) {
    if (journaled.has(i)) out[i] = journaled.get(i);
    else if (rec.status[i] === SegStatus.COMPLETE) {
      out[i] = {
        nIter: rec.nIter,
        segId: i,
        attempt: 0,
        status: 'complete',
        pcoord: Array.from(rec.pcoord.subarray(i * perSeg, (i + 1) * perSeg)),
        auxdata: {},
        cputime: rec.cputime[i] as number,
        walltime: rec.walltime[i] as number,
        reason: null,
        log: null,
        node: '',
      };
    }
  }
  return out;
}

function taskFor(rec: IterationRecord, segId: number, nIter: number, attempt: number, states: StateSet, shape: { len: number; ndim: number }): SegmentTask {
  const parentId = rec.parentIds[segId] as number;
  // The prepared iteration holds each segment's first point (its parent's last, or its initial state's).
  const per = shape.len * shape.ndim;
  const initPcoord = Array.from(rec.pcoord.subarray(segId * per, segId * per + shape.ndim));
  const base = { nIter, segId, weight: rec.weights[segId] as number, parentId, attempt, initPcoord };
  if (parentId >= 0) return { ...base, istate: null, bstate: null };
  const id = istateIdOfParent(parentId);
  const istate = initialStateOf(states, id);
  const bstate = istate && basisStateOf(states, istate.basisStateId);
  if (!istate || !bstate) throw new Error(`segment ${segId} of iteration ${nIter} starts from initial state ${id}, which west.h5 does not hold`);
  return { ...base, istate, bstate };
}

function auxdataOf(results: readonly SegmentResult[]): IterationOutcome['auxdata'] {
  const out: Record<string, { segShape: number[]; data: Float64Array }> = {};
  const first = results[0];
  if (!first) return out;
  for (const name of Object.keys(first.auxdata)) {
    const shape = (first.auxdata[name] as { shape: number[] }).shape;
    const per = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(results.length * per);
    results.forEach((r, i) => {
      const a = r.auxdata[name];
      if (!a || a.data.length !== per) {
        throw new RunHalted(
          `segment ${r.segId} of iteration ${r.nIter}: auxdata '${name}' has ${a?.data.length ?? 0} values, but segment ${first.segId} has ${per}; every segment must return the same shape`,
          [],
        );
      }
      data.set(a.data, i * per);
    });
    out[name] = { segShape: shape, data };
  }
  return out;
}
