/**
 * Raw `west.yaml` (already shape-checked) → `WestConfig`: WESTPA's defaults filled in, values converted
 * (wallclock to seconds, dtype names, per-bin target counts) and every cross-key rule checked. Downstream
 * code only ever sees `WestConfig`, never optional raw keys.
 */
import { WESTPA_WE_DEFAULTS, type WeParams } from '@westream/we';
import { compileBinSpec, mapperFromSpec, type BinMapperSpec, type SpecProblem } from './bin-mapper-spec.js';
import type { ChildProgramYaml, DatasetYaml, WestYaml } from './schema.js';
import { checkTemplate, environ, wallclock, type Path } from './compile-helpers.js';
import { compileStreamTrajectory, type StreamTrajectory } from './compile-stream.js';
import { loadPythonSystem, specFromWire } from './python-system.js';
import { checkDrivers, type SubgroupDriver } from './python-drivers.js';
import { dirname } from 'node:path';
import type { YamlSource } from './yaml-source.js';

export type PcoordDtype = 'float32' | 'float64';

/** A child program with every WESTPA key resolved. Paths are templates, expanded when the program runs. */
export interface ChildProgram {
  readonly executable: string;
  readonly stdin: string | null;
  readonly stdout: string | null;
  /** `'stdout'` merges standard error into standard output, as in WESTPA. */
  readonly stderr: string | null;
  readonly cwd: string | null;
  readonly environ: Readonly<Record<string, string>>;
  readonly enabled: boolean;
}

export interface Dataset {
  readonly name: string;
  readonly h5path: string;
  readonly store: boolean;
  readonly load: boolean;
  readonly dtype: string | null;
  readonly scaleoffset: number | null;
  readonly compression: boolean | string | number | null;
  readonly loader: string | null;
  readonly filename: string | null;
  readonly dir: boolean;
  readonly enabled: boolean;
}

/** The normalized config. */
export interface WestConfig {
  /** Absolute path of the file it came from. */
  readonly file: string;
  readonly system: {
    readonly pcoordNdim: number;
    readonly pcoordLen: number;
    readonly pcoordDtype: PcoordDtype;
    readonly bins: BinMapperSpec;
    readonly nbins: number;
    readonly binTargetCounts: number[];
    /** The user's WESTSystem subclass (module.Class), built in Python; null: from system_options alone. */
    readonly driver: string | null;
    /** Extra sys.path entries for the user's modules (west.system.module_path). */
    readonly modulePath: string[];
  };
  readonly propagation: {
    readonly maxTotalIterations: number | null;
    readonly maxRunWallclock: number | null;
    readonly propagator: 'executable' | 'python';
    /** The user's Python propagator class (module.Class) when propagator is 'python'. */
    readonly pythonPropagator: string | null;
    readonly genIstates: boolean;
    readonly blockSize: number;
    readonly saveTransitionMatrices: boolean;
  };
  readonly we: WeParams;
  /**
   * west.drivers.subgroup_function (+ subgroup_arguments): the user's Python function that splits each bin
   * into subgroups, run in the sim-manager's helper; null: one group per bin (WESTPA's default).
   */
  readonly subgroup: SubgroupDriver | null;
  readonly data: {
    readonly westDataFile: string;
    readonly iterPrec: number;
    readonly datasets: Dataset[];
    readonly dataRefs: { readonly segment: string; readonly basisState: string; readonly initialState: string; readonly iteration: string | null };
    /**
     * With data_refs.iteration (WESTPA's HDF5 framework): the loader of the 'trajectory' dataset, one of
     * WESTPA's trajectory_loaders names or the user's module.function; null without the framework.
     */
    readonly trajectoryLoader: string | null;
  };
  readonly executable: {
    readonly environ: Readonly<Record<string, string>>;
    readonly propagator: ChildProgram;
    readonly getPcoord: ChildProgram | null;
    readonly genIstate: ChildProgram | null;
    readonly preIteration: ChildProgram | null;
    readonly postIteration: ChildProgram | null;
    /** Live analysis of each segment's IMD stream; null when absent or disabled. */
    readonly streamTrajectory: StreamTrajectory | null;
  };
  readonly westream: {
    /** west.westream.python: the interpreter for the user's Python pieces (null: $WESTREAM_PYTHON, else python3). */
    readonly python: string | null;
    /** Decimal string of a 64-bit unsigned seed, or null to draw one at init. */
    readonly seed: string | null;
    readonly runId: string | null;
    readonly workManager: 'local' | 'bullmq';
    readonly slots: number | null;
    readonly maxSegmentRetries: number;
    readonly segmentTimeout: number | null;
    /** Seconds a segment must have run (and 5× its iteration's median) to be reported as a straggler. */
    readonly stragglerSeconds: number;
    readonly redisUrl: string;
    readonly api: { readonly host: string; readonly port: number; readonly allowedHosts: readonly string[] };
  };
}

export interface CompileProblem {
  readonly path: Path;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

// WESTPA 2 exports WESTSystem as westpa.WESTSystem too: the same class.
const WESTSYSTEM = /^(westpa\.core\.systems\.|westpa\.)?WESTSystem$/;
const EXECUTABLE = /^(executable|westpa\.core\.propagators\.executable\.ExecutablePropagator)$/i;

/** Compiles a shape-valid raw config; problems are collected, never thrown. */
export function compileConfig(raw: WestYaml, src: YamlSource, file: string, problems: CompileProblem[]): WestConfig | undefined {
  const err = (path: Path, message: string): void => void problems.push({ path, message, severity: 'error' });
  const warn = (path: Path, message: string): void => void problems.push({ path, message, severity: 'warning' });
  const before = problems.filter((p) => p.severity === 'error').length;
  const w = raw.west;

  // --- system
  const sysPath: Path = ['west', 'system'];
  const driverName = w.system.driver ?? null;
  const driver = driverName !== null && !WESTSYSTEM.test(driverName) ? driverName : null;
  const opts = w.system.system_options ?? {};
  const optPath: Path = [...sysPath, 'system_options'];
  const ws0 = w.westream ?? {};
  const modulePath = typeof w.system.module_path === 'string' ? [w.system.module_path] : (w.system.module_path ?? []);
  let pcoordNdim = opts.pcoord_ndim ?? 1;
  let pcoordLen = opts.pcoord_len ?? 2;
  let pcoordDtype: PcoordDtype = 'float32';
  let bins: BinMapperSpec | undefined;
  let nbins = 0;
  let binTargetCounts: number[] = [];
  if (driver !== null) {
    // The user's own system, built in their Python by westpa (system_options applied on top, as WESTPA does).
    const sys = loadPythonSystem({ driver, file, simRoot: dirname(file), python: ws0.python ?? null, modulePath });
    if ('error' in sys) err([...sysPath, 'driver'], sys.error);
    else {
      pcoordNdim = sys.pcoordNdim;
      pcoordLen = sys.pcoordLen;
      if (sys.pcoordDtype === 'float32' || sys.pcoordDtype === 'float64') pcoordDtype = sys.pcoordDtype;
      else
        err(
          [...sysPath, 'driver'],
          `'${driver}' sets pcoord_dtype ${sys.pcoordDtype}; westream records float32 or float64 pcoords: set numpy.float32 or numpy.float64`,
        );
      const mapperProblems: SpecProblem[] = [];
      bins = specFromWire(sys.mapper, pcoordNdim, mapperProblems);
      for (const p of mapperProblems) {
        const where = `the ${p.path.join('.')} of '${driver}'`;
        if (p.severity === 'warning') warn([...sysPath, 'driver'], `${where}: ${p.message}`);
        else err([...sysPath, 'driver'], `${where}: ${p.message}`);
      }
      nbins = sys.nbins;
      binTargetCounts = sys.binTargetCounts;
      if (binTargetCounts.length !== nbins)
        err([...sysPath, 'driver'], `'${driver}' gives ${binTargetCounts.length} bin_target_counts for ${nbins} bins; give one per bin`);
      if (binTargetCounts.some((c) => !Number.isInteger(c) || c < 0))
        err([...sysPath, 'driver'], `'${driver}' gives bin_target_counts that are not whole numbers ≥ 0`);
      if (bins.type !== 'python') {
        const mapper = mapperFromSpec(bins);
        if (mapper.nbins !== nbins)
          err([...sysPath, 'driver'], `the bin mapper of '${driver}' translated to ${mapper.nbins} bins, not its ${nbins} (a bug: please report it)`);
      }
    }
  } else {
    if (w.system.system_options === undefined)
      err(optPath, 'missing; without a system driver WESTPA needs system_options (pcoord_ndim, pcoord_len, pcoord_dtype, bins, bin_target_counts)');
    // Without a driver WESTPA requires the pcoord keys; WESTSystem supplies defaults (1, 2, float32).
    else {
      for (const key of ['pcoord_ndim', 'pcoord_len', 'pcoord_dtype', 'bins', 'bin_target_counts'] as const) {
        if (opts[key] === undefined && driverName === null) err([...optPath, key], `missing; WESTPA requires it when no system driver is given`);
      }
    }
    if (opts.pcoord_dtype !== undefined) {
      const d = opts.pcoord_dtype.replace(/^(numpy|np)\./, '');
      if (d === 'float32' || d === 'float64') pcoordDtype = d;
      else if (d === 'float' || d === 'double') pcoordDtype = 'float64';
      else err([...optPath, 'pcoord_dtype'], `expected !!python/name:numpy.float32 or !!python/name:numpy.float64, found '${opts.pcoord_dtype}'`);
    }
    const specProblems: SpecProblem[] = [];
    if (opts.bins !== undefined) bins = compileBinSpec(opts.bins, [...optPath, 'bins'], specProblems);
    else if (w.system.system_options !== undefined && driverName !== null)
      err([...optPath, 'bins'], 'missing; WESTSystem has no bins of its own: give bins here, or name your own system class in driver');
    for (const p of specProblems) (p.severity === 'warning' ? warn : err)(p.path, p.message);
    if (bins) {
      const mapper = mapperFromSpec(bins);
      nbins = mapper.nbins;
      if (mapper.ndim !== pcoordNdim) {
        err([...optPath, 'bins'], `the bin mapper has ${mapper.ndim} dimension${mapper.ndim === 1 ? '' : 's'} but pcoord_ndim is ${pcoordNdim}`);
      }
      const counts = opts.bin_target_counts ?? 0;
      if (Array.isArray(counts)) {
        if (counts.length !== nbins)
          err(
            [...optPath, 'bin_target_counts'],
            `has ${counts.length} entries but the bins define ${nbins} bins; give one count per bin, or one integer for all`,
          );
        binTargetCounts = counts;
      } else {
        binTargetCounts = new Array<number>(nbins).fill(counts);
      }
    }
  }
  if (bins && binTargetCounts.length > 0 && binTargetCounts.every((c) => c === 0))
    err(
      driver !== null ? [...sysPath, 'driver'] : [...optPath, 'bin_target_counts'],
      'every bin has a target of 0 walkers; give at least one bin a positive count',
    );

  // --- propagation
  const prop = w.propagation;
  const pPath: Path = ['west', 'propagation'];
  const propagatorName = prop.propagator ?? 'executable';
  const pythonPropagator = EXECUTABLE.test(propagatorName) ? null : propagatorName;
  if (pythonPropagator !== null && !/^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/.test(pythonPropagator)) {
    err([...pPath, 'propagator'], `expected 'executable' or a Python class as module.Class, found '${pythonPropagator}'`);
  }
  const maxRunWallclock = wallclock(prop.max_run_wallclock, [...pPath, 'max_run_wallclock'], src, err, warn);

  // --- we
  const we = w.we ?? {};
  const weParams: WeParams = {
    adjustCounts: we.adjust_counts ?? WESTPA_WE_DEFAULTS.adjustCounts,
    thresholds: we.thresholds ?? WESTPA_WE_DEFAULTS.thresholds,
    weightSplitThreshold: we.weight_split_threshold ?? WESTPA_WE_DEFAULTS.weightSplitThreshold,
    weightMergeCutoff: we.weight_merge_cutoff ?? WESTPA_WE_DEFAULTS.weightMergeCutoff,
    largestAllowedWeight: we.largest_allowed_weight ?? WESTPA_WE_DEFAULTS.largestAllowedWeight,
    smallestAllowedWeight: we.smallest_allowed_weight ?? WESTPA_WE_DEFAULTS.smallestAllowedWeight,
  };
  if (weParams.smallestAllowedWeight >= weParams.largestAllowedWeight) {
    err(
      ['west', 'we', 'smallest_allowed_weight'],
      `must be below largest_allowed_weight (${weParams.largestAllowedWeight}), found ${weParams.smallestAllowedWeight}`,
    );
  }

  // --- data
  const data = w.data;
  const dPath: Path = ['west', 'data'];
  // A Python propagator needs no data_refs (WESTPA reads them only in the executable propagator).
  if (data.data_refs === undefined && pythonPropagator === null)
    err([...dPath, 'data_refs'], 'missing; the executable propagator needs data_refs.segment, basis_state and initial_state (templates for their directories)');
  const refs = data.data_refs ?? {
    segment: '$WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}',
    basis_state: '$WEST_SIM_ROOT/bstates/{basis_state.auxref}',
    initial_state: '$WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}',
  };
  if (refs.iteration && pythonPropagator !== null) {
    warn(
      [...dPath, 'data_refs', 'iteration'],
      "WESTPA's HDF5 framework stores what the executable propagator's WEST_TRAJECTORY_RETURN, WEST_RESTART_RETURN and WEST_LOG_RETURN hold; a Python propagator fills none of them, so no iteration files are written",
    );
  }
  for (const [key, text] of Object.entries(refs)) {
    if (typeof text === 'string') checkTemplate(text, [...dPath, 'data_refs', key], err);
  }
  const exe = w.executable ?? {};
  const picked = pickDatasets(data.datasets ?? [], exe.datasets ?? []);
  // With the HDF5 framework, trajectory, restart and log are its own datasets (WESTPA: store_h5), not auxdata.
  const framework = Boolean(data.data_refs?.iteration);
  const trajectoryDs = framework ? picked.find((d) => d.name === 'trajectory') : undefined;
  const trajectoryLoader = framework ? (trajectoryDs?.loader ?? 'mdtraj_trajectory_loader') : null;
  const datasets = framework ? picked.filter((d) => !HDF5_FRAMEWORK_DATASETS.has(d.name)) : picked;
  if (trajectoryLoader !== null && !/^[A-Za-z_][\w.]*$/.test(trajectoryLoader)) {
    err(
      [...dPath, 'datasets', picked.indexOf(trajectoryDs as Dataset), 'loader'],
      `expected one of WESTPA's trajectory loaders (mdtraj_trajectory_loader, mdanalysis_trajectory_loader, netcdf_trajectory_loader) or your Python function as module.function, found '${trajectoryLoader}'`,
    );
  }
  for (const [i, ds] of datasets.entries()) {
    if (ds.name === 'pcoord' && ds.dir) err([...dPath, 'datasets', i, 'dir'], 'the pcoord dataset cannot be a directory');
    // Lossy storage would make west.h5 differ from the values the run resampled with (and a resumed run from
    // an undisturbed one); westream keeps full precision. Only disk space differs from WESTPA.
    if (ds.scaleoffset !== null)
      warn(
        [...dPath, 'datasets', i, 'scaleoffset'],
        `not applied: westream stores ${ds.name} at full precision (WESTPA would round it to ${ds.scaleoffset} decimal place(s)); the file is larger, the values more precise`,
      );
    if (ds.loader !== null && !NATIVE_LOADER.test(ds.loader) && !/^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/.test(ds.loader)) {
      err([...dPath, 'datasets', i, 'loader'], `expected aux_data_loader, npy_data_loader or your Python function as module.function, found '${ds.loader}'`);
    }
  }

  // --- executable
  const ePath: Path = ['west', 'executable'];
  const program = (key: Exclude<keyof typeof exe, 'stream_trajectory'>, defaults: { stdout: string | null; enabled: boolean }): ChildProgram | null => {
    const p = exe[key] as ChildProgramYaml | null | undefined;
    if (!p) return null;
    for (const k of ['stdout', 'stderr', 'stdin', 'cwd'] as const) {
      const v = p[k];
      if (typeof v === 'string' && v !== 'stdout') checkTemplate(v, [...ePath, key, k], err);
    }
    if (p.stdin === 'stdout') err([...ePath, key, 'stdin'], "'stdout' is only meaningful for stderr");
    return {
      executable: p.executable,
      stdin: p.stdin ?? null,
      stdout: p.stdout ?? defaults.stdout,
      stderr: p.stderr ?? null,
      cwd: p.cwd ?? null,
      environ: environ(p.environ),
      enabled: p.enabled ?? defaults.enabled,
    };
  };
  const propagator = program('propagator', { stdout: null, enabled: true });
  if (!propagator && pythonPropagator === null) {
    err([...ePath, 'propagator'], 'missing; the executable propagator needs west.executable.propagator.executable (your runseg.sh)');
  }
  const genIstate = program('gen_istate', { stdout: null, enabled: true });
  if ((prop.gen_istates ?? false) && !genIstate && pythonPropagator === null) {
    err([...pPath, 'gen_istates'], 'is true but west.executable.gen_istate is not configured; add it or set gen_istates: false');
  }
  for (const prog of ['propagator', 'get_pcoord', 'gen_istate'] as const) {
    if (exe[prog]?.enabled !== undefined) warn([...ePath, prog, 'enabled'], `WESTPA ignores 'enabled' for ${prog}; so does westream`);
  }
  const streamYaml = exe.stream_trajectory;
  const streamTrajectory =
    streamYaml && (streamYaml.enabled ?? true) ? compileStreamTrajectory(streamYaml, propagator, [...ePath, 'stream_trajectory'], src, err, warn) : null;
  if (streamTrajectory?.record?.target === 'iteration' && !(w.data?.data_refs?.iteration ?? null)) {
    err(
      [...ePath, 'stream_trajectory', 'record', 'target'],
      'is iteration, but west.data.data_refs.iteration is not set: set it (e.g. $WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5) or use target: file',
    );
  }
  if (streamTrajectory?.pcoord && pcoordNdim !== 1) {
    err(
      [...ePath, 'stream_trajectory', 'builtin'],
      `builtin pcoord gives one distance per frame, but pcoord_ndim is ${pcoordNdim}; set pcoord_ndim: 1 or compute the pcoord in an analysis executable`,
    );
  }
  if (prop.save_transition_matrices)
    warn(
      [...pPath, 'save_transition_matrices'],
      'westream does not write bin_ntrans / bin_fluxes; w_assign and w_direct compute transitions and fluxes from west.h5 (ignored)',
    );
  if (exe.subgroup_walkers) warn([...ePath, 'subgroup_walkers'], "WESTPA's undocumented subgroup_walkers is not supported; ignored");

  // --- WESTPA sections westream does not run
  const subgroup = checkDrivers(w.drivers, w.plugins, bins, err, warn);

  // --- westream
  const ws = w.westream ?? {};
  const wsPath: Path = ['west', 'westream'];
  let seed: string | null = null;
  if (ws.seed !== undefined && ws.seed !== null) {
    // Read the seed from the source text: a 20-digit seed is not exact as a YAML float.
    const text = src.sourceOf([...wsPath, 'seed'])?.text ?? String(ws.seed);
    if (!/^\d+$/.test(text) || BigInt(text) >= 1n << 64n) err([...wsPath, 'seed'], `expected a whole number 0 ≤ seed < 2^64, found ${text}`);
    else seed = BigInt(text).toString();
  }
  const segmentTimeout = wallclock(ws.segment_timeout, [...wsPath, 'segment_timeout'], src, err, warn);
  const stragglerSeconds = wallclock(ws.straggler_seconds, [...wsPath, 'straggler_seconds'], src, err, warn) ?? 60;
  const api = ws.api ?? {};

  if (problems.filter((p) => p.severity === 'error').length > before || !bins) return undefined;
  return {
    file,
    system: { pcoordNdim, pcoordLen, pcoordDtype, bins, nbins, binTargetCounts, driver, modulePath },
    propagation: {
      maxTotalIterations: prop.max_total_iterations ?? null,
      maxRunWallclock,
      propagator: pythonPropagator === null ? 'executable' : 'python',
      pythonPropagator,
      genIstates: prop.gen_istates ?? false,
      blockSize: prop.block_size ?? 1,
      saveTransitionMatrices: prop.save_transition_matrices ?? false,
    },
    we: weParams,
    subgroup,
    data: {
      westDataFile: data.west_data_file ?? 'west.h5',
      iterPrec: data.iter_prec ?? 8,
      datasets,
      dataRefs: { segment: refs.segment, basisState: refs.basis_state, initialState: refs.initial_state, iteration: refs.iteration ?? null },
      trajectoryLoader,
    },
    executable: {
      environ: environ(exe.environ),
      // A Python propagator has no runseg.sh; this placeholder is never run.
      propagator: propagator ?? { executable: pythonPropagator ?? '', stdin: null, stdout: null, stderr: null, cwd: null, environ: {}, enabled: false },
      getPcoord: program('get_pcoord', { stdout: null, enabled: true }),
      genIstate,
      preIteration: program('pre_iteration', { stdout: null, enabled: true }),
      postIteration: program('post_iteration', { stdout: null, enabled: true }),
      streamTrajectory,
    },
    westream: {
      python: ws.python ?? null,
      seed,
      runId: ws.run_id ?? null,
      workManager: ws.work_manager ?? 'local',
      slots: ws.slots ?? null,
      maxSegmentRetries: ws.max_segment_retries ?? 2,
      segmentTimeout,
      stragglerSeconds,
      redisUrl: ws.redis?.url ?? 'redis://127.0.0.1:6379',
      api: { host: api.host ?? '127.0.0.1', port: api.port ?? 8080, allowedHosts: (api.allowed_hosts ?? []).map((h) => h.toLowerCase()) },
    },
  };
}

const NATIVE_LOADER = /^(aux_data_loader|npy_data_loader|westpa\.core\.propagators\.executable\.(aux|npy)_data_loader)$/;

/** Whether a dataset's loader is the user's own Python function (called on the worker through the bridge). */
export function isPythonLoader(loader: string | null): boolean {
  return loader !== null && !NATIVE_LOADER.test(loader);
}

/**
 * The datasets a segment returns: west.executable.datasets where given, else west.data.datasets — WESTPA's
 * rule (executable.py: one list or the other, never merged).
 */
const HDF5_FRAMEWORK_DATASETS = new Set(['trajectory', 'restart', 'log']);

function pickDatasets(dataSets: readonly DatasetYaml[], exeSets: readonly DatasetYaml[]): Dataset[] {
  const byName = new Map<string, DatasetYaml>();
  for (const d of exeSets.length > 0 ? exeSets : dataSets) byName.set(d.name, d);
  if (!byName.has('pcoord')) byName.set('pcoord', { name: 'pcoord' });
  return [...byName.values()].map((d) => ({
    name: d.name,
    h5path: d.h5path ?? (d.name === 'pcoord' ? 'pcoord' : `auxdata/${d.name}`),
    store: d.store ?? true,
    load: d.load ?? false,
    dtype: d.dtype ?? null,
    scaleoffset: d.scaleoffset ?? null,
    compression: d.compression ?? null,
    loader: d.loader ?? null,
    filename: d.filename ?? null,
    dir: d.dir ?? false,
    enabled: d.enabled ?? true,
  }));
}
