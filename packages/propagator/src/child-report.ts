/**
 * What a segment's failure says about its child program: why its exit means failure, and the last lines of its
 * log, so a user reads the cause in the segment's reason without opening seg_logs/.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChildOutcome } from './run-child.js';

const LOG_TAIL_LINES = 15;

/** Why a child's exit means failure, or null when it succeeded. */
export function describeExit(out: ChildOutcome, exe: string, timeoutSeconds: number | null): string | null {
  if (out.spawnError) {
    const hint = out.spawnError === 'ENOENT' ? 'no such file' : out.spawnError === 'EACCES' ? 'not executable: chmod +x it' : out.spawnError;
    return `cannot start ${exe} (${hint})`;
  }
  if (out.timedOut) return `exceeded its wall-time limit of ${timeoutSeconds} s (west.westream.segment_timeout) and was killed with its process group`;
  if (out.signal) return `${exe} was killed by ${out.signal}`;
  if (out.exitCode !== 0) return `${exe} exited with status ${out.exitCode}`;
  return null;
}

/** The last lines of a child's log, indented, to follow a failure's reason (or why there is none to show). */
export function logTail(log: string | null): string {
  if (!log) return '\n  (no log: set executable.<program>.stdout in the config to keep one)';
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return `\n  log ${log} (not written)`;
  }
  const lines = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES);
  return `\n  log ${log}${lines.length && lines[0] ? `, last lines:\n${lines.map((l) => `    | ${l}`).join('\n')}` : ' (empty)'}`;
}

/** Appends westream's own lines (`westream: …`) to a child's log. */
export function appendLog(file: string, lines: readonly string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, lines.map((l) => `westream: ${l}\n`).join(''));
  } catch {
    /* the log is a courtesy; the segment's reason carries the same text */
  }
}
