/**
 * Every finished segment is appended to `.westream/iter_<n>.results.jsonl` the moment it finishes, so a
 * sim-manager killed mid-iteration loses no completed segment: the next run reads the journal and propagates
 * only what is missing. A line torn by a crash does not parse and is ignored (that segment runs again).
 * The journal is dropped once its iteration is committed to west.h5.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SegmentResult } from '@westream/propagator';

export interface JournalEntry {
  /** `parentId:weight` of the segment when it ran: a journal from another WE step is not reused. */
  readonly key: string;
  readonly result: SegmentResult;
}

export class ResultsJournal {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(nIter: number): string {
    return join(this.dir, `iter_${String(nIter).padStart(8, '0')}.results.jsonl`);
  }

  /** The open journal (one write per result: opening and closing the file each time was most of its cost). */
  private open: { nIter: number; fd: number } | undefined;

  append(nIter: number, key: string, result: SegmentResult): void {
    if (this.open?.nIter !== nIter) {
      this.close();
      this.open = { nIter, fd: openSync(this.file(nIter), 'a') };
    }
    writeSync(this.open.fd, JSON.stringify({ key, result } satisfies JournalEntry) + '\n');
  }

  close(): void {
    if (this.open) closeSync(this.open.fd);
    this.open = undefined;
  }

  /** Completed results for iteration n whose segment still has the same key. */
  load(nIter: number, keyOf: (segId: number) => string | undefined): Map<number, SegmentResult> {
    const out = new Map<number, SegmentResult>();
    let text: string;
    try {
      text = readFileSync(this.file(nIter), 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let e: JournalEntry;
      try {
        e = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // torn by a crash
      }
      const r = e.result;
      if (r?.nIter === nIter && r.status === 'complete' && keyOf(r.segId) === e.key) out.set(r.segId, r);
    }
    return out;
  }

  /** Drops the journals of every iteration other than `keep`. */
  prune(keep: number): void {
    if (this.open && this.open.nIter !== keep) this.close();
    for (const name of readdirSync(this.dir)) {
      const m = /^iter_(\d+)\.results\.jsonl$/.exec(name);
      if (m && Number(m[1]) !== keep) rmSync(join(this.dir, name), { force: true });
    }
  }
}

export function segmentKey(parentId: number, weight: number): string {
  return `${parentId}:${weight}`;
}
