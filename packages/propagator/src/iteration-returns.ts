/**
 * WESTPA's HDF5 framework on the node that runs a segment (`executable.py`: setup_dataset_return,
 * retrieve_dataset_return; `loaders.py`: restart_loader, seglog_loader, restart_writer), when
 * `data_refs.iteration` is set:
 *
 * - before the run, the parent's restart bytes (sent with the task) are extracted into the segment's directory,
 *   so a runseg.sh that takes `parent.*` from its cwd works unchanged;
 * - the child gets WEST_RESTART_RETURN (a directory), WEST_LOG_RETURN (a file) and WEST_TRAJECTORY_RETURN (a
 *   directory), fresh and empty;
 * - after a successful run, the restart directory becomes a gzip tar of `.` and the log a gzip tar holding
 *   `seg.log`, each with WESTPA's one trailing byte: the bytes WESTPA stores, sent back with the result for the
 *   sim-manager, the one writer of the iteration file.
 *
 * tar is the system's GNU tar, given its arguments as an array (no shell; no task field reaches an argument
 * except as a path westream made). GNU tar refuses members that climb out with `..` and strips leading `/`.
 *
 * The packed bytes depend only on the files' names and contents (members sorted by name, owner 0, mtime 0,
 * gzip's header time 0 as it is for a pipe), so the same seed gives the same iteration file, run after run and
 * on any node. Restored files take the time of their extraction (`--touch`), as freshly written ones would.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { codedError } from '@westream/we';

const run = promisify(execFile);
const TAIL = 0x01; // WESTPA's "tail protection" byte
const MAX_BYTES = 1 << 30;
const REPRODUCIBLE = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0'];

export interface Hdf5Returns {
  readonly vars: Record<string, string>;
  readonly restartDir: string;
  readonly logFile: string;
  readonly trajectoryDir: string;
}

/** Fresh return locations in the runner's private directory. */
export function makeHdf5Returns(dir: string, tag: string): Hdf5Returns {
  const restartDir = join(dir, `${tag}.restart`);
  const trajectoryDir = join(dir, `${tag}.trajectory`);
  const logFile = join(dir, `${tag}.seglog`);
  for (const d of [restartDir, trajectoryDir]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
  }
  // An empty file, as WESTPA's mkstemp makes it: a child that writes no log still gets one stored (empty).
  writeFileSync(logFile, '');
  return { restartDir, trajectoryDir, logFile, vars: { WEST_RESTART_RETURN: restartDir, WEST_LOG_RETURN: logFile, WEST_TRAJECTORY_RETURN: trajectoryDir } };
}

export function removeHdf5Returns(r: Hdf5Returns): void {
  for (const p of [r.restartDir, r.trajectoryDir, r.logFile]) rmSync(p, { recursive: true, force: true });
}

/** A restart or log that could not be packed or restored; the message names the segment and says what tar said. */
export class IterationDataError extends codedError('IterationDataError', 'PROPAGATOR_ERR_ITERATION_DATA') {}

async function tar(args: string[], what: string): Promise<Buffer> {
  try {
    const { stdout } = await run('tar', args, { encoding: 'buffer', maxBuffer: MAX_BYTES });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new IterationDataError(`${what}: tar failed: ${(err.stderr?.toString() || err.message).trim()}`);
  }
}

function withTail(b: Buffer): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[b.length] = TAIL;
  return out;
}

/** WESTPA's restart_loader: the restart directory as a gzip tar of `.`, plus the tail byte. */
export async function packRestart(r: Hdf5Returns, what: string): Promise<Uint8Array> {
  return withTail(await tar([...REPRODUCIBLE, '-czf', '-', '-C', r.restartDir, '.'], `${what}: WEST_RESTART_RETURN ${r.restartDir}`));
}

/** WESTPA's seglog_loader: the log file as `seg.log` in a gzip tar, plus the tail byte; null when none was written. */
export async function packLog(r: Hdf5Returns, what: string): Promise<Uint8Array | null> {
  if (!existsSync(r.logFile)) return null;
  const tmp = mkdtempSync(`${r.logFile}-`);
  try {
    copyFileSync(r.logFile, join(tmp, 'seg.log'));
    return withTail(await tar([...REPRODUCIBLE, '-czf', '-', '-C', tmp, 'seg.log'], `${what}: WEST_LOG_RETURN ${r.logFile}`));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** WESTPA's restart_writer: the parent's restart extracted into the segment's directory before it runs. */
export async function restoreRestart(bytes: Uint8Array, segDir: string, scratch: string, what: string): Promise<void> {
  if (bytes.length < 2 || bytes[bytes.length - 1] !== TAIL)
    throw new IterationDataError(`${what}: the parent's restart data is not WESTPA's (gzip tar and one tail byte)`);
  const file = join(scratch, `restore-${process.pid}-${Date.now()}.tar.gz`);
  writeFileSync(file, bytes.subarray(0, bytes.length - 1));
  try {
    await tar(['-xzf', file, '-C', segDir, '--no-same-owner', '--touch'], `${what}: the parent's restart files`);
  } finally {
    rmSync(file, { force: true });
  }
}
