import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigText } from '@westream/config';
import { SegmentRunner, type SegmentTask } from '@westream/propagator';
import { LocalWorkManager } from '@westream/work-manager';
import { describe, expect, it } from 'vitest';

/** A sim root whose propagator logs "start <seg> <ns>" / "end <seg> <ns>", sleeps, and returns a pcoord. */
function setup(sleep: string): { runner: SegmentRunner; log: string } {
  const root = mkdtempSync(join(tmpdir(), 'westream-wm-'));
  const log = join(root, 'events.log');
  writeFileSync(
    join(root, 'prop.sh'),
    `#!/bin/bash\necho "start $WEST_CURRENT_SEG_ID $(date +%s%N)" >> ${log}\nsleep ${sleep}\necho "end $WEST_CURRENT_SEG_ID $(date +%s%N)" >> ${log}\necho 0.5 > "$WEST_PCOORD_RETURN"\n`,
  );
  chmodSync(join(root, 'prop.sh'), 0o755);
  const yaml = `
west:
  system:
    system_options: { pcoord_ndim: 1, pcoord_len: 1, pcoord_dtype: !!python/name:numpy.float32, bins: { type: RectilinearBinMapper, boundaries: [[0, 1]] }, bin_target_counts: 8 }
  propagation: { max_total_iterations: 1 }
  data:
    data_refs:
      segment: $WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}
      basis_state: $WEST_SIM_ROOT/bstates/{basis_state.auxref}
      initial_state: $WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}
  executable:
    propagator: { executable: $WEST_SIM_ROOT/prop.sh, stdout: /dev/null, stderr: stdout }
`;
  const config = loadConfigText(yaml, 'west.yaml', join(root, 'west.yaml')).config;
  return { runner: new SegmentRunner({ config, simRoot: root, seed: 1n }), log };
}

const task = (segId: number): SegmentTask => ({ nIter: 2, segId, weight: 0.125, parentId: 0, istate: null, bstate: null, attempt: 0 });

function events(log: string): { kind: string; seg: number; t: bigint }[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [kind, seg, t] = l.split(' ');
      return { kind: kind as string, seg: Number(seg), t: BigInt(t as string) };
    });
}

describe('LocalWorkManager: segments handed ahead to the launcher, at most `slots` running', () => {
  it('never runs more than `slots` segments at once, and does run that many', async () => {
    const { runner, log } = setup('0.15');
    const wm = new LocalWorkManager(runner, 2);
    const started: number[] = [];
    wm.onStart = (t) => started.push(t.segId);
    const results = await wm.propagate(
      Array.from({ length: 8 }, (_, i) => task(i)),
      () => undefined,
      new AbortController().signal,
    );
    runner.close();
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('complete'));
    expect(started.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Walk the start/end events in time order: the number running never exceeds 2 and reaches 2.
    let running = 0;
    let most = 0;
    for (const e of events(log).sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.kind === 'end' ? -1 : 1))) {
      running += e.kind === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
    // Wall time counts from the program's start, not from the wait in the queue.
    for (const r of results) expect(r.walltime).toBeLessThan(0.5);
  });

  it('cancels segments still waiting for a slot without ever starting them', async () => {
    const { runner, log } = setup('5');
    const wm = new LocalWorkManager(runner, 2);
    const started: number[] = [];
    wm.onStart = (t) => started.push(t.segId);
    const ac = new AbortController();
    const pending = wm.propagate(
      Array.from({ length: 6 }, (_, i) => task(i)),
      () => undefined,
      ac.signal,
    );
    const t0 = Date.now();
    while (started.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const results = await pending;
    runner.close();
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('cancelled'));
    expect(started).toHaveLength(2); // the two queued in the launcher never started
    expect(events(log).filter((e) => e.kind === 'start')).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(4000); // the running ones were killed, not waited for
  });
});
