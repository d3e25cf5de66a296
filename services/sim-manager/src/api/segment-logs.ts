/**
 * A segment's own log files, read for the API. The path comes from the config's templates and two integers
 * (iteration, segment), never from request text. What is served must still be the run's own log: the file is
 * opened without following a final symlink and without blocking (a FIFO planted in place of a log would
 * otherwise hang the API's thread until a writer came), and then the opened file itself is checked: a regular
 * file, with exactly one link (a hard link can point at any file of the same owner, inside the run or out),
 * whose real path lies inside the run directory.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export class LogUnavailable extends Error {
  readonly code = 'API_ERR_LOG_UNAVAILABLE';
  constructor(
    message: string,
    readonly statusCode: 403 | 404,
  ) {
    super(message);
  }
}

export interface LogSlice {
  readonly file: string;
  readonly size: number;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const MAX_BYTES = 1 << 20;

/**
 * Bytes [start, end) of the log at `rendered` (relative paths are relative to the sim root), or its last
 * `tail` lines (of the range, if one is given too); at most 1 MiB. A range that ends before it starts is empty.
 */
export function readLog(simRoot: string, rendered: string, want: { tail?: number; start?: number; end?: number }): LogSlice {
  const path = resolve(simRoot, rendered);
  const shown = relative(simRoot, path) || path;
  let root: string;
  let fd: number;
  try {
    root = realpathSync(simRoot);
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new LogUnavailable(`${shown} is a symbolic link; the API does not follow links`, 403);
    if (code === 'ENOENT') throw new LogUnavailable(`no log at ${shown} (has the segment run yet?)`, 404);
    throw new LogUnavailable(`cannot open the log ${shown} (${code ?? 'error'})`, 404);
  }
  try {
    const st = fstatSync(fd);
    const real = openedPath(fd, path);
    const rel = relative(root, real);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new LogUnavailable(`${shown} is outside the run directory; the API serves only files inside it`, 403);
    if (!st.isFile()) throw new LogUnavailable(`${shown} is not a regular file (${kindOf(st)}); the API serves only regular files`, 403);
    if (st.nlink !== 1)
      throw new LogUnavailable(`${shown} has ${st.nlink} hard links; the API serves only files with one link, which cannot be another file in disguise`, 403);
    const size = st.size;
    let start: number;
    let end: number;
    if (want.start !== undefined || want.end !== undefined) {
      start = Math.min(want.start ?? 0, size);
      end = Math.max(start, Math.min(want.end ?? size, size, start + MAX_BYTES));
    } else {
      end = size;
      start = Math.max(0, size - MAX_BYTES);
    }
    const buf = Buffer.alloc(Math.max(0, end - start));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    let text = buf.subarray(0, got).toString('utf8');
    const tail = want.tail ?? (want.start === undefined && want.end === undefined ? 100 : undefined);
    if (tail !== undefined) {
      const lines = text.split('\n');
      const trailing = lines.at(-1) === '' ? 1 : 0;
      const keep = tail + trailing;
      if (lines.length > keep) {
        const cut = lines.slice(-keep).join('\n');
        start = end - Buffer.byteLength(cut);
        text = cut;
      }
    }
    return { file: rel, size, start, end: start + Buffer.byteLength(text), text };
  } finally {
    closeSync(fd);
  }
}

/** Where the opened file really is: the kernel's answer on Linux, so no link swapped in after the open counts. */
function openedPath(fd: number, path: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return realpathSync(path);
  }
}

function kindOf(st: Stats): string {
  return st.isFIFO()
    ? 'a FIFO'
    : st.isDirectory()
      ? 'a directory'
      : st.isSocket()
        ? 'a socket'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : 'not a file';
}
