/**
 * `west.executable.stream_trajectory` → `StreamTrajectory`: the live analysis that runs beside each segment's
 * engine and reads its IMD stream. Port discovery, the built-in analyses and every cross-key rule are settled
 * here, so the runner only ever sees resolved values.
 */
import type { ChildProgram } from './compile-config.js';
import { checkTemplate, environ, wallclock, type Path, type Report } from './compile-helpers.js';
import type { StreamTrajectoryYaml } from './schema.js';
import type { YamlSource } from './yaml-source.js';

/** GROMACS's log line (also printed by westream-toy-md). */
export const GROMACS_PORT_PATTERN = 'IMD: Listening for IMD connection on port (\\d+)';
const DEFAULT_BIND_ERROR = '(?i)address already in use|port .*in use|cannot bind|bind failed';
const ANALYSIS_LOG = '$WEST_SIM_ROOT/seg_logs/{segment.n_iter:06d}-{segment.seg_id:06d}_analysis.log';

export interface StreamPcoord {
  /** Two atom index groups (a pair of atoms is two groups of one); pcoord = distance between their centres. */
  readonly groups: readonly [readonly number[], readonly number[]];
  /** Use every stride-th frame; null: the one stride that gives pcoord_len points. */
  readonly stride: number | null;
  readonly scale: number;
}

export interface StreamTrajectory {
  /** An analysis program, or null when only built-ins run. Its stdout defaults to the `_analysis.log`. */
  readonly program: ChildProgram | null;
  readonly pcoord: StreamPcoord | null;
  readonly guard: { readonly maxDisplacement: number } | null;
  /** builtin record: H5MD per segment (`file` is a template, relative to the segment directory). */
  readonly record: {
    /** 'file': H5MD per segment; 'iteration': the segment's trajectory in the HDF5 framework's iteration file. */
    readonly target: 'file' | 'iteration';
    /** target 'iteration': the topology file (a template over the environment), read once through mdtraj. */
    readonly topology: string | null;
    readonly file: string;
    readonly atoms: readonly number[] | null;
    readonly stride: number;
    readonly fields: readonly ('position' | 'velocity' | 'force')[];
    readonly compression: number;
  } | null;
  readonly portDiscovery: 'engine' | 'reserve';
  /** Source and flags of the port pattern (its first group is the port). */
  readonly portPattern: { readonly source: string; readonly flags: string };
  readonly portTimeout: number;
  readonly portEnv: string;
  readonly bindErrorPattern: { readonly source: string; readonly flags: string };
  readonly portRetries: number;
  readonly required: boolean;
  readonly host: string;
  /** IMD client timeout, seconds. */
  readonly timeout: number;
  readonly nAtoms: number | null;
  /** Box lengths for minimum images when frames carry no box; null: none. */
  readonly box: readonly [number, number, number] | null;
  /** The analysis log (for built-ins, too: westream writes what they did there). */
  readonly stdout: string;
}

/** Python-style inline flags `(?i)` (what WESTPA users write) → a JavaScript pattern and flags. */
function regex(text: string, path: Path, err: Report, needGroup: boolean): { source: string; flags: string } | null {
  const m = /^\(\?([a-z]+)\)/.exec(text);
  const source = m ? text.slice(m[0].length) : text;
  const flags = m ? [...new Set(m[1])].filter((f) => 'ims'.includes(f)).join('') : '';
  try {
    const re = new RegExp(`${source}|`);
    const groups = (re.exec('')?.length ?? 1) - 1;
    if (needGroup && groups < 1) {
      err(path, `'${text}' has no group: put the port in parentheses, e.g. 'on port (\\d+)'`);
      return null;
    }
  } catch (e) {
    err(path, `'${text}' is not a regular expression: ${(e as Error).message}`);
    return null;
  }
  return { source, flags };
}

export function compileStreamTrajectory(
  s: StreamTrajectoryYaml,
  propagator: ChildProgram | null,
  path: Path,
  src: YamlSource,
  err: Report,
  warn: Report,
): StreamTrajectory | null {
  for (const k of ['stdout', 'stderr', 'stdin', 'cwd'] as const) {
    const v = s[k];
    if (typeof v === 'string' && v !== 'stdout') checkTemplate(v, [...path, k], err);
  }
  const builtins = s.builtin === undefined || s.builtin === null ? [] : Array.isArray(s.builtin) ? s.builtin : [s.builtin];
  if (!s.executable && builtins.length === 0) err(path, "needs an analysis: set 'executable' (your program) or 'builtin' (pcoord, guard, record)");
  const stdout = s.stdout ?? ANALYSIS_LOG;
  const program: ChildProgram | null = s.executable
    ? {
        executable: s.executable,
        stdin: s.stdin ?? null,
        stdout,
        stderr: s.stderr ?? 'stdout',
        cwd: s.cwd ?? null,
        environ: environ(s.environ),
        enabled: s.enabled ?? true,
      }
    : null;

  let pcoord: StreamPcoord | null = null;
  if (builtins.includes('pcoord')) {
    const p = s.pcoord;
    if (!p) err([...path, 'pcoord'], "builtin pcoord needs 'pcoord: {atoms: [i, j]}' or 'pcoord: {groups: [[...], [...]]}'");
    else if ((p.atoms ? 1 : 0) + (p.groups ? 1 : 0) !== 1)
      err([...path, 'pcoord'], "give exactly one of 'atoms' (two atom indices) or 'groups' (two lists of atom indices)");
    else {
      const g = p.atoms ? [[p.atoms[0] as number], [p.atoms[1] as number]] : (p.groups as number[][]);
      pcoord = { groups: [g[0] as number[], g[1] as number[]], stride: p.stride ?? null, scale: p.scale ?? 1 };
    }
  } else if (s.pcoord) warn([...path, 'pcoord'], "is set but 'builtin' does not include pcoord; ignored");

  let guard: StreamTrajectory['guard'] = null;
  if (builtins.includes('guard')) {
    if (!s.guard) err([...path, 'guard'], "builtin guard needs 'guard: {max_displacement: <Å between frames>}'");
    else guard = { maxDisplacement: s.guard.max_displacement };
  } else if (s.guard) warn([...path, 'guard'], "is set but 'builtin' does not include guard; ignored");

  let record: StreamTrajectory['record'] = null;
  if (builtins.includes('record')) {
    const r = s.record ?? {};
    const file = r.file ?? 'seg.h5md';
    checkTemplate(file, [...path, 'record', 'file'], err);
    const target = r.target ?? 'file';
    const fields = r.fields ?? ['position'];
    if (target === 'iteration') {
      // WESTPA's iteration file holds what mdtraj's trajectory does: positions, time and box, for the whole topology.
      if (!r.topology)
        err([...path, 'record', 'topology'], "target: iteration needs 'topology': a file of the streamed atoms that mdtraj reads (.pdb, .gro …)");
      if (fields.some((f) => f !== 'position'))
        err(
          [...path, 'record', 'fields'],
          'target: iteration records positions only (the iteration file has no velocities or forces); use target: file for those',
        );
      if (r.atoms) err([...path, 'record', 'atoms'], 'target: iteration records every atom of the topology; leave atoms out (or use target: file)');
      if (r.file !== undefined) warn([...path, 'record', 'file'], 'is ignored with target: iteration (no file is written)');
    } else if (r.topology !== undefined) warn([...path, 'record', 'topology'], 'is used only with target: iteration; ignored');
    record = { target, topology: r.topology ?? null, file, atoms: r.atoms ?? null, stride: r.stride ?? 1, fields, compression: r.compression ?? 4 };
  } else if (s.record) warn([...path, 'record'], "is set but 'builtin' does not include record; ignored");

  const portDiscovery = s.port_discovery ?? 'engine';
  const portPattern = regex(s.port_pattern ?? GROMACS_PORT_PATTERN, [...path, 'port_pattern'], err, true);
  const bindErrorPattern = regex(s.bind_error_pattern ?? DEFAULT_BIND_ERROR, [...path, 'bind_error_pattern'], err, false);
  if (portDiscovery === 'engine' && propagator && propagator.stdout === null) {
    err(
      [...path, 'port_discovery'],
      "'engine' reads the port from the propagator's log, but west.executable.propagator.stdout is not set: set it (and stderr: stdout, since GROMACS prints the port on standard error), or use port_discovery: reserve",
    );
  }
  if (portDiscovery === 'engine' && (s.port_env || s.bind_error_pattern || s.port_retries !== undefined)) {
    warn([...path, 'port_discovery'], 'port_env, bind_error_pattern and port_retries only apply to port_discovery: reserve; ignored');
  }
  const portTimeout = wallclock(s.port_timeout, [...path, 'port_timeout'], src, err, warn) ?? 60;
  if (!portPattern || !bindErrorPattern) return null;
  return {
    program,
    pcoord,
    guard,
    record,
    portDiscovery,
    portPattern,
    portTimeout,
    portEnv: s.port_env ?? 'WEST_STREAM_PORT',
    bindErrorPattern,
    portRetries: s.port_retries ?? 3,
    required: s.required ?? true,
    host: s.host ?? '127.0.0.1',
    timeout: s.timeout ?? 60,
    nAtoms: s.n_atoms ?? null,
    box: s.box ? [s.box[0] as number, s.box[1] as number, s.box[2] as number] : null,
    stdout,
  };
}
