/**
 * Every error a user can meet, by its stable code (each error class carries `code`): what it means and the exit
 * code of the `westream` command. The CLI maps errors by code, never by class, so a package adds an error by
 * giving it a code and a line here; anything without one is a bug, the only "internal error" with a stack trace.
 * The README's error table lists the same codes (a test keeps the two together).
 */
import { ExitCode } from './exit-codes.js';

export interface CatalogueEntry {
  /** The command's exit code when this error ends it; null for errors only the REST API answers. */
  readonly exit: number | null;
  /** HTTP status, for errors the REST API answers. */
  readonly http?: number;
  /** What it means and what to do: the README's wording. */
  readonly meaning: string;
}

export const ERROR_CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  CLI_ERR_USAGE: {
    exit: ExitCode.USAGE,
    meaning: 'a wrong command, option or value; the message names it and `westream COMMAND --help` lists what is accepted',
  },
  CONFIG_ERR_INVALID: {
    exit: ExitCode.USAGE,
    meaning: 'the config has problems, each reported as file:line:col: key: expected …, found …; fix them (`westream check`)',
  },
  CONFIG_ERR_TEMPLATE: { exit: ExitCode.USAGE, meaning: 'a path template such as data_refs.segment is malformed; the message gives the column' },
  STORE_ERR_RECORD: {
    exit: ExitCode.USAGE,
    meaning: 'west.h5 is missing, unreadable or not a westream/WESTPA record; the message says which file and how to start over or resume',
  },
  STORE_ERR_DISK_FULL: {
    exit: ExitCode.DISK_FULL,
    meaning:
      'no room for the next commit: the previous west.h5 is whole; free the bytes the message names at the directory it names, then `westream run` resumes',
  },
  STORE_ERR_ITERATION_FILE: {
    exit: ExitCode.USAGE,
    meaning:
      "an iteration file of WESTPA's HDF5 framework (data_refs.iteration) cannot hold what the segments returned (a different atom count, frames that are not whole) or is not one westream wrote; the message names the file and the segment. west.h5 is unchanged: fix the set-up and `westream run` resumes",
  },
  SIM_ERR_STATE_SPEC: {
    exit: ExitCode.USAGE,
    meaning: 'a basis or target state (flag or file) is malformed or does not fit the bins; the message names the file and line',
  },
  SIM_ERR_RECORD_MISMATCH: {
    exit: ExitCode.USAGE,
    meaning: 'west.h5 was made with another pcoord shape than the config has; change the config back or `westream init --force`',
  },
  SIM_ERR_HALTED: {
    exit: ExitCode.HALTED,
    meaning:
      'segments kept failing after max_segment_retries; west.h5 marks them FAILED, the message names each with its reason; fix the cause and `westream run` re-runs only them',
  },
  PROPAGATOR_ERR_HELPER: {
    exit: ExitCode.USAGE,
    meaning: 'a helper program (get_pcoord, gen_istate, pre/post_iteration) failed or is missing; the message names it and its log',
  },
  PROPAGATOR_ERR_RETURN_FILE: {
    exit: ExitCode.USAGE,
    meaning: 'a return file (WEST_PCOORD_RETURN, a dataset) is missing or has the wrong shape; the message names the file, the expected and the found shape',
  },
  PROPAGATOR_ERR_LOCKED: {
    exit: ExitCode.USAGE,
    meaning:
      'another live westream holds this sim root (a run) or worker state directory (a daemon of the same node id); the message names its pid: stop it, or use another --state-dir / --node-id',
  },
  PROPAGATOR_ERR_ITERATION_DATA: {
    exit: ExitCode.HALTED,
    meaning:
      "a segment's restart or log (WESTPA's HDF5 framework) could not be packed, or its parent's restart could not be extracted into its directory; it fails that segment, naming it and quoting tar, and the segment is retried",
  },
  PROPAGATOR_ERR_STREAM: {
    exit: ExitCode.HALTED,
    meaning: "a segment's stream_trajectory failed (port never printed, analysis failed, guard tripped); it fails the segment, which is retried",
  },
  IMD_ERR_PROTOCOL: {
    exit: ExitCode.HALTED,
    meaning: "the engine's IMD stream is malformed or ended inside a frame; the message names the frame and byte offset",
  },
  IMD_ERR_TIMEOUT: { exit: ExitCode.HALTED, meaning: 'the IMD stream gave no frame within stream_trajectory.timeout' },
  IMD_ERR_CONNECT: { exit: ExitCode.HALTED, meaning: "the engine's IMD port could not be reached" },
  WE_ERR_CONSISTENCY: {
    exit: ExitCode.USAGE,
    meaning: 'the ensemble is inconsistent (weights do not sum to 1, a walker outside every bin); the message names the iteration and bin',
  },
  WE_ERR_OUT_OF_BINS: {
    exit: ExitCode.USAGE,
    meaning:
      'a progress coordinate lies outside every bin (a basis state at init, a segment at run time); widen the outer boundaries (-inf/inf) or fix the state',
  },
  WE_ERR_SEGMENT_OUTSIDE_BINS: {
    exit: ExitCode.USAGE,
    meaning:
      "a segment's initial or final pcoord lies outside every bin (adaptive bins bin both ends together); the message names the segment: extend the outer boundaries",
  },
  PYTHON_ERR_BRIDGE: {
    exit: ExitCode.USAGE,
    meaning:
      "the user's Python set-up or code failed: no interpreter, no westpa, an import error, or an exception in their system, mapper, propagator or loader (their traceback is shown); the message names the config key, the module and the interpreter, and what to install or set",
  },
  API_ERR_START: { exit: ExitCode.USAGE, meaning: 'the REST API could not listen (the address is in use); pass --api HOST:PORT, --api 0 or --api off' },
  API_ERR_LOG_UNAVAILABLE: {
    exit: null,
    http: 404,
    meaning: 'a log route found no log it may serve (none yet, or not a regular file inside the run directory)',
  },
  API_ERR_NOT_FOUND: { exit: null, http: 404, meaning: 'no such iteration or segment in west.h5' },
  TOYMD_ERR_PARAMS: { exit: ExitCode.USAGE, meaning: "westream-toy-md's input (md.in or a flag) is wrong; the message names the key" },
};

/** The catalogue entry of an error, by its `code`; undefined for anything else (a bug). */
export function catalogued(e: unknown): (CatalogueEntry & { code: string }) | undefined {
  const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
  if (typeof code !== 'string') return undefined;
  const entry = ERROR_CATALOGUE[code];
  return entry ? { ...entry, code } : undefined;
}
