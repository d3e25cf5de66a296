/**
 * The shape of `west.yaml` / WESTPA's `west.cfg`, declared once. The raw config type, the validation at
 * load and `config/west.schema.json` (for editors) all derive from this. Keys keep WESTPA's names and
 * meaning; westream's own settings live under `west.westream`, which WESTPA ignores.
 * Semantic checks that a schema cannot express (bin mappers, templates, counts per bin) are in
 * `compile-config.ts`.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Opt = <T extends TSchema>(t: T) => Type.Optional(Nullable(t));
const Strict = { additionalProperties: false } as const;

const EnvValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
const Environ = Type.Record(Type.String(), EnvValue, {
  description: 'Environment variables added for child programs (values are converted to strings).',
});

const childProgramKeys = {
  executable: Type.String({ minLength: 1, description: 'Program to run; $VAR and ~ are expanded.' }),
  stdin: Opt(Type.String({ description: 'File to read as standard input (default /dev/null).' })),
  stdout: Opt(Type.String({ description: 'File for standard output; a template such as seg_logs/{segment.n_iter:06d}-{segment.seg_id:06d}.log.' })),
  stderr: Opt(Type.String({ description: "File for standard error, or the word 'stdout' to merge both." })),
  cwd: Opt(Type.String({ description: 'Working directory (the propagator always runs in its segment directory).' })),
  environ: Opt(Environ),
  enabled: Type.Optional(Type.Boolean({ description: 'Whether the program runs (pre_iteration, post_iteration, stream_trajectory).' })),
};
export const ChildProgramSchema = Type.Object(childProgramKeys, { description: "A program westream runs, with WESTPA's keys." });

const AtomIndex = Type.Integer({ minimum: 0, description: 'Atom index, from 0, in the streamed frame.' });
const PcoordAnalysisSchema = Type.Object(
  {
    atoms: Opt(Type.Array(AtomIndex, { minItems: 2, maxItems: 2, description: 'Two atoms: pcoord = their distance.' })),
    groups: Opt(
      Type.Array(Type.Array(AtomIndex, { minItems: 1 }), {
        minItems: 2,
        maxItems: 2,
        description: 'Two atom groups: pcoord = the distance between their centres (unweighted).',
      }),
    ),
    stride: Opt(Type.Integer({ minimum: 1, description: 'Use every stride-th frame (default: the one stride that gives pcoord_len points).' })),
    scale: Opt(Type.Number({ exclusiveMinimum: 0, description: "Multiplies the distance, which is in the stream's units (Å for IMD): 0.1 gives nm." })),
  },
  { ...Strict, description: 'builtin pcoord: the progress coordinate from the stream; WEST_PCOORD_RETURN is written from it.' },
);
const GuardAnalysisSchema = Type.Object(
  {
    max_displacement: Type.Number({ exclusiveMinimum: 0, description: 'Largest move of any atom between two consecutive frames (stream units, Å).' }),
  },
  { ...Strict, description: 'builtin guard: stops the engine and fails the segment when an atom jumps or a coordinate is NaN/Inf.' },
);
const RecordAnalysisSchema = Type.Object(
  {
    file: Opt(
      Type.String({
        description: 'H5MD file per segment, relative to the segment directory (default seg.h5md); a template such as {segment.seg_id} is allowed.',
      }),
    ),
    atoms: Opt(Type.Array(AtomIndex, { minItems: 1, description: 'Atoms to record (default: all).' })),
    stride: Opt(Type.Integer({ minimum: 1, description: 'Record every stride-th frame (default 1).' })),
    fields: Opt(
      Type.Array(Type.Union([Type.Literal('position'), Type.Literal('velocity'), Type.Literal('force')]), {
        minItems: 1,
        description: 'What to record (default [position]); the stream must carry it.',
      }),
    ),
    compression: Opt(Type.Integer({ minimum: 0, maximum: 9, description: 'gzip level (default 4; 0: uncompressed).' })),
    target: Opt(
      Type.Union([Type.Literal('file'), Type.Literal('iteration')], {
        description:
          "Where the frames go: 'file' (default), an H5MD file per segment; 'iteration', the segment's trajectory in WESTPA's HDF5 framework (data_refs.iteration: iter_NNNNNN.h5, as a trajectory loader's would be), with no trajectory file written.",
      }),
    ),
    topology: Opt(
      Type.String({
        description:
          'target: iteration: a topology file of the streamed atoms that mdtraj reads (.pdb, .gro …), e.g. $WEST_SIM_ROOT/bstates/conf.gro; the iteration file stores it with the frames.',
      }),
    ),
  },
  {
    ...Strict,
    description: "builtin record: the streamed frames as an H5MD trajectory per segment (MDAnalysis reads it), or into the HDF5 framework's iteration file.",
  },
);
const Builtin = Type.Union([Type.Literal('pcoord'), Type.Literal('guard'), Type.Literal('record')]);
export const StreamTrajectorySchema = Type.Object(
  {
    ...childProgramKeys,
    executable: Type.Optional(
      Type.String({ minLength: 1, description: "Analysis program (gets WEST_STREAM_HOST, WEST_STREAM_PORT and the segment's WEST_* set); or use builtin." }),
    ),
    builtin: Opt(
      Type.Union([Builtin, Type.Array(Builtin, { minItems: 1 })], { description: 'Built-in analyses run in westream itself: pcoord, guard, record.' }),
    ),
    port_discovery: Type.Optional(
      Type.Union([Type.Literal('engine'), Type.Literal('reserve')], {
        description: 'engine (default): the engine binds port 0 and prints it; reserve: westream picks a free port and passes it in port_env.',
      }),
    ),
    port_pattern: Opt(Type.String({ description: "Regular expression with one group, the port, matched in the propagator's log (default: GROMACS's line)." })),
    port_timeout: Opt(
      Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.String()], {
        description: 'How long the port may take to appear, seconds or HH:MM:SS (default 60).',
      }),
    ),
    port_env: Opt(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description: 'reserve: the variable that carries the port to the propagator (default WEST_STREAM_PORT).',
      }),
    ),
    bind_error_pattern: Opt(Type.String({ description: 'reserve: a propagator log line meaning the port was taken (the segment is retried on a new port).' })),
    port_retries: Opt(Type.Integer({ minimum: 0, description: 'reserve: new ports to try after a bind failure (default 3).' })),
    required: Type.Optional(Type.Boolean({ description: 'Whether a failed stream task fails the segment (default true).' })),
    host: Opt(Type.String({ description: 'Where the engine listens (default 127.0.0.1: the same node).' })),
    timeout: Opt(Type.Number({ exclusiveMinimum: 0, description: 'IMD timeout, seconds: handshake and the gap between frames (default 60).' })),
    n_atoms: Opt(Type.Integer({ minimum: 1, description: 'Atoms per frame; a stream with another count is an error.' })),
    box: Opt(
      Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
        minItems: 3,
        maxItems: 3,
        description: 'Rectangular box lengths (stream units, Å) for minimum images when the stream carries no box (IMD v2: GROMACS, LAMMPS).',
      }),
    ),
    pcoord: Opt(PcoordAnalysisSchema),
    guard: Opt(GuardAnalysisSchema),
    record: Opt(RecordAnalysisSchema),
  },
  { description: 'Live analysis beside the propagator, reading its IMD stream (westream).' },
);

/** Said of WESTPA keys that load (a west.cfg stays valid) but change nothing here. */
const NOT_APPLIED = "accepted for WESTPA's sake, not applied by westream";

const DatasetSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Dataset name; WEST_<NAME>_RETURN is set for the propagator.' }),
    h5path: Opt(Type.String({ description: `Where WESTPA stores it in the iteration group; ${NOT_APPLIED} (auxdata/NAME).` })),
    store: Type.Optional(Type.Boolean({ description: `Whether WESTPA stores it; ${NOT_APPLIED} (every enabled dataset is stored).` })),
    load: Type.Optional(Type.Boolean({ description: `Whether WESTPA loads it for a parent's children; ${NOT_APPLIED}.` })),
    dtype: Opt(Type.String({ description: `HDF5 type; ${NOT_APPLIED} (auxdata is stored as float64).` })),
    scaleoffset: Opt(Type.Integer({ minimum: 0, description: 'Lossy rounding to this many decimals in WESTPA; westream keeps full precision and warns.' })),
    compression: Opt(Type.Union([Type.Boolean(), Type.String(), Type.Integer()], { description: `HDF5 compression; ${NOT_APPLIED}.` })),
    chunks: Opt(Type.Union([Type.Array(Type.Integer({ minimum: 1 })), Type.Boolean()], { description: `HDF5 chunk shape; ${NOT_APPLIED}.` })),
    file: Opt(Type.String({ description: `WESTPA's trajectory-file option; ${NOT_APPLIED}.` })),
    loader: Opt(
      Type.String({
        description:
          'aux_data_loader (text, as np.loadtxt; the default), npy_data_loader, or your own Python function (module.function), called on the worker with (fieldname, filename, segment, single_point).',
      }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'Whether the dataset is returned and recorded (default true).' })),
    filename: Opt(Type.String({ description: 'The return file (a template); default: a file westream makes per segment, in WEST_<NAME>_RETURN.' })),
    dir: Type.Optional(Type.Boolean({ description: 'The return is a directory (WESTPA); such a dataset is not recorded by westream.' })),
  },
  { description: 'An auxiliary dataset recorded per segment (WESTPA west.data.datasets / west.executable.datasets).' },
);

const BinsSchema = Type.Object(
  {
    type: Type.String({
      description:
        'RectilinearBinMapper, RecursiveBinMapper (with base and mappers[].at), MABBinMapper (nbins, direction, skip, bottleneck, pca, mab_log, bin_log, bin_log_path) or BinlessMapper (ngroups, ndims, group_function); others are not supported yet.',
    }),
  },
  {
    additionalProperties: true,
    description:
      'Bin mapper: {type: RectilinearBinMapper, boundaries: [[b0, b1, ..., inf], ...]} or ' +
      '{type: RecursiveBinMapper, base: {...}, mappers: [{type: ..., at: [x, ...]}]}.',
  },
);

const SystemOptionsSchema = Type.Object(
  {
    pcoord_ndim: Type.Optional(Type.Integer({ minimum: 1, description: 'Dimensions of the progress coordinate.' })),
    pcoord_len: Type.Optional(Type.Integer({ minimum: 1, description: 'Points per segment, including the initial point.' })),
    pcoord_dtype: Type.Optional(Type.String({ description: '!!python/name:numpy.float32 (default) or !!python/name:numpy.float64.' })),
    bins: Type.Optional(BinsSchema),
    bin_target_counts: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.Array(Type.Integer({ minimum: 0 }))], {
        description: 'Walkers per bin: one integer for all bins, or a list with one entry per bin.',
      }),
    ),
  },
  { description: "The system: the progress coordinate's shape and the bins (WESTPA's WESTSystem options)." },
);

const ExecutableSchema = Type.Object({
  environ: Opt(Environ),
  datasets: Opt(
    Type.Array(DatasetSchema, { description: 'Auxiliary datasets returned by the propagator (merged with west.data.datasets; these win per name).' }),
  ),
  propagator: Opt(ChildProgramSchema),
  get_pcoord: Opt(ChildProgramSchema),
  gen_istate: Opt(ChildProgramSchema),
  pre_iteration: Opt(ChildProgramSchema),
  post_iteration: Opt(ChildProgramSchema),
  stream_trajectory: Opt(StreamTrajectorySchema),
  subgroup_walkers: Opt(ChildProgramSchema),
});

const WestreamSchema = Type.Object(
  {
    seed: Opt(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })], {
        description: 'Run seed (0 ≤ seed < 2^64). Absent: a random seed is drawn and recorded in west.h5.',
      }),
    ),
    run_id: Opt(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Names the run in job ids and queues.' })),
    python: Opt(
      Type.String({
        minLength: 1,
        description:
          'The Python (with westpa) that runs your Python system, propagator, loaders and bin functions (default: $WESTREAM_PYTHON, else python3 on PATH).',
      }),
    ),
    work_manager: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('bullmq')], { description: 'local (default) or bullmq.' })),
    slots: Opt(Type.Integer({ minimum: 1, description: 'Segments run at once by the local work manager (default: CPU cores).' })),
    max_segment_retries: Opt(Type.Integer({ minimum: 0, description: 'Times a failed segment is re-run before the run halts (default 2).' })),
    segment_timeout: Opt(Type.Union([Type.Integer({ minimum: 1 }), Type.String()], { description: 'Wall-time limit per segment, seconds or HH:MM:SS.' })),
    straggler_seconds: Opt(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String()], {
        description:
          "A running segment is named a straggler (status, dashboard, a log line) once it has run this long and 5× the median of its iteration's completed segments; seconds or HH:MM:SS (default 60). No segment is killed for it: that is segment_timeout.",
      }),
    ),
    redis: Opt(
      Type.Object(
        { url: Opt(Type.String({ description: 'redis://host:port/db (default redis://127.0.0.1:6379; --redis wins).' })) },
        { ...Strict, description: "The bullmq work manager's Redis." },
      ),
    ),
    api: Opt(
      Type.Object(
        {
          host: Opt(Type.String({ description: 'Address the REST API binds (default 127.0.0.1).' })),
          port: Opt(Type.Integer({ minimum: 0, maximum: 65535, description: 'Port of the REST API (default 8080).' })),
          allowed_hosts: Opt(
            Type.Array(Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' }), {
              description:
                "Host names the API answers to besides localhost and IP addresses (a proxy's or a tunnel's name); any other Host header gets 403, against DNS rebinding.",
            }),
          ),
        },
        { ...Strict, description: 'The REST API and dashboard (--api HOST:PORT|off wins).' },
      ),
    ),
  },
  { ...Strict, description: "westream's own settings; WESTPA ignores this section." },
);

export const WestYamlSchema = Type.Object(
  {
    west: Type.Object({
      system: Type.Object({
        driver: Opt(
          Type.String({
            description:
              'Your WESTSystem subclass (module.Class), built in your Python by westpa, system_options applied on top as WESTPA does; none or westpa.core.systems.WESTSystem: the system comes from system_options alone.',
          }),
        ),
        module_path: Opt(
          Type.Union([Type.String(), Type.Array(Type.String())], {
            description: 'Extra Python path for your modules (besides the sim root and west.drivers.module_path).',
          }),
        ),
        system_options: Type.Optional(SystemOptionsSchema),
      }),
      propagation: Type.Object({
        max_total_iterations: Opt(Type.Integer({ minimum: 1, description: 'Stop after this iteration.' })),
        max_run_wallclock: Opt(Type.Union([Type.Integer({ minimum: 0 }), Type.String()], { description: 'HH:MM:SS, DD:HH:MM:SS or seconds.' })),
        propagator: Type.Optional(
          Type.String({
            description: "'executable' (default: your runseg.sh), or your Python propagator class (module.Class), run on the workers in your Python.",
          }),
        ),
        gen_istates: Type.Optional(Type.Boolean({ description: 'Run gen_istate to make initial states (default false).' })),
        block_size: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: "Segments per work-manager task (default 1); a Python propagator's propagate() gets up to this many at once.",
          }),
        ),
        save_transition_matrices: Type.Optional(
          Type.Boolean({
            description: `WESTPA writes bin_ntrans and bin_fluxes per iteration; ${NOT_APPLIED} (w_assign and w_direct compute them from the record).`,
          }),
        ),
      }),
      we: Opt(
        Type.Object({
          adjust_counts: Type.Optional(Type.Boolean({ description: 'Bring every bin to exactly its target count (default true).' })),
          thresholds: Type.Optional(Type.Boolean({ description: 'Enforce largest/smallest allowed weight (default true).' })),
          weight_split_threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Split walkers heavier than this × ideal (default 2.0).' })),
          weight_merge_cutoff: Type.Optional(
            Type.Number({ exclusiveMinimum: 0, description: 'Merge walkers lighter in sum than this × ideal (default 1.0).' }),
          ),
          largest_allowed_weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Default 1.0.' })),
          smallest_allowed_weight: Type.Optional(Type.Number({ minimum: 0, description: 'Default 1e-310.' })),
        }),
      ),
      data: Type.Object({
        west_data_file: Opt(Type.String({ description: 'The HDF5 record (default west.h5).' })),
        west_data_file_driver: Opt(Type.String({ description: `h5py file driver; ${NOT_APPLIED}.` })),
        iter_prec: Opt(Type.Integer({ minimum: 1, maximum: 20, description: 'Digits of the iteration group names, iter_00000001 (default 8).' })),
        aux_compression_threshold: Opt(Type.Integer({ minimum: 0, description: `Size above which WESTPA compresses auxdata; ${NOT_APPLIED}.` })),
        flush_period: Opt(Type.Number({ minimum: 0, description: 'Seconds between WESTPA flushes; westream commits west.h5 once per iteration, atomically.' })),
        datasets: Opt(
          Type.Array(DatasetSchema, {
            description: 'Datasets recorded per segment: pcoord and auxiliary ones (auxdata/NAME), each from its WEST_<NAME>_RETURN file.',
          }),
        ),
        data_refs: Type.Optional(
          Type.Object(
            {
              segment: Type.String({ description: 'Segment directory template, e.g. $WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}.' }),
              basis_state: Type.String({ description: 'Basis state template, e.g. $WEST_SIM_ROOT/bstates/{basis_state.auxref}.' }),
              initial_state: Type.String({
                description: 'Initial state template, e.g. $WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}.',
              }),
              iteration: Opt(
                Type.String({
                  description:
                    "WESTPA's per-iteration trajectory file (HDF5 framework); not yet applied: westream warns (parent restart files are not restored from it, WEST_*_RETURN for it unset).",
                }),
              ),
            },
            {
              description:
                'Where segments, basis states and initial states live: templates with {segment.n_iter} and the like (the executable propagator needs them).',
            },
          ),
        ),
      }),
      executable: Opt(ExecutableSchema),
      drivers: Opt(
        Type.Record(Type.String(), Type.Unknown(), {
          description:
            "WESTPA's driver keys. subgroup_function (module.function, with subgroup_arguments as its keyword arguments) runs in your Python; WESTPA's own WE drivers and sim managers run as westream's twins; a custom we_driver, sim_manager or propagator class is an error.",
        }),
      ),
      plugins: Opt(Type.Array(Type.Unknown(), { description: 'WESTPA plugins (Python classes); westream does not run them and warns.' })),
      analysis: Opt(Type.Unknown({ description: "w_ipa's analysis scheme; read by WESTPA's tools, not by westream." })),
      westream: Opt(WestreamSchema),
    }),
  },
  {
    $id: 'https://westream.dev/schema/west.schema.json',
    title: 'westream / WESTPA west.yaml',
    description: "WESTPA's west.cfg as westream reads it. A WESTPA file loads unchanged; westream's own keys live under west.westream.",
  },
);

/** A config file's contents as written (before defaults and checks). */
export type WestYaml = Static<typeof WestYamlSchema>;
export type ChildProgramYaml = Static<typeof ChildProgramSchema>;
export type StreamTrajectoryYaml = Static<typeof StreamTrajectorySchema>;
export type DatasetYaml = Static<typeof DatasetSchema>;
