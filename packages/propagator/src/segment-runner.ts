/**
 * Runs one segment (and the helper programs) exactly as WESTPA's executable propagator does: the segment
 * directory is deleted, recreated and made the cwd; the child gets the WEST_* environment; its return files are
 * read and checked. Both work managers call this same class — in-process (local) or in a worker daemon (BullMQ).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { expandPath, isPythonLoader, type ChildProgram, type StreamTrajectory, type WestConfig } from '@westream/config';
import { childBaseEnv } from './child-env.js';
import { PythonLoaders } from './python-loaders.js';
import { DataRefs, basisFields, initialFields } from './data-refs.js';
import type { ProcessRegistry } from './process-registry.js';
import { randomEnv } from './random-values.js';
import { AUX_MAX_BYTES, checkPcoordShape, pcoordLimits, readTable, ReturnFileError, type NumericTable } from './return-file.js';
import { Launcher } from './launcher.js';
import { ReturnPool } from './return-pool.js';
import { appendLog, describeExit, logTail } from './child-report.js';
import { IterationDataError, makeHdf5Returns, packLog, packRestart, removeHdf5Returns, restoreRestart } from './iteration-returns.js';
import { runChild, type ChildOutcome } from './run-child.js';
import { discoverPort, drainStream, runBuiltins, StreamFailure, type RecordedFrames } from './stream-task.js';
import { ImdConnectError, ImdProtocolError, ImdTimeoutError } from '@westream/imd';
import type { AuxArray, SegmentResult, SegmentTask, StagedDir } from './types.js';
import { wireTrajectory, type LoadedTrajectory, type WireTrajectory } from './wire-trajectory.js';
import { codedError, IstateType, RandomStream, segmentTemplateFields, type BasisState, type InitialState } from '@westream/we';
import { markComplete, prepareSegmentDir } from './segment-dir.js';
import { PythonPropagation } from './python-propagation.js';
import { BridgeError } from '@westream/python-bridge';

export interface SegmentRunnerOptions {
  readonly config: WestConfig;
  /** WEST_SIM_ROOT: absolute path of the simulation's root directory. */
  readonly simRoot: string;
  readonly seed: bigint;
  readonly registry?: ProcessRegistry;
  /** The environment children inherit (default: this process's). */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  readonly killGraceMs?: number;
  /** Fork children from a small launcher process (default true): cheaper than forking this big one. */
  readonly launcher?: boolean;
  /** Names this node in results (default: the host name; a worker daemon passes its --node-id). */
  readonly node?: string;
  /**
   * Runs a segment's stream analysis (once the engine's port is known). Default: at once, in this process. A
   * worker daemon passes it through its node's own queue, so the analysis is a job on the node of its engine.
   */
  readonly dispatchStream?: StreamDispatch;
  /**
   * Leave `.westream-complete` in a completed execution's directory, so that a re-run never touches it
   * (segment-dir.ts). Worker daemons set it: BullMQ can hand a finished job out again after a fault. The local
   * work manager has no such re-run (after a crash only unrecorded segments run again) and saves the file.
   */
  readonly markCompleted?: boolean;
}

/** Hands `run` (a segment's stream analysis, already bound to its engine's port) to whoever runs it. */
export type StreamDispatch = (task: SegmentTask, port: number, run: () => Promise<void>) => Promise<void>;

/** A helper program (get_pcoord, gen_istate) failed; the message says which, why, and where its log is. */
export class PropagationError extends codedError('PropagationError', 'PROPAGATOR_ERR_HELPER') {}

const INITPOINT = { CONTINUES: 'SEG_INITPOINT_CONTINUES', NEWTRAJ: 'SEG_INITPOINT_NEWTRAJ' } as const;

/** What get_pcoord gives for a basis state: its pcoord and, with WESTPA's HDF5 framework, what iter_000000.h5 holds. */
export interface BasisStateData {
  readonly pcoord: Float64Array;
  readonly restart: Uint8Array | null;
  readonly log: Uint8Array | null;
  readonly trajectory: LoadedTrajectory | null;
}

/** One call of a program: where it runs, what it is given, how long it may take. */
interface ChildCall {
  readonly cwd: string;
  /** Variables of this call (WEST_CURRENT_*, the return files …), laid over the runner's environment. */
  readonly vars: Record<string, string>;
  /** The random stream of its WEST_RAND* values and the stream's path (a segment: iteration, segment id). */
  readonly random: readonly [RandomStream, ...number[]];
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly signal?: AbortSignal | undefined;
  /** Wall-time limit (west.westream.segment_timeout for segments), or null for none. */
  readonly timeoutSeconds: number | null;
  /** A segment: through the launcher's queue (see `limitConcurrency`), started when a slot frees. */
  readonly queued?: boolean;
  readonly onStarted?: (() => void) | undefined;
}

export class SegmentRunner {
  readonly refs: DataRefs;
  private readonly env: Record<string, string>;
  private readonly node: string;
  private readonly launcher: Launcher | undefined;
  private readonly returns: ReturnPool;
  /** The user's dataset loaders (module.function), started at the first segment that needs one. */
  private loaders: PythonLoaders | undefined;
  /** The user's Python propagator (west.propagation.propagator: module.Class); null for the executable one. */
  readonly python: PythonPropagation | null;

  constructor(private readonly o: SegmentRunnerOptions) {
    // No westream secret (the API token) reaches a child: its `env | sort` may be served in a log (issue 14).
    const base = childBaseEnv(o.baseEnv ?? process.env);
    base.WEST_SIM_ROOT = o.simRoot;
    this.env = { ...base, ...o.config.executable.environ };
    this.refs = new DataRefs(o.config.data.dataRefs, this.env);
    this.returns = new ReturnPool(o.config, (n) => this.refs.render(n, {}));
    // A Python propagator runs no child per segment: no launcher process for it.
    this.launcher = o.launcher === false || o.config.propagation.propagator === 'python' ? undefined : new Launcher(this.env);
    this.node = o.node ?? hostname();
    this.python =
      o.config.propagation.propagator === 'python' ? new PythonPropagation({ config: o.config, simRoot: o.simRoot, seed: o.seed, node: this.node }) : null;
  }

  /** Starts what the run needs before its first segment (the Python propagator's helper): fails fast on a broken set-up. */
  async prepare(): Promise<void> {
    await this.python?.prepare();
  }

  /**
   * Stops the launcher from starting segments still queued in it, once it has taken note (see Launcher.hold):
   * a work manager calls this before it cancels a batch, and limitConcurrency again before the next.
   */
  holdQueue(): Promise<void> {
    return this.launcher?.hold() ?? Promise.resolve();
  }

  /** Segments a work manager may hand over per slot at once (a Python propagator takes blocks of block_size). */
  lanesPerSlot(): number {
    return this.python ? Math.max(2, this.o.config.propagation.blockSize) : 2;
  }

  private queued = false;

  /**
   * Lets at most `n` segments run at once, enforced in the launcher process: callers may then hand over more
   * (prepared ahead), and each starts the moment another ends. False when this runner has no launcher.
   */
  limitConcurrency(n: number): boolean {
    if (this.python) {
      this.python.setSlots(n);
      return true;
    }
    if (!this.launcher) return false;
    this.launcher.setQueueLimit(n);
    this.queued = true;
    return true;
  }

  /**
   * Propagates one segment; never throws for a segment's own failure (that is a FAILED result). `onStarted`
   * is called when its program starts (after any wait for a slot). `slotEnv` is added to this segment's
   * environment (a worker's slot: CUDA_VISIBLE_DEVICES, WM_PROCESS_INDEX).
   */
  async runSegment(task: SegmentTask, signal?: AbortSignal, onStarted?: () => void, slotEnv?: Readonly<Record<string, string>>): Promise<SegmentResult> {
    if (this.python) return this.python.runSegment(task, signal, onStarted);
    const { config } = this.o;
    const prog = config.executable.propagator;
    const segment = segmentTemplateFields(task);
    const name = `segment ${task.segId} of iteration ${task.nIter}${task.attempt > 0 ? ` (attempt ${task.attempt + 1})` : ''}`;
    const here: { staged?: StagedDir } = {}; // set for a re-run beside a completed directory (segment-dir.ts)
    const fail = (reason: string, log: string | null, times = { cputime: 0, walltime: 0 }): SegmentResult => ({
      nIter: task.nIter,
      segId: task.segId,
      attempt: task.attempt,
      status: 'failed',
      pcoord: [],
      auxdata: {},
      ...times,
      reason: `${name}: ${reason}${logTail(log)}`,
      log,
      node: this.node,
      ...(here.staged ? { stagedDir: here.staged } : {}),
    });
    let segDir: string, stdout: string | null, stderr: string | null;
    const vars: Record<string, string> = { ...slotEnv, WEST_CURRENT_ITER: String(task.nIter), WEST_CURRENT_SEG_ID: String(task.segId) };
    try {
      segDir = this.refs.segment(segment);
      ({ stdout, stderr } = this.outputs(prog, { segment }));
      vars.WEST_CURRENT_SEG_DATA_REF = segDir;
      if (task.parentId >= 0) {
        vars.WEST_CURRENT_SEG_INITPOINT_TYPE = INITPOINT.CONTINUES;
        vars.WEST_PARENT_ID = String(task.parentId);
        vars.WEST_PARENT_DATA_REF = this.refs.segment(segmentTemplateFields({ nIter: task.nIter - 1, segId: task.parentId }));
      } else {
        if (!task.istate || !task.bstate) return fail(`starts from an initial state, but the task carries none (a bug: please report it)`, null);
        vars.WEST_CURRENT_SEG_INITPOINT_TYPE = INITPOINT.NEWTRAJ;
        Object.assign(vars, this.stateVars(task.istate, task.bstate));
        vars.WEST_PARENT_DATA_REF = this.istateParentRef(task.istate, task.bstate);
      }
    } catch (e) {
      return fail(`cannot build its paths from data_refs / stdout templates: ${(e as Error).message}`, null);
    }
    // WESTPA's prepare_file_system (a re-run starts from an empty directory), except that a completed
    // execution's directory is never touched: a re-run after a fault runs beside it.
    const dir = prepareSegmentDir(segDir, task.attempt);
    if (dir.staged) here.staged = dir.staged;
    segDir = dir.cwd;
    vars.WEST_CURRENT_SEG_DATA_REF = segDir;

    const returns = this.returns.take(true);
    // WESTPA's HDF5 framework (data_refs.iteration): the parent's restart files first, then fresh returns.
    const h5 = config.data.dataRefs.iteration !== null ? makeHdf5Returns(this.returns.dir, `seg-${task.nIter}-${task.segId}-${task.attempt}`) : null;
    try {
      if (h5 && task.parentRestart) {
        try {
          await restoreRestart(Buffer.from(task.parentRestart, 'base64'), segDir, this.returns.dir, name);
        } catch (e) {
          if (e instanceof IterationDataError) return fail(e.message, stdout);
          throw e;
        }
      }
      const segVars = { ...vars, ...returns.vars, ...h5?.vars };
      const recorded: { frames: RecordedFrames | null } = { frames: null };
      const stream = config.executable.streamTrajectory;
      const { out, failure } = stream
        ? await this.runStreamed(stream, { segDir, vars: segVars, task, stdout, stderr, signal, onStarted, pcoordFile: returns.pcoord, recorded })
        : {
            out: await this.run(prog, {
              cwd: segDir,
              vars: segVars,
              random: [RandomStream.SEGMENT, task.nIter, task.segId],
              stdout,
              stderr,
              signal,
              timeoutSeconds: config.westream.segmentTimeout,
              queued: this.queued,
              onStarted,
            }),
            failure: null,
          };
      const times = { cputime: out.cputime, walltime: out.walltime };
      if (signal?.aborted || (out.cancelled && !failure)) return { ...fail('cancelled', stdout, times), status: 'cancelled' };
      // The engine's own failure comes first: a stream that ends because its engine died is a consequence.
      const bad = out.cancelled ? null : describeExit(out, this.exePath(prog), config.westream.segmentTimeout);
      if (bad) return fail(`${bad}${failure ? ` (and ${failure})` : ''}`, stdout, times); // failure names stream_trajectory
      if (failure) return fail(failure, stdout, times);
      try {
        const { pcoordLen, pcoordNdim } = config.system;
        const pcoord = checkPcoordShape(
          readTable(returns.pcoord, `pcoord return file ${returns.pcoord}`, pcoordLimits(pcoordLen, pcoordNdim)),
          pcoordLen,
          pcoordNdim,
          `pcoord return file (WEST_PCOORD_RETURN)`,
        );
        const auxdata: Record<string, AuxArray> = {};
        const auxLimits = { maxBytes: AUX_MAX_BYTES, expected: 'an auxiliary dataset, bounded by westream' };
        const viaPython: { name: string; loader: string; filename: string }[] = [];
        for (const [ds, file] of returns.aux) {
          const loader = config.data.datasets.find((d) => d.name === ds)?.loader ?? null;
          if (isPythonLoader(loader)) viaPython.push({ name: ds, loader: loader as string, filename: file });
          else auxdata[ds] = squeeze(readTable(file, `${ds} return file ${file} (WEST_${ds.toUpperCase()}_RETURN)`, auxLimits));
        }
        if (viaPython.length > 0) {
          // The user's loaders, WESTPA's signature, in their Python: what they put in segment.data is recorded.
          this.loaders ??= new PythonLoaders(config, this.o.simRoot);
          try {
            Object.assign(auxdata, await this.loaders.load(task, pcoord, viaPython));
          } catch (e) {
            if (e instanceof BridgeError) return fail(e.message, stdout, times);
            throw e;
          }
        }
        let iterationData: SegmentResult['iterationData'];
        if (h5) {
          // Loud where WESTPA only warns: a restart that cannot be stored would leave every child without its parent.
          const restart = await packRestart(h5, name);
          const log = await packLog(h5, name);
          // An empty WEST_TRAJECTORY_RETURN returned nothing; files there that the loader cannot read fail the segment.
          let trajectory: WireTrajectory | null = null;
          if (recorded.frames) {
            // builtin record, target iteration: the streamed frames themselves, with the configured topology.
            const fr = recorded.frames;
            let top: { topology: string; atoms: number };
            try {
              top = await this.streamTopology();
            } catch (e) {
              if (e instanceof BridgeError || e instanceof PropagationError) return fail(`stream_trajectory.record.topology: ${e.message}`, stdout, times);
              throw e;
            }
            if (top.atoms !== fr.atoms)
              return fail(
                `builtin record: the stream carries ${fr.atoms} atoms, the topology stream_trajectory.record.topology ${top.atoms}; give the engine's topology`,
                stdout,
                times,
              );
            trajectory = wireTrajectory({
              topology: top.topology,
              atoms: fr.atoms,
              coordinates: fr.coordinates,
              time: fr.time,
              ...(fr.cell ? { cell: fr.cell } : {}),
            });
          } else if (readdirSync(h5.trajectoryDir).some((f) => !f.startsWith('.'))) {
            this.loaders ??= new PythonLoaders(config, this.o.simRoot);
            try {
              trajectory = wireTrajectory(
                await this.loaders.loadTrajectory(task, h5.trajectoryDir, config.data.trajectoryLoader ?? 'mdtraj_trajectory_loader'),
              );
            } catch (e) {
              if (e instanceof BridgeError) return fail(e.message, stdout, times);
              throw e;
            }
          }
          iterationData = { restart: Buffer.from(restart).toString('base64'), log: log && Buffer.from(log).toString('base64'), trajectory };
        }
        if (this.o.markCompleted) markComplete(segDir);
        return {
          nIter: task.nIter,
          segId: task.segId,
          attempt: task.attempt,
          status: 'complete',
          pcoord: Array.from(pcoord),
          auxdata,
          ...times,
          reason: null,
          log: stdout,
          node: this.node,
          ...(here.staged ? { stagedDir: here.staged } : {}),
          ...(iterationData ? { iterationData } : {}),
        };
      } catch (e) {
        if (e instanceof ReturnFileError || e instanceof IterationDataError) return fail(e.message, stdout, times);
        throw e;
      }
    } finally {
      this.returns.release(returns);
      if (h5) removeHdf5Returns(h5);
    }
  }

  /**
   * A segment with `stream_trajectory`: the engine starts; its port is found (in its log, or reserved and
   * handed to it); then the analysis — built-ins in this process and/or the analysis program beside the
   * engine — reads the stream while the engine runs. A required analysis that fails stops the engine at once.
   * `failure` is why the segment fails beyond the engine's own exit status; the built-in pcoord is written to
   * the segment's pcoord return file.
   */
  private async runStreamed(
    st: StreamTrajectory,
    s: {
      /** builtin record, target iteration: where the analysis leaves the frames. */
      recorded: { frames: RecordedFrames | null };
      segDir: string;
      vars: Record<string, string>;
      task: SegmentTask;
      stdout: string | null;
      stderr: string | null;
      signal: AbortSignal | undefined;
      onStarted: (() => void) | undefined;
      pcoordFile: string;
    },
  ): Promise<{ out: ChildOutcome; failure: string | null }> {
    const { config } = this.o;
    const prog = config.executable.propagator;
    const segment = segmentTemplateFields(s.task);
    const analysisLog = this.refs.render(st.stdout, { segment });
    const attempts = st.portDiscovery === 'reserve' ? st.portRetries + 1 : 1;
    const logs = [s.stdout, s.stderr !== 'stdout' ? s.stderr : null].filter((f): f is string => f !== null);
    for (let attempt = 1; ; attempt++) {
      const stop = new AbortController(); // stops the engine (and the analysis) when the stream fails
      const onOuter = (): void => stop.abort();
      s.signal?.addEventListener('abort', onOuter, { once: true });
      const reserved = st.portDiscovery === 'reserve' ? await freePort(st.host) : undefined;
      const vars = reserved === undefined ? s.vars : { ...s.vars, [st.portEnv]: String(reserved) };
      let started!: () => void;
      const engineStarted = new Promise<void>((r) => (started = r));
      const engine = this.run(prog, {
        cwd: s.segDir,
        vars,
        random: [RandomStream.SEGMENT, s.task.nIter, s.task.segId],
        stdout: s.stdout,
        stderr: s.stderr,
        signal: stop.signal,
        timeoutSeconds: config.westream.segmentTimeout,
        queued: this.queued,
        onStarted: () => {
          started();
          s.onStarted?.();
        },
      });
      let port: number | undefined = reserved;
      let engineEnded = false;
      // Once the engine has ended, nobody will accept a connection: stop trying (a connected stream ends itself).
      const connectStop = new AbortController();
      void engine.then(() => {
        engineEnded = true;
        connectStop.abort();
        // A reserved port someone else took: stop the analysis now, the segment is retried on another port.
        if (reserved !== undefined && bindFailed(logs, st)) stop.abort();
      });
      stop.signal.addEventListener('abort', () => connectStop.abort(), { once: true });
      const analysis = (async (): Promise<void> => {
        await Promise.race([engineStarted, engine]);
        port ??= await discoverPort(logs, new RegExp(st.portPattern.source, st.portPattern.flags), st.portTimeout * 1000, engine, stop.signal);
        const found = port;
        const run = (): Promise<void> => this.analyse(st, s, vars, found, analysisLog, stop.signal, connectStop.signal);
        await (this.o.dispatchStream ? this.o.dispatchStream(s.task, found, run) : run());
      })().then(
        () => null,
        async (e: unknown): Promise<string | null> => {
          if (!(e instanceof StreamFailure || e instanceof ImdProtocolError || e instanceof ImdTimeoutError || e instanceof ImdConnectError)) throw e;
          const why = `stream_trajectory: ${e.message}`;
          appendLog(analysisLog, [why]);
          if (s.signal?.aborted) return why;
          if (!st.required) {
            // The engine goes on; one that blocks until a client reads (-imdwait, a full socket) is read to the end.
            if (port !== undefined && !engineEnded) void drainStream(st.host, port);
            return null;
          }
          // A stream that ended early, likely because its engine died: give the engine a moment to report its
          // own failure (stopping it now would turn its exit status into 'cancelled'). An analysis program
          // that failed may have seen the same end, or may have failed mid-stream: a shorter grace.
          const seen = e instanceof ImdProtocolError && e.truncated ? 'stream-ended' : e instanceof StreamFailure ? e.seen : 'mid-stream';
          const grace = seen === 'stream-ended' ? 5000 : seen === 'program-exited' ? 1000 : 0;
          if (grace > 0 && !engineEnded) await settledWithin(engine, grace);
          stop.abort();
          return why;
        },
      );
      const [out, failure] = await Promise.all([engine, analysis]);
      s.signal?.removeEventListener('abort', onOuter);
      if (reserved !== undefined && attempt < attempts && !s.signal?.aborted && bindFailed(logs, st)) continue; // port taken: a new one
      return { out, failure };
    }
  }

  /** The stream analysis of one segment: the built-ins in this process and/or the analysis program, at once. */
  private async analyse(
    st: StreamTrajectory,
    s: { segDir: string; task: SegmentTask; pcoordFile: string; recorded: { frames: RecordedFrames | null } },
    vars: Record<string, string>,
    port: number,
    analysisLog: string,
    stop: AbortSignal,
    connectStop: AbortSignal,
  ): Promise<void> {
    const { config } = this.o;
    const segment = segmentTemplateFields(s.task);
    const streamVars = { ...vars, WEST_STREAM_HOST: st.host, WEST_STREAM_PORT: String(port) };
    const tasks: Promise<void>[] = [];
    if (st.pcoord || st.guard || st.record) {
      const recordFile = st.record?.target === 'file' ? resolve(s.segDir, this.refs.render(st.record.file, { segment })) : undefined;
      tasks.push(
        runBuiltins(st, st.host, port, config.system.pcoordLen, connectStop, recordFile).then((r) => {
          appendLog(analysisLog, r.notes);
          if (r.pcoord) writeFileSync(s.pcoordFile, r.pcoord.map((v) => `${v}\n`).join(''));
          s.recorded.frames = r.recorded;
        }),
      );
    }
    if (st.program) {
      const prog = st.program;
      const { stdout, stderr } = this.outputs(prog, { segment });
      tasks.push(
        this.run(prog, {
          cwd: prog.cwd ?? s.segDir,
          vars: streamVars,
          random: [RandomStream.SEGMENT, s.task.nIter, s.task.segId],
          stdout,
          stderr,
          signal: stop,
          timeoutSeconds: config.westream.segmentTimeout,
        }).then((out) => {
          const bad = out.cancelled ? null : describeExit(out, this.exePath(prog), config.westream.segmentTimeout);
          if (bad) throw new StreamFailure(`the analysis program: ${bad}${logTail(stdout)}`, 'program-exited');
        }),
      );
    }
    await Promise.all(tasks);
  }

  private topology: Promise<{ topology: string; atoms: number }> | undefined;

  /**
   * The topology of builtin record's target iteration, read once per runner through mdtraj in the user's Python
   * (WESTPA's mdtraj loader on a directory holding only that file: a one-frame trajectory whose topology is kept).
   */
  private streamTopology(): Promise<{ topology: string; atoms: number }> {
    const file = this.refs.render(this.o.config.executable.streamTrajectory?.record?.topology ?? '', {});
    this.topology ??= (async () => {
      const dir = join(this.returns.dir, 'stream-topology');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      try {
        copyFileSync(file, join(dir, basename(file)));
      } catch (e) {
        throw new PropagationError(`stream_trajectory.record.topology ${file}: ${(e as Error).message}`);
      }
      this.loaders ??= new PythonLoaders(this.o.config, this.o.simRoot);
      const t = await this.loaders.loadTrajectory({ nIter: 0, segId: 0, weight: 1, parentId: -1 }, dir, 'mdtraj_trajectory_loader');
      return { topology: t.topology, atoms: t.atoms };
    })();
    void this.topology.catch(() => (this.topology = undefined)); // a failure is reported per segment, and retried
    return this.topology;
  }

  /** get_pcoord for a basis state (or for an initial state, when `istate` is given): one pcoord point. */
  async getPcoord(bstate: BasisState, istate?: InitialState, signal?: AbortSignal): Promise<Float64Array> {
    return (await this.statePcoord(bstate, istate, signal, false)).pcoord;
  }

  /**
   * get_pcoord for a basis state, with WESTPA's HDF5 framework when `data_refs.iteration` is set (its
   * `get_pcoord` sets up the restart, log and trajectory returns for basis states too): the pcoord and the
   * restart and log bytes it packed, for iter_000000.h5. Iteration 1's walkers (and recycled ones) start from
   * their basis state's restart files, as WESTPA's prepare_segment_restarts gives them.
   */
  async basisStateData(bstate: BasisState, signal?: AbortSignal): Promise<BasisStateData> {
    return this.statePcoord(bstate, undefined, signal, this.o.config.data.dataRefs.iteration !== null);
  }

  private async statePcoord(
    bstate: BasisState,
    istate: InitialState | undefined,
    signal: AbortSignal | undefined,
    framework: boolean,
  ): Promise<BasisStateData> {
    if (this.python) return { pcoord: await this.python.getPcoord(bstate, istate), restart: null, log: null, trajectory: null };
    const prog = this.o.config.executable.getPcoord;
    const what = istate ? `initial state ${istate.id}` : `basis state ${bstate.id} ('${bstate.label}')`;
    if (!prog) throw new PropagationError(`${what}: no executable.get_pcoord is configured, so its progress coordinate cannot be computed`);
    const vars = istate ? this.stateVars(istate, bstate) : { WEST_BSTATE_ID: String(bstate.id), WEST_BSTATE_DATA_REF: this.refs.basisState(bstate) };
    vars.WEST_STRUCT_DATA_REF = istate ? this.istateParentRef(istate, bstate) : (vars.WEST_BSTATE_DATA_REF as string);
    const values = istate ? { basis_state: basisFields(bstate), initial_state: initialFields(istate) } : { basis_state: basisFields(bstate) };
    const { stdout, stderr } = this.outputs(prog, values);
    const returns = this.returns.take(false);
    const h5 = framework ? makeHdf5Returns(this.returns.dir, `bstate-${bstate.id}`) : null;
    try {
      const out = await this.run(prog, {
        cwd: prog.cwd ?? this.o.simRoot,
        vars: { ...vars, ...returns.vars, ...h5?.vars },
        random: istate ? [RandomStream.GET_PCOORD, 1, istate.id] : [RandomStream.GET_PCOORD, 0, bstate.id],
        stdout,
        stderr,
        signal,
        timeoutSeconds: null,
      });
      const bad = describeExit(out, this.exePath(prog), null);
      if (bad) throw new PropagationError(`get_pcoord for ${what}: ${bad}${logTail(stdout)}`);
      let pcoord: Float64Array;
      try {
        const ndim = this.o.config.system.pcoordNdim;
        pcoord = checkPcoordShape(
          readTable(returns.pcoord, `WEST_PCOORD_RETURN ${returns.pcoord}`, pcoordLimits(1, ndim)),
          1,
          ndim,
          `get_pcoord for ${what}: WEST_PCOORD_RETURN`,
        );
      } catch (e) {
        if (e instanceof ReturnFileError) throw new PropagationError(`get_pcoord for ${what}: ${e.message}${logTail(stdout)}`);
        throw e;
      }
      if (!h5) return { pcoord, restart: null, log: null, trajectory: null };
      let packed: { restart: Uint8Array; log: Uint8Array | null };
      try {
        packed = { restart: await packRestart(h5, `get_pcoord for ${what}`), log: await packLog(h5, `get_pcoord for ${what}`) };
      } catch (e) {
        if (e instanceof IterationDataError) throw new PropagationError(e.message);
        throw e;
      }
      // WESTPA's get_pcoord returns a basis state's trajectory too (create_ibstate_iter_h5file stores it in
      // iteration 0's file), loaded by the user's trajectory loader as a segment's is.
      let trajectory: LoadedTrajectory | null = null;
      if (readdirSync(h5.trajectoryDir).some((f) => !f.startsWith('.'))) {
        const loader = this.o.config.data.trajectoryLoader ?? 'mdtraj_trajectory_loader';
        this.loaders ??= new PythonLoaders(this.o.config, this.o.simRoot);
        try {
          trajectory = await this.loaders.loadTrajectory(
            { nIter: 0, segId: bstate.id, weight: bstate.probability, parentId: -(bstate.id + 1) },
            h5.trajectoryDir,
            loader,
          );
        } catch (e) {
          if (e instanceof BridgeError) throw new PropagationError(`get_pcoord for ${what}: WEST_TRAJECTORY_RETURN: ${e.message}${logTail(stdout)}`);
          throw e;
        }
      }
      return { pcoord, ...packed, trajectory };
    } finally {
      this.returns.release(returns);
      if (h5) removeHdf5Returns(h5);
    }
  }

  /** gen_istate: makes initial state `istate` from `bstate`, then returns its pcoord via get_pcoord. */
  async genIstate(istate: InitialState, bstate: BasisState, signal?: AbortSignal): Promise<Float64Array> {
    if (this.python) return this.python.genIstate(istate, bstate);
    const prog = this.o.config.executable.genIstate;
    if (!prog) throw new PropagationError(`initial state ${istate.id}: gen_istates is true but no executable.gen_istate is configured`);
    const vars = this.stateVars(istate, bstate);
    const { stdout, stderr } = this.outputs(prog, { basis_state: basisFields(bstate), initial_state: initialFields(istate) });
    mkdirSync(dirname(vars.WEST_ISTATE_DATA_REF as string), { recursive: true });
    const out = await this.run(prog, {
      cwd: prog.cwd ?? this.o.simRoot,
      vars,
      random: [RandomStream.GEN_ISTATE, istate.id],
      stdout,
      stderr,
      signal,
      timeoutSeconds: null,
    });
    const bad = describeExit(out, this.exePath(prog), null);
    if (bad) throw new PropagationError(`gen_istate for initial state ${istate.id}: ${bad}${logTail(stdout)}`);
    return this.getPcoord(bstate, istate, signal);
  }

  /** Removes the runner's temp directory (return files). */
  close(): void {
    this.python?.close();
    this.loaders?.close();
    this.launcher?.close();
    this.returns.close();
  }

  /** pre_iteration / post_iteration; a failure is a warning (as in WESTPA), returned as text. */
  async runHook(which: 'pre' | 'post', nIter: number): Promise<string | null> {
    if (this.python) return null; // pre/post_iteration belong to the executable propagator's section
    const prog = which === 'pre' ? this.o.config.executable.preIteration : this.o.config.executable.postIteration;
    if (!prog || !prog.enabled) return null;
    const { stdout, stderr } = this.outputs(prog, { n_iter: nIter });
    const purpose = which === 'pre' ? RandomStream.PRE_ITERATION : RandomStream.POST_ITERATION;
    const out = await this.run(prog, {
      cwd: prog.cwd ?? this.o.simRoot,
      vars: { WEST_CURRENT_ITER: String(nIter) },
      random: [purpose, nIter],
      stdout,
      stderr,
      timeoutSeconds: null,
    });
    const bad = describeExit(out, this.exePath(prog), null);
    return bad ? `${which}_iteration for iteration ${nIter}: ${bad}${logTail(stdout)}` : null;
  }

  private exePath(prog: ChildProgram): string {
    return expandPath(prog.executable, this.env);
  }

  private stateVars(istate: InitialState, bstate: BasisState): Record<string, string> {
    return {
      WEST_BSTATE_ID: String(bstate.id),
      WEST_BSTATE_DATA_REF: this.refs.basisState(bstate),
      WEST_ISTATE_ID: String(istate.id),
      WEST_ISTATE_DATA_REF: this.refs.initialState(istate),
    };
  }

  /** What WESTPA passes as WEST_PARENT_DATA_REF for a walker that starts from an initial state. */
  private istateParentRef(istate: InitialState, bstate: BasisState): string {
    if (istate.type === IstateType.GENERATED) return this.refs.initialState(istate);
    if (istate.type === IstateType.START) return `${this.refs.basisState(bstate)}/${istate.basisAuxref}`;
    return this.refs.basisState(bstate);
  }

  private outputs(prog: ChildProgram, values: Record<string, unknown>): { stdout: string | null; stderr: string | null } {
    const stdout = prog.stdout ? this.refs.render(prog.stdout, values) : null;
    const stderr = prog.stderr === 'stdout' ? 'stdout' : prog.stderr ? this.refs.render(prog.stderr, values) : null;
    return { stdout, stderr };
  }

  /** Runs one of the config's programs (a segment's propagator, get_pcoord, gen_istate, a hook, an analysis). */
  private run(prog: ChildProgram, c: ChildCall): Promise<ChildOutcome> {
    const [purpose, ...path] = c.random;
    // WESTPA's order: os.environ, executable.environ, random values, per-call variables, the child's environ.
    const env = { ...randomEnv(this.o.seed, purpose, ...path), ...c.vars, ...prog.environ };
    return runChild({
      executable: this.exePath(prog),
      cwd: c.cwd,
      baseEnv: this.env,
      env,
      stdout: c.stdout,
      stderr: c.stderr,
      stdin: prog.stdin ? this.refs.render(prog.stdin, {}) : null,
      timeoutMs: c.timeoutSeconds === null ? null : c.timeoutSeconds * 1000,
      ...(this.o.killGraceMs !== undefined ? { killGraceMs: this.o.killGraceMs } : {}),
      ...(c.signal ? { signal: c.signal } : {}),
      ...(this.o.registry ? { registry: this.o.registry } : {}),
      ...(this.launcher ? { launcher: this.launcher } : {}),
      ...(c.queued ? { queued: true } : {}),
      ...(c.onStarted ? { onStarted: c.onStarted } : {}),
    });
  }
}

/** A TCP port free a moment ago on `host` (port_discovery: reserve; a race with another process is retried). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function bindFailed(logs: readonly string[], st: StreamTrajectory): boolean {
  const re = new RegExp(st.bindErrorPattern.source, st.bindErrorPattern.flags);
  return logs.some((f) => {
    try {
      return re.test(readFileSync(f, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** np.loadtxt's squeeze: one value → 0-D, one row or one column → 1-D. */
function squeeze(t: NumericTable): AuxArray {
  const [r, c] = t.shape;
  const shape = r === 1 && c === 1 ? [] : r === 1 ? [c] : c === 1 ? [r] : [r, c];
  return { shape, data: Array.from(t.data) };
}

/** Waits for `p` to settle, or `ms` to pass, whichever is first (and leaves no timer behind). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]);
  clearTimeout(timer);
}
