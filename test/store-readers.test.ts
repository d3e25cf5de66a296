/**
 * west.h5 has one writer; the REST API's thread reads it at the same time. A reader must never disturb the
 * writer: opening read-only leaves the temporary file of a commit in progress alone (the writer's own open
 * still clears one a crash left behind).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WestH5 } from '@westream/store';
import { describe, expect, it } from 'vitest';
import { demoSimDir, westream } from './support/sim-dir.js';

describe('west.h5 readers and the writer', () => {
  it("a read-only open leaves the writer's commit in progress alone; the writer's open clears a crashed one", async () => {
    const dir = demoSimDir();
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2']).code).toBe(0);
    const path = join(dir, 'west.h5');
    const tmp = join(dir, '.west.h5.westream-tmp');
    writeFileSync(tmp, readFileSync(path)); // as if the writer were in the middle of a commit
    const reader = await WestH5.open(path, { readOnly: true });
    expect((await reader.readIteration(1)).nSegs).toBeGreaterThan(0);
    expect(existsSync(tmp)).toBe(true);
    await WestH5.open(path);
    expect(existsSync(tmp)).toBe(false);
  });
});
