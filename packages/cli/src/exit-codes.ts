/** Process exit codes of the `westream` command. */
import { codedError } from '@westream/we';
export const ExitCode = {
  OK: 0,
  /** An internal error (a bug): the only case that prints a stack trace. */
  INTERNAL: 1,
  /** The user's input is wrong (config, flags, files); the message says what to fix. */
  USAGE: 2,
  /** Segments kept failing; the run halted with west.h5 intact (fix the cause, then run again). */
  HALTED: 3,
  /** The disk is full: west.h5 is left as the last whole commit; free the space named, and 'westream run' resumes. */
  DISK_FULL: 4,
  /** Stopped by SIGINT/SIGTERM; 'westream run' resumes. */
  STOPPED: 130,
} as const;

/** A mistake of the user's: printed as its message alone, exit code 2. */
export class UsageError extends codedError('UsageError', 'CLI_ERR_USAGE') {}
