/**
 * A segment that runs twice (BullMQ after a fault) must never delete or rewrite the directory of a completed
 * execution: a result may have been accepted from it, and the next iteration's children read it. These tests
 * force the race with the real runner (marking completed directories, as worker daemons do) and real child
 * processes: the segment runs, completes, and runs again.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfigText, type WestConfig } from '@westream/config';
import { adoptSegmentDir, COMPLETE_MARKER, discardSegmentDir, SegmentRunner, type SegmentTask } from '@westream/propagator';
import { describe, expect, it } from 'vitest';

const task: SegmentTask = { nIter: 2, segId: 3, weight: 0.5, parentId: 0, istate: null, bstate: null, attempt: 0 };

/** Each execution writes a token of its own into its directory, then (for the second) sleeps a little. */
function simRoot(): { root: string; config: WestConfig; segDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'westream-segdir-'));
  writeFileSync(
    join(root, 'prop.sh'),
    `#!/bin/bash\necho "$$-$RANDOM" > token\npwd > cwd.txt\nsleep "\${SEG_SLEEP:-0}"\nprintf '0.1\\n0.2\\n' > "$WEST_PCOORD_RETURN"\n`,
  );
  chmodSync(join(root, 'prop.sh'), 0o755);
  const yaml = `
west:
  system:
    system_options: { pcoord_ndim: 1, pcoord_len: 2, pcoord_dtype: !!python/name:numpy.float64, bins: { type: RectilinearBinMapper, boundaries: [[0, 'inf']] }, bin_target_counts: 1 }
  propagation: { max_total_iterations: 1 }
  data:
    datasets: [ { name: pcoord } ]
    data_refs:
      segment: $WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}
      basis_state: $WEST_SIM_ROOT/bstates/{basis_state.auxref}
      initial_state: $WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}
  executable:
    propagator: { executable: $WEST_SIM_ROOT/prop.sh, stdout: /dev/null, stderr: stdout }
  westream: { seed: 7 }
`;
  return { root, config: loadConfigText(yaml, 'west.yaml', join(root, 'west.yaml')).config, segDir: join(root, 'traj_segs/000002/000003') };
}

const token = (dir: string): string => readFileSync(join(dir, 'token'), 'utf8');
const siblings = (segDir: string): string[] => readdirSync(dirname(segDir)).sort();

async function gone(path: string): Promise<boolean> {
  for (let i = 0; i < 100 && existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
  return !existsSync(path);
}

describe('a segment that runs twice', () => {
  it('after its result was accepted: the re-run works beside the directory, never in it, and its own goes', async () => {
    const { root, config, segDir } = simRoot();
    const runner = new SegmentRunner({ config, simRoot: root, seed: 1n, baseEnv: { ...process.env, SEG_SLEEP: '0.3' }, markCompleted: true });
    try {
      const first = adoptSegmentDir(await runner.runSegment(task)); // accepted: the sim-manager's side
      expect(first.status, first.reason ?? '').toBe('complete');
      expect(first.stagedDir).toBeUndefined(); // the first execution ran in the segment's own directory
      expect(existsSync(join(segDir, COMPLETE_MARKER))).toBe(true);
      const before = { token: token(segDir), ino: statSync(segDir).ino, mtime: statSync(join(segDir, 'token')).mtimeMs };
      // The fault: the same segment handed out again while a child of the next iteration reads its directory.
      const second = runner.runSegment(task);
      const seen = new Set<string>();
      let running = true;
      void second.finally(() => (running = false));
      while (running) {
        seen.add(token(segDir)); // what a child reading WEST_PARENT_DATA_REF sees, all along
        await new Promise((r) => setTimeout(r, 10));
      }
      const dup = await second;
      expect(dup.status, dup.reason ?? '').toBe('complete');
      expect([...seen]).toEqual([before.token]);
      expect(dup.stagedDir?.final).toBe(segDir);
      const staged = dup.stagedDir?.path as string;
      expect(staged).not.toBe(segDir);
      expect(readFileSync(join(staged, 'cwd.txt'), 'utf8').trim()).toBe(staged);
      expect(token(staged)).not.toBe(before.token);
      // The result was accepted already: this one is a late duplicate, and only its own directory goes.
      discardSegmentDir(dup);
      expect(await gone(staged)).toBe(true);
      expect({ token: token(segDir), ino: statSync(segDir).ino, mtime: statSync(join(segDir, 'token')).mtimeMs }).toEqual(before);
      expect(siblings(segDir)).toEqual(['000003']);
    } finally {
      runner.close();
    }
  });

  it("before any result was accepted: the re-run is adopted, and takes the segment's place whole", async () => {
    const { root, config, segDir } = simRoot();
    const runner = new SegmentRunner({ config, simRoot: root, seed: 1n, markCompleted: true });
    try {
      const lost = await runner.runSegment(task); // completed, but its result never reached the sim-manager
      expect(lost.status).toBe('complete');
      const lostToken = token(segDir);
      const again = await runner.runSegment(task);
      expect(again.stagedDir).toBeDefined();
      const staged = again.stagedDir?.path as string;
      const accepted = adoptSegmentDir(again);
      expect(accepted.stagedDir).toBeUndefined(); // what the journal records carries no staging note
      expect(token(segDir)).toBe(token(join(segDir))); // readable at its own path
      expect(token(segDir)).not.toBe(lostToken);
      expect(readFileSync(join(segDir, 'cwd.txt'), 'utf8').trim()).toBe(staged); // it ran beside, then moved
      expect(existsSync(staged)).toBe(false);
      // The replaced directory (no accepted result came from it) is cleaned up.
      for (let i = 0; i < 100 && siblings(segDir).length > 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(siblings(segDir)).toEqual(['000003']);
    } finally {
      runner.close();
    }
  });

  it('negative control: a directory without the completion mark (a crashed run) is started afresh in place, as WESTPA does', async () => {
    const { root, config, segDir } = simRoot();
    const runner = new SegmentRunner({ config, simRoot: root, seed: 1n, markCompleted: true });
    try {
      await runner.runSegment(task);
      const firstToken = token(segDir);
      // Without the mark the runner cannot tell a completed directory from a crashed one: it wipes it.
      const { rmSync } = await import('node:fs');
      rmSync(join(segDir, COMPLETE_MARKER));
      const again = await runner.runSegment(task);
      expect(again.stagedDir).toBeUndefined();
      expect(token(segDir)).not.toBe(firstToken);
      expect(readFileSync(join(segDir, 'cwd.txt'), 'utf8').trim()).toBe(segDir);
    } finally {
      runner.close();
    }
  });
});
