/**
 * A segment's directory when a segment may run more than once (BullMQ is at-least-once after faults: a Redis
 * that restarts and loses the last second's writes can hand out again a job whose result was already
 * accepted). A completed execution on a worker daemon leaves a marker in its directory; an execution that finds the marker
 * never touches that directory (a result may have been accepted from it, and children of the next iteration
 * may be reading it): it runs in a fresh directory beside it, and the sim-manager adopts that one atomically
 * only if it accepts this execution's result, or deletes it if a result was accepted already. An execution
 * that finds a directory without the marker (one that crashed or failed) starts it afresh, as WESTPA does.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { SegmentResult, StagedDir } from './types.js';

/** Written into a segment's directory once its execution completed. */
export const COMPLETE_MARKER = '.westream-complete';

/** Where this execution runs: the segment's directory, or (`staged`) a fresh one beside a completed one. */
export interface PreparedDir {
  readonly cwd: string;
  readonly staged?: StagedDir;
}

export function prepareSegmentDir(segDir: string, attempt: number): PreparedDir {
  // mkdir -p returns undefined when the directory was already there: one call in the normal case.
  if (mkdirSync(segDir, { recursive: true }) !== undefined) return { cwd: segDir };
  if (existsSync(join(segDir, COMPLETE_MARKER))) {
    const path = `${segDir}.westream-rerun-${attempt}-${randomBytes(4).toString('hex')}`;
    mkdirSync(path);
    return { cwd: path, staged: { path, final: segDir } };
  }
  // WESTPA's prepare_file_system: a re-run of what did not complete starts from an empty directory.
  rmSync(segDir, { recursive: true, force: true });
  mkdirSync(segDir);
  return { cwd: segDir };
}

/** Marks an execution's directory complete (after its return files were read and found whole). */
export function markComplete(cwd: string): void {
  closeSync(openSync(join(cwd, COMPLETE_MARKER), 'w'));
}

/**
 * The sim-manager accepts `r` as its segment's result: a staged directory takes the segment's place (the
 * one it replaces had no accepted result: it goes, out of the way first). Returns the result without the
 * staging note; throws (naming both paths) when the file system refuses.
 */
export function adoptSegmentDir(r: SegmentResult): SegmentResult {
  if (!r.stagedDir) return r;
  const { path, final } = r.stagedDir;
  const old = `${final}.westream-superseded-${randomBytes(4).toString('hex')}`;
  try {
    try {
      renameSync(final, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    renameSync(path, final);
  } catch (e) {
    throw new Error(`cannot move the re-run's directory ${path} to ${final}: ${(e as Error).message}`);
  }
  void rm(old, { recursive: true, force: true }).catch(() => undefined);
  const { stagedDir, ...rest } = r;
  void stagedDir;
  return rest;
}

/** A result that is not accepted (a late duplicate): its staged directory goes; the segment's own stays. */
export function discardSegmentDir(r: Pick<SegmentResult, 'stagedDir'>): void {
  if (r.stagedDir) void rm(r.stagedDir.path, { recursive: true, force: true }).catch(() => undefined);
}
