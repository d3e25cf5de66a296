import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigText, type WestConfig } from '@westream/config';
import { ProcessRegistry, SegmentRunner, processesIn, type SegmentResult, type SegmentTask } from '@westream/propagator';
import { describe, expect, it } from 'vitest';

const bstate = { id: 0, label: 'left', probability: 1, auxref: 'left.rst' };
const istate = { id: 3, iterCreated: 0, iterUsed: 1, basisStateId: 0, type: 1, status: 1, basisAuxref: '' };
const cont = (segId: number, attempt = 0): SegmentTask => ({ nIter: 2, segId, weight: 0.5, parentId: 1, istate: null, bstate: null, attempt });
const fresh: SegmentTask = { nIter: 1, segId: 0, weight: 1, parentId: -4, istate, bstate, attempt: 0 };

function simRoot(propagator: string, timeout = 2): { root: string; config: WestConfig } {
  const root = mkdtempSync(join(tmpdir(), 'westream-runner-'));
  writeFileSync(join(root, 'prop.sh'), `#!/bin/bash\n${propagator}\n`);
  chmodSync(join(root, 'prop.sh'), 0o755);
  const yaml = `
west:
  system:
    system_options: { pcoord_ndim: 1, pcoord_len: 3, pcoord_dtype: !!python/name:numpy.float64, bins: { type: RectilinearBinMapper, boundaries: [[0, 1, 'inf']] }, bin_target_counts: 1 }
  propagation: { max_total_iterations: 1 }
  data:
    datasets: [ { name: pcoord }, { name: energy } ]
    data_refs:
      segment: $WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}
      basis_state: $WEST_SIM_ROOT/bstates/{basis_state.auxref}
      initial_state: $WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}
  executable:
    environ: { FROM_CONFIG: yes-config }
    propagator:
      executable: $WEST_SIM_ROOT/prop.sh
      stdout: $WEST_SIM_ROOT/seg_logs/{segment.n_iter:06d}-{segment.seg_id:06d}.log
      stderr: stdout
      environ: { FROM_CHILD: child }
  westream: { seed: 7, segment_timeout: ${timeout} }
`;
  return { root, config: loadConfigText(yaml, 'west.yaml', join(root, 'west.yaml')).config };
}

const OK = `printf '0.1\\n0.2\\n0.3\\n' > "$WEST_PCOORD_RETURN"; printf '1 2\\n3 4\\n5 6\\n' > "$WEST_ENERGY_RETURN"`;

function envOf(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('SegmentRunner: the WEST_* contract', () => {
  it('gives a continuing segment its environment, a fresh directory as cwd, and loads pcoord and auxdata', async () => {
    const { root, config } = simRoot(`env > env.txt; pwd > cwd.txt; ${OK}; echo done`);
    const segDir = join(root, 'traj_segs/000002/000004');
    mkdirSync(segDir, { recursive: true });
    writeFileSync(join(segDir, 'stale.txt'), 'from an earlier attempt');
    const runner = new SegmentRunner({ config, simRoot: root, seed: 99n });
    const r = await runner.runSegment(cont(4));
    expect(r.status, r.reason ?? '').toBe('complete');
    expect(r.pcoord).toEqual([0.1, 0.2, 0.3]);
    expect(r.auxdata.energy).toEqual({ shape: [3, 2], data: [1, 2, 3, 4, 5, 6] });
    expect(existsSync(join(segDir, 'stale.txt'))).toBe(false);
    expect(readFileSync(join(segDir, 'cwd.txt'), 'utf8').trim()).toBe(segDir);
    const env = envOf(join(segDir, 'env.txt'));
    expect(env).toMatchObject({
      WEST_CURRENT_ITER: '2',
      WEST_CURRENT_SEG_ID: '4',
      WEST_CURRENT_SEG_DATA_REF: segDir,
      WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_CONTINUES',
      WEST_PARENT_ID: '1',
      WEST_PARENT_DATA_REF: join(root, 'traj_segs/000001/000001'),
      WEST_SIM_ROOT: root,
      FROM_CONFIG: 'yes-config',
      FROM_CHILD: 'child',
    });
    for (const k of ['WEST_RAND16', 'WEST_RAND32', 'WEST_RAND64', 'WEST_RAND128']) expect(env[k]).toMatch(/^\d+$/);
    expect(BigInt(env.WEST_RAND128 as string)).toBeGreaterThan(2n ** 64n); // a true 128-bit value (not a sum of two 64-bit ones)
    expect(Number(env.WEST_RANDFLOAT)).toBeGreaterThanOrEqual(0);
    expect(Number(env.WEST_RANDFLOAT)).toBeLessThan(1);
    expect(env.WEST_PCOORD_RETURN).toBeDefined();
    expect(env.WEST_ENERGY_RETURN).toBeDefined();
    expect(readFileSync(join(root, 'seg_logs/000002-000004.log'), 'utf8')).toContain('done');
    expect(r.walltime).toBeGreaterThan(0);
    runner.close();
    expect(existsSync(env.WEST_PCOORD_RETURN as string)).toBe(false); // the runner's temp returns go with it
  });

  it("gives each segment return files that exist and are empty: a child that writes nothing never reads an earlier segment's data", async () => {
    const { root, config } = simRoot(
      `[ -s "$WEST_PCOORD_RETURN" ] && echo "not empty at start" && exit 3; [ -e "$WEST_PCOORD_RETURN" ] || exit 4; [ "$WEST_CURRENT_SEG_ID" = 6 ] || { ${OK}; }`,
    );
    const runner = new SegmentRunner({ config, simRoot: root, seed: 1n });
    const first = await runner.runSegment(cont(5));
    expect(first.status, first.reason ?? '').toBe('complete');
    const silent = await runner.runSegment(cont(6)); // reuses the same files, which segment 5 filled
    expect(silent.status).toBe('failed');
    expect(silent.reason).toMatch(/^segment 6 of iteration 2: pcoord return file .* is empty/);
    const again = await runner.runSegment(cont(7));
    expect(again.status, again.reason ?? '').toBe('complete');
    runner.close();
  });

  it('derives the random values from (seed, iteration, segment) only: a retry gets the same, a sibling others', async () => {
    const { root, config } = simRoot(`env | grep ^WEST_RAND > rand.txt; ${OK}`);
    const runner = new SegmentRunner({ config, simRoot: root, seed: 99n });
    // A re-run of a completed segment works beside its directory (segment-dir.ts): read where each one ran.
    const read = (r: SegmentResult): string =>
      readFileSync(join(r.stagedDir?.path ?? join(root, `traj_segs/000002/${String(r.segId).padStart(6, '0')}`), 'rand.txt'), 'utf8');
    const first = read(await runner.runSegment(cont(4)));
    expect(read(await runner.runSegment(cont(4, 1)))).toBe(first);
    expect(read(await runner.runSegment(cont(5)))).not.toBe(first);
    const other = new SegmentRunner({ config, simRoot: root, seed: 100n });
    const last = read(await other.runSegment(cont(4)));
    expect(last).not.toBe(first);
  });

  it('gives a walker that starts from an initial state the BSTATE/ISTATE set and no WEST_PARENT_ID', async () => {
    const { root, config } = simRoot(`env > env.txt; ${OK}`);
    const r = await new SegmentRunner({ config, simRoot: root, seed: 1n }).runSegment(fresh);
    expect(r.status, r.reason ?? '').toBe('complete');
    const env = envOf(join(root, 'traj_segs/000001/000000/env.txt'));
    expect(env).toMatchObject({
      WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_NEWTRAJ',
      WEST_BSTATE_ID: '0',
      WEST_BSTATE_DATA_REF: join(root, 'bstates/left.rst'),
      WEST_ISTATE_ID: '3',
      WEST_ISTATE_DATA_REF: join(root, 'istates/0/3'),
      WEST_PARENT_DATA_REF: join(root, 'bstates/left.rst'),
    });
    expect(env.WEST_PARENT_ID).toBeUndefined();
  });
});

describe('SegmentRunner: failures name the segment, the file, expected vs found, and the log', () => {
  const run = async (body: string, timeout?: number): Promise<{ reason: string; status: string; root: string; walltime: number }> => {
    const { root, config } = simRoot(body, timeout);
    const r = await new SegmentRunner({
      config,
      simRoot: root,
      seed: 1n,
      registry: new ProcessRegistry(join(root, '.westream/pgids')),
      killGraceMs: 500,
    }).runSegment(cont(4));
    return { reason: r.reason ?? '', status: r.status, root, walltime: r.walltime };
  };

  it('a nonzero exit', async () => {
    const r = await run(`echo "engine: segmentation fault in step 42"; exit 1`);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/^segment 4 of iteration 2: .*prop\.sh exited with status 1/);
    expect(r.reason).toContain('seg_logs/000002-000004.log');
    expect(r.reason).toContain('engine: segmentation fault in step 42');
  });

  it('a pcoord of the wrong shape', async () => {
    const r = await run(`printf '0.1\\n0.2\\n' > "$WEST_PCOORD_RETURN"; printf '1\\n' > "$WEST_ENERGY_RETURN"`);
    expect(r.status).toBe('failed');
    expect(r.reason).toContain('WEST_PCOORD_RETURN');
    expect(r.reason).toContain('shape (2, 1); expected (3, 1)');
  });

  it('a NaN in the pcoord', async () => {
    const r = await run(`printf '0.1\\nnan\\n0.3\\n' > "$WEST_PCOORD_RETURN"; printf '1\\n' > "$WEST_ENERGY_RETURN"`);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/pcoord return file .*:2: nan is not finite/);
  });

  // issue 14 item 6: a 200 MB pcoord file took 4 GB and a minute per attempt before its shape was refused.
  it('issue14-6 an oversized pcoord return is refused by its size, unread, naming segment, file, size and expected', async () => {
    // A sparse 200 MB file: its size is what a runaway engine writes, without the disk (or the memory) it costs.
    const r = await run(`truncate -s 200M "$WEST_PCOORD_RETURN"; printf '1\\n' > "$WEST_ENERGY_RETURN"`);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(
      /^segment 4 of iteration 2: pcoord return file \/\S+\.pcoord: is 209715200 bytes, far more than expected \(3 × 1 values \(pcoord_len × pcoord_ndim\), at most 1051648 bytes as text\); refused unread/,
    );
  });

  it('issue14-6 a pcoord return within the byte bound but with far too many values stops parsing early (bounded memory)', async () => {
    const r = await run(`seq 1 100000 > "$WEST_PCOORD_RETURN"; printf '1\\n' > "$WEST_ENERGY_RETURN"`); // ~0.6 MB of text: under the byte bound
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(
      /pcoord return file \S+:1037: more than 1036 values where 3 × 1 values \(pcoord_len × pcoord_ndim\) were expected; reading stopped there/,
    );
    // A few too many still get the shape message, which names both shapes.
    const few = await run(`seq 1 7 > "$WEST_PCOORD_RETURN"; printf '1\\n' > "$WEST_ENERGY_RETURN"`);
    expect(few.reason).toContain('shape (7, 1); expected (3, 1)');
  });

  it('issue14-6 a FIFO in place of the return file fails the segment instead of blocking the reader', async () => {
    const r = await run(`rm -f "$WEST_PCOORD_RETURN"; mkfifo "$WEST_PCOORD_RETURN"; printf '1\\n' > "$WEST_ENERGY_RETURN"`);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/pcoord return file \S+: is not a regular file \(a FIFO/);
  });

  it('issue14-6 the streaming parser reads what the whole-text one does (chunk borders, comments, CRLF-free rows)', async () => {
    const { parseTable, readTable } = await import('../src/return-file.js');
    const dir = mkdtempSync(join(tmpdir(), 'westream-table-'));
    // Rows that straddle the 64 KiB chunk border, comments, blank lines and a last line without a newline.
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i * 0.5} ${-i}${i % 7 === 0 ? '  # note' : ''}${i % 11 === 0 ? '\n' : ''}`);
    const text = `# header\n${rows.join('\n')}`;
    writeFileSync(join(dir, 't.txt'), text);
    const a = readTable(join(dir, 't.txt'), 't', { maxBytes: 1 << 22, expected: 'a table' });
    const b = parseTable(text, 't');
    expect(a.shape).toEqual([20_000, 2]);
    expect(a.shape).toEqual(b.shape);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('a segment that hangs past its wall-time limit is killed with its whole group', async () => {
    const r = await run(`echo $$ > "$WEST_SIM_ROOT/pgid"; sleep 60 & sleep 60; ${OK}`);
    expect(r.status).toBe('failed');
    expect(r.reason).toContain('exceeded its wall-time limit of 2 s');
    expect(r.walltime).toBeLessThan(10);
    expect(groupMembers(r.root)).toEqual([]);
  });

  it('a propagator that forks a grandchild and dies leaves no orphan', async () => {
    const r = await run(`sleep 300 & echo $! > "$WEST_SIM_ROOT/grandchild.pid"; echo "lost the engine"; exit 1`);
    expect(r.status).toBe('failed');
    expect(r.reason).toContain('exited with status 1');
    const pid = Number(readFileSync(join(r.root, 'grandchild.pid'), 'utf8'));
    await waitFor(() => !alive(pid));
    expect(alive(pid)).toBe(false);
  });

  it('a grandchild left running by a propagator that succeeds is killed too', async () => {
    const r = await run(`sleep 300 & echo $! > "$WEST_SIM_ROOT/grandchild.pid"; ${OK}`);
    expect(r.status).toBe('complete');
    const pid = Number(readFileSync(join(r.root, 'grandchild.pid'), 'utf8'));
    await waitFor(() => !alive(pid));
    expect(alive(pid)).toBe(false);
  });

  // issue 14 item 7: `setsid sleep 612 &` left its group, so killing the group at the segment's end missed it.
  it("issue14-7 a setsid child (its own session and group) ends with its segment: it carries the segment's owner token", async () => {
    const r = await run(`setsid sleep 612 & echo $! > "$WEST_SIM_ROOT/escaped.pid"; sleep 0.2; ${OK}`);
    expect(r.status, r.reason).toBe('complete');
    const pid = Number(readFileSync(join(r.root, 'escaped.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid)).toBe(false); // already when runSegment returned: no wait
    // Negative control: the same escapee without a registry (no owner token) is not found by anyone.
    const { root, config } = simRoot(`setsid sleep 613 & echo $! > "$WEST_SIM_ROOT/escaped.pid"; sleep 0.2; ${OK}`);
    await new SegmentRunner({ config, simRoot: root, seed: 1n }).runSegment(cont(4));
    const stray = Number(readFileSync(join(root, 'escaped.pid'), 'utf8'));
    try {
      expect(alive(stray)).toBe(true);
    } finally {
      process.kill(stray, 'SIGKILL');
    }
  });

  it('issue14-7 a setsid escapee is found among many pids allocated since (the /proc scan, not just the probe range)', async () => {
    const r = await run(`setsid sleep 614 & echo $! > "$WEST_SIM_ROOT/escaped.pid"; for i in $(seq 300); do /bin/true; done; ${OK}`, 60); // 300 forks outlast 2 s on a loaded machine
    expect(r.status, r.reason).toBe('complete');
    expect(alive(Number(readFileSync(join(r.root, 'escaped.pid'), 'utf8')))).toBe(false);
  });

  // issue 14 item 9: a second daemon with the same node id reaped every process carrying *any* recorded token,
  // the live daemon's running segments included (this test, with the reap of before, killed the segment's
  // bash and its children: the segment failed with SIGKILL and was retried).
  it("issue14-9 a second incarnation's reap never kills a live one's running segment: it completes with its own result", async () => {
    const body = `x0=$(sleep 1.5; echo 1.5)\nawk -v x="$x0" 'BEGIN { printf "%.6f\\n%.6f\\n%.6f\\n", x, x + 1, x + 2 }' > "$WEST_PCOORD_RETURN"\nprintf '1\\n' > "$WEST_ENERGY_RETURN"`;
    const { root, config } = simRoot(body, 30);
    const pgids = join(root, '.westream/pgids');
    const first = new ProcessRegistry(pgids);
    first.lock();
    first.reapOrphans();
    const running = new SegmentRunner({ config, simRoot: root, seed: 1n, registry: first }).runSegment(cont(4));
    await new Promise((r) => setTimeout(r, 500)); // the segment is inside its $(sleep …)
    const second = new ProcessRegistry(pgids); // a second daemon with the same state directory
    expect(() => second.lock()).toThrow(/held by pid/);
    expect(second.reapOrphans()).toEqual([]); // even without the lock, the live incarnation is left alone
    const r = await running;
    expect(r.status, r.reason ?? '').toBe('complete');
    expect(r.pcoord).toEqual([1.5, 2.5, 3.5]); // the parent's value, not 0, 1, 2
    second.close();
    first.close();
  });

  it('a missing executable', async () => {
    const { root, config } = simRoot(OK);
    const broken = { ...config, executable: { ...config.executable, propagator: { ...config.executable.propagator, executable: '$WEST_SIM_ROOT/nope.sh' } } };
    const r = await new SegmentRunner({ config: broken, simRoot: root, seed: 1n }).runSegment(cont(4));
    expect(r.status).toBe('failed');
    expect(r.reason).toContain(`cannot start ${root}/nope.sh (no such file)`);
  });

  it('cancel kills the whole group at once', async () => {
    const { root, config } = simRoot(`echo $$ > "$WEST_SIM_ROOT/pgid"; sleep 60 & sleep 60`, 100);
    const ac = new AbortController();
    const runner = new SegmentRunner({ config, simRoot: root, seed: 1n, registry: new ProcessRegistry(join(root, '.westream/pgids')), killGraceMs: 500 });
    // Cancel once the segment runs (its shell wrote its pgid), not after a fixed delay a loaded machine may outlast.
    let abortedAt = 0;
    void waitFor(() => existsSync(join(root, 'pgid')), 20_000).then(() => {
      abortedAt = Date.now();
      ac.abort();
    });
    const r = await runner.runSegment(cont(4), ac.signal);
    expect(r.status).toBe('cancelled');
    expect(abortedAt).toBeGreaterThan(0);
    expect(Date.now() - abortedAt).toBeLessThan(5000);
    expect(groupMembers(root)).toEqual([]);
  });
});

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(st);
  } catch {
    return false;
  }
}

async function waitFor(ok: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!ok() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Live processes of the segment's process group. The script wrote its pid, which is its group id (every child
 * leads a group of its own); its backgrounded `sleep 60` is in that group until someone kills it.
 */
function groupMembers(root: string): number[] {
  const pgid = Number(readFileSync(join(root, 'pgid'), 'utf8'));
  expect(pgid).toBeGreaterThan(1);
  return processesIn(new Set([pgid]))
    .map((p) => p.pid)
    .filter(alive);
}
