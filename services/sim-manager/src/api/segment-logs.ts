/**
 * A segment's own log files, read for the API. The path comes from the config's templates and two integers
 * (iteration, segment), never from request text; the file's real path must still lie inside the run
 * directory and the file must not be a symlink, so a link planted in a segment directory reads nothing.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
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
 * `tail` lines; at most 1 MiB.
 */
export function readLog(simRoot: string, rendered: string, want: { tail?: number; start?: number; end?: number }): LogSlice {
  const path = resolve(simRoot, rendered);
  let real: string;
  let root: string;
  try {
    root = realpathSync(simRoot);
    real = realpathSync(path);
  } catch {
    throw new LogUnavailable(`no log at ${relative(simRoot, path) || path} (has the segment run yet?)`, 404);
  }
  const rel = relative(root, real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new LogUnavailable('this log is outside the run directory; the API serves only files inside it', 403);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new LogUnavailable('this log is a symbolic link; the API does not follow links', 403);
    throw new LogUnavailable(`cannot open the log (${code ?? 'error'})`, 404);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new LogUnavailable('not a regular file', 403);
    const size = st.size;
    let start: number;
    let end: number;
    if (want.start !== undefined || want.end !== undefined) {
      start = Math.min(want.start ?? 0, size);
      end = Math.min(want.end ?? size, size, start + MAX_BYTES);
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
    if (want.start === undefined && want.end === undefined) {
      const lines = text.split('\n');
      const trailing = lines.at(-1) === '' ? 1 : 0;
      const keep = (want.tail ?? 100) + trailing;
      if (lines.length > keep) {
        const cut = lines.slice(-keep).join('\n');
        start = end - Buffer.byteLength(cut);
        text = cut;
      }
    }
    return { file: relative(root, real), size, start, end: start + Buffer.byteLength(text), text };
  } finally {
    closeSync(fd);
  }
}
