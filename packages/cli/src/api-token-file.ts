/**
 * The run's API token in `.westream/api-token`, for its owner alone. Anyone who can plant a file there must not
 * be able to redirect the token elsewhere or read it: a symlink is refused (never followed, never replaced
 * silently), the file is created anew with O_EXCL|O_NOFOLLOW, and its mode is set to 0600 whatever the umask
 * or an earlier file's mode was.
 */
import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, readlinkSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './exit-codes.js';

export function writeApiTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const old = lstatOrNull(file);
  if (old?.isSymbolicLink()) {
    throw new UsageError(
      `${file} is a symbolic link (to ${readlinkSync(file)}); westream writes the API token only to a file of its own and never follows a link there. Remove the link, then run again.`,
    );
  }
  if (old && !old.isFile()) throw new UsageError(`${file} exists and is not a regular file; remove it, then run again (westream writes the API token there).`);
  if (old) unlinkSync(file); // a new token each run; a hard link to another file only loses this name
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot create ${file} for the API token (${code ?? String(e)}): something made it while westream was writing it; check who can write to ${dirname(file)}, then run again.`,
    );
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
}

function lstatOrNull(file: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
