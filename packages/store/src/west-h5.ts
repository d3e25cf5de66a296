/**
 * west.h5, written only by the sim-manager, once per iteration, copy-on-write: the file is copied (a reflink
 * where the file system can), the copy is changed, verified and fsynced, and renamed over the original
 * (verified-write.ts). A kill -9 at any instant leaves either the old or the new file, whole; HDF5 itself has
 * no journal to survive a torn write. A full disk leaves the old file and says how much to free.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { h5, isDataset, isGroup, type H5Dataset, type H5File, type H5Group } from './h5.js';
import { FORMAT_VERSION, NEW_WEIGHTS_DTYPE, SEG_INDEX_DTYPE, SUMMARY_DTYPE, iterGroupName, pcoordDtype, stringWidth } from './layout.js';
import type { AdaptiveBinsRecord } from '@westream/we';
import type { InitialStateRecord, IterationOutcome, IterationRecord, IterationSummary, PreparedIteration, RunMeta, StateSet } from './records.js';
import { StoreError } from './store-error.js';
import { tempName, writeVerified } from './verified-write.js';
import { WESTREAM_VERSION } from './version.js';

export { DiskFullError, StoreError } from './store-error.js';

export { WESTREAM_VERSION } from './version.js';

/** The least free space a write starts with beyond its copy: a commit adds one iteration's data. */
const MIN_HEADROOM = 256 * 1024;
const RESUME = '`westream run` resumes';

/** westream's own attribute on an iteration group: the adaptive bins its walkers were resampled in (JSON). */
export const ADAPTIVE_BINS_ATTR = 'westream_adaptive_bins';

export interface CommitChanges {
  /** Final data of the current iteration. */
  readonly outcome?: IterationOutcome;
  /** Initial states created for recycling (appended; ids continue the existing ones). */
  readonly newIstates?: readonly InitialStateRecord[];
  /** The next iteration; `west_current_iteration` moves to it. */
  readonly next?: PreparedIteration;
}

/** A `/summary` row: what the resampler saw, and the iteration's times once it has finished. */
export interface SummaryRow extends IterationSummary {
  readonly nIter: number;
  readonly cputime: number;
  readonly walltime: number;
}

export class WestH5 {
  /** What the last commit added to the file, in bytes: the guess for the next one's free-space check. */
  private growth: number | undefined;

  private constructor(
    readonly path: string,
    readonly meta: RunMeta,
    private current: number,
  ) {}

  get currentIteration(): number {
    return this.current;
  }

  /** Creates west.h5 with the states and iteration 1 (w_init); refuses to overwrite unless `force`. */
  /**
   * `basisTrajectories`: with WESTPA's HDF5 framework, iteration 0's file (relative to west.h5's directory):
   * `iterations/iter_00000000` then holds the basis states as WESTPA's w_init records them (one dummy segment
   * each: its weight, parent -(id+1), its pcoord as the second of two points) and links that file, where
   * westpa.analysis finds a first-iteration walker's initial frame.
   */
  static async create(path: string, meta: RunMeta, states: StateSet, first: PreparedIteration, force = false, basisTrajectories?: string): Promise<WestH5> {
    if (existsSync(path) && !force) throw new StoreError(`${path} exists; pass --force to replace it (its iterations would be lost)`);
    await writeVerified({
      path,
      headroom: MIN_HEADROOM,
      then: 'run `westream init` again',
      write: (f) => {
        f.create_attribute('west_file_format_version', FORMAT_VERSION, null, '<i');
        f.create_attribute('west_iter_prec', meta.iterPrec, null, '<i');
        f.create_attribute('west_version', `westream ${WESTREAM_VERSION}`);
        f.create_attribute('westream_seed', meta.seed.toString());
        f.create_attribute('westream_pcoord_len', meta.pcoordLen, null, '<i');
        setCurrent(f, 1);
        f.create_dataset({ name: 'summary', data: summaryColumns([]), dtype: SUMMARY_DTYPE, shape: [0], maxshape: [null], chunks: [64] });
        f.create_group('iterations');
        writeStates(f, states, meta);
        if (basisTrajectories !== undefined) prepareBasisIteration(f, states, meta, basisTrajectories);
        prepareIteration(f, first, meta);
      },
    });
    return new WestH5(path, meta, 1);
  }

  /**
   * Opens an existing west.h5 written by westream. A reader (`readOnly`: the REST API's thread) leaves the
   * temporary file alone: it may be the writer's commit in progress.
   */
  static async open(path: string, o: { readOnly?: boolean } = {}): Promise<WestH5> {
    if (!existsSync(path)) throw new StoreError(`${path} does not exist; run 'westream init' first`);
    if (!o.readOnly) rmSync(tempName(path), { force: true }); // a commit that a crash interrupted: the original is intact
    const lib = await h5();
    let f: H5File;
    try {
      f = new lib.File(path, 'r');
    } catch (e) {
      throw new StoreError(`${path} is not a readable HDF5 file (${String(e)})`);
    }
    try {
      const attr = (name: string): unknown => f.attrs[name]?.value;
      const seed = attr('westream_seed');
      if (typeof seed !== 'string')
        throw new StoreError(`${path} was not written by westream (no westream_seed attribute); westream cannot continue a WESTPA run yet`);
      const iterPrec = Number(attr('west_iter_prec') ?? 8);
      const current = Number(attr('west_current_iteration'));
      const it = f.get(`iterations/${iterGroupName(current, iterPrec)}`);
      if (!isGroup(it)) throw new StoreError(`${path}: west_current_iteration is ${current} but its group is missing`);
      const pc = it.get('pcoord');
      if (!isDataset(pc)) throw new StoreError(`${path}: iteration ${current} has no pcoord dataset`);
      const shape = pc.shape ?? [];
      const meta: RunMeta = {
        pcoordNdim: shape[2] ?? 1,
        pcoordLen: shape[1] ?? 1,
        pcoordDtype: pc.dtype === '<d' ? 'float64' : 'float32',
        iterPrec,
        seed: BigInt(seed),
      };
      return new WestH5(path, meta, current);
    } finally {
      f.close();
    }
  }

  async readIteration(n: number): Promise<IterationRecord> {
    return this.read((f) => readIteration(f, n, this.meta));
  }

  /**
   * The bins adaptive mappers placed for the walkers of iteration `n` (the WE step that made it), as JSON
   * in the iteration group's `westream_adaptive_bins` attribute; null for fixed bins.
   */
  async readAdaptiveBins(n: number): Promise<AdaptiveBinsRecord[] | null> {
    return this.read((f) => {
      const g = f.get(`iterations/${iterGroupName(n, this.meta.iterPrec)}`);
      const a = g && isGroup(g) ? g.attrs[ADAPTIVE_BINS_ATTR]?.value : undefined;
      return typeof a === 'string' ? (JSON.parse(a) as AdaptiveBinsRecord[]) : null;
    });
  }

  /** `/summary`, one row per iteration that has been prepared (the current one's times are still 0). */
  async readSummary(): Promise<SummaryRow[]> {
    return this.read((f) => {
      const rows = dataset(f, 'summary').value as unknown[][];
      return rows.map((r, i) => ({
        nIter: i + 1,
        nParticles: Number(r[0]),
        norm: Number(r[1]),
        minBinProb: Number(r[2]),
        maxBinProb: Number(r[3]),
        minSegProb: Number(r[4]),
        maxSegProb: Number(r[5]),
        cputime: Number(r[6]),
        walltime: Number(r[7]),
      }));
    });
  }

  /** One segment's auxiliary datasets of iteration `n` (flattened values and their per-segment shape). */
  async readAuxdata(n: number, segId: number): Promise<Record<string, { shape: number[]; data: number[] }>> {
    return this.read((f) => {
      const out: Record<string, { shape: number[]; data: number[] }> = {};
      const g = f.get(`iterations/${iterGroupName(n, this.meta.iterPrec)}/auxdata`);
      if (!isGroup(g)) return out;
      for (const name of g.keys()) {
        const ds = g.get(name);
        if (!isDataset(ds) || !ds.shape || segId >= (ds.shape[0] ?? 0)) continue;
        const shape = ds.shape.slice(1);
        const v = ds.slice([[segId, segId + 1]]) as ArrayLike<number | bigint>;
        out[name] = { shape, data: Array.from(v, Number) };
      }
      return out;
    });
  }

  async readStates(): Promise<StateSet> {
    return this.read((f) => readStates(f, this.meta));
  }

  /** Applies one iteration's changes atomically. */
  async commit(c: CommitChanges): Promise<void> {
    const touched = [c.outcome?.nIter, c.next?.nIter].filter((n): n is number => n !== undefined);
    await this.update(touched, !!c.newIstates?.length, (f) => {
      if (c.outcome) completeIteration(f, c.outcome, this.meta);
      if (c.newIstates?.length) appendIstates(f, c.newIstates, this.meta);
      if (c.next) {
        prepareIteration(f, c.next, this.meta);
        setCurrent(f, c.next.nIter);
      }
    });
    if (c.next) this.current = c.next.nIter;
  }

  /**
   * Records a halted iteration as WESTPA leaves it for the next w_run: the completed segments with their
   * pcoords and times, the failed ones as FAILED. `pcoord` rows of segments not complete are left alone.
   */
  async recordHalt(nIter: number, h: { status: Uint8Array; pcoord: Float64Array; cputime: Float64Array; walltime: Float64Array }): Promise<void> {
    await this.update([nIter], false, (f) => {
      const g = group(f, `iterations/${iterGroupName(nIter, this.meta.iterPrec)}`);
      const si = dataset(g, 'seg_index');
      const rows = readSegIndex(si);
      rows.status.set(h.status);
      rows.cputime.set(h.cputime);
      rows.walltime.set(h.walltime);
      si.write_slice([[0, rows.n]], segIndexColumns(rows));
      const pc = dataset(g, 'pcoord');
      const per = this.meta.pcoordLen * this.meta.pcoordNdim;
      for (let i = 0; i < rows.n; i++) {
        if (h.status[i] === 2) pc.write_slice([[i, i + 1], [], []], h.pcoord.subarray(i * per, (i + 1) * per));
      }
    });
  }

  /**
   * w_truncate -n N: removes iterations ≥ N; the run continues by redoing the WE step of iteration N−1.
   * h5wasm cannot unlink objects, so the file is rebuilt without them (which also compacts it, unlike
   * w_truncate), then swapped in atomically like any commit.
   */
  async truncate(n: number): Promise<void> {
    if (!(n >= 2 && n <= this.current)) throw new StoreError(`truncate -n ${n}: N must be between 2 and the current iteration (${this.current})`);
    const lib = await h5();
    const src = new lib.File(this.path, 'r');
    try {
      await writeVerified({
        path: this.path,
        headroom: statSync(this.path).size, // the rebuilt file is at most as large
        then: 'run `westream truncate` again',
        write: (dst) => {
          for (const [k, a] of Object.entries(src.attrs)) {
            if (k === 'west_current_iteration') continue;
            const v = a.value;
            if (typeof v === 'string') dst.create_attribute(k, v);
            else dst.create_attribute(k, Number(v), [], a.dtype);
          }
          setCurrent(dst, n - 1);
          copyDataset(dataset(src, 'summary'), dst, 'summary', n - 1);
          // Initial states made by the WE steps being redone will be made again: drop them.
          const states = readStates(src, this.meta);
          writeStates(dst, { ...states, istates: states.istates.filter((i) => i.iterCreated < n - 1) }, this.meta);
          const dIters = dst.create_group('iterations');
          const zero = src.get(`iterations/${iterGroupName(0, this.meta.iterPrec)}`);
          if (isGroup(zero)) copyIteration(zero, dIters, iterGroupName(0, this.meta.iterPrec)); // the basis states (HDF5 framework)
          for (let i = 1; i < n; i++)
            copyIteration(group(src, `iterations/${iterGroupName(i, this.meta.iterPrec)}`), dIters, iterGroupName(i, this.meta.iterPrec));
        },
      });
    } finally {
      src.close();
    }
    this.current = n - 1;
  }

  private async read<T>(fn: (f: H5File) => T): Promise<T> {
    const lib = await h5();
    const f = new lib.File(this.path, 'r');
    try {
      return fn(f);
    } finally {
      f.close();
    }
  }

  /**
   * Changes a copy of the file and swaps it in once verified. Only the iterations in `touched`, the state sets
   * when `statesTouched` (new initial states), and the rest outside /iterations (summary, bin topologies,
   * attributes) are compared when verifying: the others are as they were copied. The state sets are a tenth of
   * a commit's time to compare (compound types cost ~1 ms each to describe in h5wasm), and most commits leave them.
   */
  private async update(touched: readonly number[], statesTouched: boolean, fn: (f: H5File) => void): Promise<void> {
    const size = statSync(this.path).size;
    const growth = this.growth ?? size / Math.max(this.current, 1);
    const names = new Set(touched.map((n) => `iterations/${iterGroupName(n, this.meta.iterPrec)}`));
    await writeVerified({
      path: this.path,
      copyFrom: this.path,
      headroom: Math.max(2 * growth, MIN_HEADROOM),
      then: RESUME,
      // Untouched iterations are as copied; an iteration's ibstates and tstates are hard links to /ibstates/0
      // and /tstates/0, compared there when they changed.
      unchanged: (p) => {
        const parts = p.split('/');
        if (!statesTouched && parts.length === 1 && (p === 'ibstates' || p === 'tstates')) return true;
        return (
          parts[0] === 'iterations' && ((parts.length === 2 && !names.has(p)) || (parts.length === 3 && (parts[2] === 'ibstates' || parts[2] === 'tstates')))
        );
      },
      write: fn,
    });
    this.growth = statSync(this.path).size - size;
  }
}

function setCurrent(f: H5File, n: number): void {
  if (f.attrs.west_current_iteration) f.delete_attribute('west_current_iteration');
  f.create_attribute('west_current_iteration', n, [], '<q');
}

function group(g: H5Group, path: string): H5Group {
  const x = g.get(path);
  if (!isGroup(x)) throw new StoreError(`west.h5: group ${path} is missing`);
  return x;
}

function dataset(g: H5Group, path: string): H5Dataset {
  const x = g.get(path);
  if (!isDataset(x)) throw new StoreError(`west.h5: dataset ${path} is missing`);
  return x;
}

function summaryColumns(
  rows: { n: number; norm: number; minB: number; maxB: number; minS: number; maxS: number; cpu: number; wall: number }[],
): Map<string, unknown> {
  return new Map<string, unknown>([
    ['n_particles', BigInt64Array.from(rows.map((r) => BigInt(r.n)))],
    ['norm', Float64Array.from(rows.map((r) => r.norm))],
    ['min_bin_prob', Float64Array.from(rows.map((r) => r.minB))],
    ['max_bin_prob', Float64Array.from(rows.map((r) => r.maxB))],
    ['min_seg_prob', Float64Array.from(rows.map((r) => r.minS))],
    ['max_seg_prob', Float64Array.from(rows.map((r) => r.maxS))],
    ['cputime', Float64Array.from(rows.map((r) => r.cpu))],
    ['walltime', Float64Array.from(rows.map((r) => r.wall))],
    ['binhash', rows.map(() => '')],
  ]);
}

interface SegIndexRows {
  n: number;
  weight: Float64Array;
  parentId: BigInt64Array;
  nParents: BigUint64Array;
  offset: BigUint64Array;
  cputime: Float64Array;
  walltime: Float64Array;
  endpoint: Uint8Array;
  status: Uint8Array;
}

function segIndexColumns(r: SegIndexRows): Map<string, unknown> {
  return new Map<string, unknown>([
    ['weight', r.weight],
    ['parent_id', r.parentId],
    ['wtg_n_parents', r.nParents],
    ['wtg_offset', r.offset],
    ['cputime', r.cputime],
    ['walltime', r.walltime],
    ['endpoint_type', r.endpoint],
    ['status', r.status],
  ]);
}

function readSegIndex(ds: H5Dataset): SegIndexRows {
  const rows = (ds.value as unknown[][] | null) ?? [];
  const n = rows.length;
  const r: SegIndexRows = {
    n,
    weight: new Float64Array(n),
    parentId: new BigInt64Array(n),
    nParents: new BigUint64Array(n),
    offset: new BigUint64Array(n),
    cputime: new Float64Array(n),
    walltime: new Float64Array(n),
    endpoint: new Uint8Array(n),
    status: new Uint8Array(n),
  };
  rows.forEach((row, i) => {
    r.weight[i] = Number(row[0]);
    r.parentId[i] = BigInt(row[1] as number | bigint);
    r.nParents[i] = BigInt(row[2] as number | bigint);
    r.offset[i] = BigInt(row[3] as number | bigint);
    r.cputime[i] = Number(row[4]);
    r.walltime[i] = Number(row[5]);
    r.endpoint[i] = Number(row[6]);
    r.status[i] = Number(row[7]);
  });
  return r;
}

function writeStates(f: H5File, s: StateSet, meta: RunMeta): void {
  const ndim = meta.pcoordNdim;
  const ib = f.create_group('ibstates');
  const set = ib.create_group('0');
  set.create_dataset({
    name: 'bstate_index',
    data: new Map<string, unknown>([
      ['label', s.bstates.map((b) => b.label)],
      ['probability', Float64Array.from(s.bstates.map((b) => b.probability))],
      ['auxref', s.bstates.map((b) => b.auxref)],
    ]),
    dtype: [
      ['label', `A${stringWidth(s.bstates.map((b) => b.label))}`],
      ['probability', '<d'],
      ['auxref', `A${stringWidth(s.bstates.map((b) => b.auxref))}`],
    ],
  });
  set.create_dataset({
    name: 'bstate_pcoord',
    data: Float64Array.from(s.bstates.flatMap((b) => [...b.pcoord])),
    shape: [s.bstates.length, ndim],
    dtype: pcoordDtype(meta.pcoordDtype),
  });
  createIstates(set, s.istates, meta);
  writeStateIndex(ib, 'n_bstates', s.bstates.length, set);
  const ts = f.create_group('tstates');
  const tset = ts.create_group('0');
  tset.create_dataset({
    name: 'index',
    data: new Map<string, unknown>([['label', s.tstates.map((t) => t.label)]]),
    shape: [s.tstates.length],
    dtype: [['label', `A${stringWidth(s.tstates.map((t) => t.label))}`]],
  });
  tset.create_dataset({
    name: 'pcoord',
    data: Float64Array.from(s.tstates.flatMap((t) => [...t.pcoord])),
    shape: [s.tstates.length, ndim],
    dtype: pcoordDtype(meta.pcoordDtype),
  });
  writeStateIndex(ts, 'n_states', s.tstates.length, tset);
}

/** `/ibstates/index` or `/tstates/index`: one row pointing at the state set (valid from iteration 0). */
function writeStateIndex(parent: H5Group, countField: 'n_bstates' | 'n_states', count: number, set: H5Group): void {
  parent.create_dataset({
    name: 'index',
    data: new Map<string, unknown>([
      ['iter_valid', BigUint64Array.of(0n)],
      [countField, BigUint64Array.of(BigInt(count))],
      ['group_ref', [set.create_reference()]],
    ]),
    dtype: [
      ['iter_valid', '<Q'],
      [countField, '<Q'],
      ['group_ref', 'Reference'],
    ],
  });
}

const ISTATE_AUXREF_WIDTH = 256;

function istateColumns(xs: readonly InitialStateRecord[]): Map<string, unknown> {
  return new Map<string, unknown>([
    ['iter_created', BigUint64Array.from(xs.map((i) => BigInt(i.iterCreated)))],
    ['iter_used', BigUint64Array.from(xs.map((i) => BigInt(i.iterUsed)))],
    ['basis_state_id', BigInt64Array.from(xs.map((i) => BigInt(i.basisStateId)))],
    ['istate_type', Uint8Array.from(xs.map((i) => i.type))],
    ['istate_status', Uint8Array.from(xs.map((i) => i.status))],
    ['basis_auxref', xs.map((i) => i.basisAuxref)],
  ]);
}

const ISTATE_DTYPE: [string, string][] = [
  ['iter_created', '<Q'],
  ['iter_used', '<Q'],
  ['basis_state_id', '<q'],
  ['istate_type', '<B'],
  ['istate_status', '<B'],
  ['basis_auxref', `A${ISTATE_AUXREF_WIDTH}`],
];

function createIstates(set: H5Group, xs: readonly InitialStateRecord[], meta: RunMeta): void {
  for (const i of xs) {
    if (Buffer.byteLength(i.basisAuxref) > ISTATE_AUXREF_WIDTH)
      throw new StoreError(`initial state auxref '${i.basisAuxref}' is longer than ${ISTATE_AUXREF_WIDTH} bytes`);
  }
  set.create_dataset({ name: 'istate_index', data: istateColumns(xs), shape: [xs.length], maxshape: [null], chunks: [256], dtype: ISTATE_DTYPE });
  set.create_dataset({
    name: 'istate_pcoord',
    data: Float64Array.from(xs.flatMap((i) => [...i.pcoord])),
    shape: [xs.length, meta.pcoordNdim],
    maxshape: [null, meta.pcoordNdim],
    chunks: [256, meta.pcoordNdim],
    dtype: pcoordDtype(meta.pcoordDtype),
  });
}

function appendIstates(f: H5File, xs: readonly InitialStateRecord[], meta: RunMeta): void {
  const set = group(f, 'ibstates/0');
  const idx = dataset(set, 'istate_index');
  const pc = dataset(set, 'istate_pcoord');
  const n0 = (idx.shape ?? [0])[0] ?? 0;
  const n1 = n0 + xs.length;
  idx.resize([n1]);
  idx.write_slice([[n0, n1]], istateColumns(xs));
  pc.resize([n1, meta.pcoordNdim]);
  pc.write_slice([[n0, n1], []], Float64Array.from(xs.flatMap((i) => [...i.pcoord])));
}

/** WESTPA's iteration 0 (data_manager.create_ibstate_iter_h5file → prepare_iteration(0, …)): the basis states. */
function prepareBasisIteration(f: H5File, states: StateSet, meta: RunMeta, trajectories: string): void {
  const g = group(f, 'iterations').create_group(iterGroupName(0, meta.iterPrec));
  g.create_attribute('n_iter', 0, [], '<q');
  const bs = states.bstates;
  const n = bs.length;
  g.create_dataset({
    name: 'seg_index',
    data: segIndexColumns({
      n,
      weight: Float64Array.from(bs.map((b) => b.probability)),
      parentId: BigInt64Array.from(bs.map((_, id) => BigInt(-(id + 1)))),
      nParents: new BigUint64Array(n),
      offset: new BigUint64Array(n),
      cputime: new Float64Array(n),
      walltime: new Float64Array(n),
      endpoint: new Uint8Array(n),
      status: new Uint8Array(n), // SEG_STATUS_UNSET, as WESTPA's dummy segments
    }),
    dtype: SEG_INDEX_DTYPE,
  });
  // Two points per basis state, the second its pcoord (WESTPA leaves the first uninitialised; here 0).
  const ndim = meta.pcoordNdim;
  const pcoord = new Float64Array(n * 2 * ndim);
  bs.forEach((b, i) => b.pcoord.forEach((v, d) => (pcoord[(i * 2 + 1) * ndim + d] = v)));
  g.create_dataset({ name: 'pcoord', data: pcoord, shape: [n, 2, ndim], dtype: pcoordDtype(meta.pcoordDtype) });
  g.create_hard_link('/ibstates/0', 'ibstates');
  g.create_hard_link('/tstates/0', 'tstates');
  g.create_external_link(trajectories, '/', 'trajectories');
}

function prepareIteration(f: H5File, p: PreparedIteration, meta: RunMeta): void {
  const iters = group(f, 'iterations');
  const name = iterGroupName(p.nIter, meta.iterPrec);
  // Commits are atomic, so an iteration is only ever prepared once (truncate rebuilds the file without it).
  if (iters.keys().includes(name)) throw new StoreError(`iteration ${p.nIter} is already prepared in west.h5 (a bug: please report it)`);
  const g = iters.create_group(name);
  g.create_attribute('n_iter', p.nIter, [], '<q');
  g.create_attribute('binhash', '');
  if (p.adaptiveBins && p.adaptiveBins.length > 0) g.create_attribute(ADAPTIVE_BINS_ATTR, JSON.stringify(p.adaptiveBins));
  const n = p.weights.length;
  const offsets = new BigUint64Array(n);
  const nParents = new BigUint64Array(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = BigInt(off);
    const k = (p.wtgParentIds[i] as readonly number[]).length;
    nParents[i] = BigInt(k);
    off += k;
  }
  g.create_dataset({
    name: 'seg_index',
    data: segIndexColumns({
      n,
      weight: Float64Array.from(p.weights),
      parentId: BigInt64Array.from(p.parentIds.map(BigInt)),
      nParents,
      offset: offsets,
      cputime: new Float64Array(n),
      walltime: new Float64Array(n),
      endpoint: new Uint8Array(n),
      status: new Uint8Array(n).fill(1),
    }),
    dtype: SEG_INDEX_DTYPE,
  });
  const { pcoordLen: len, pcoordNdim: ndim } = meta;
  const pcoord = new Float64Array(n * len * ndim);
  for (let i = 0; i < n; i++) for (let d = 0; d < ndim; d++) pcoord[i * len * ndim + d] = p.initPcoords[i * ndim + d] as number;
  g.create_dataset({ name: 'pcoord', data: pcoord, shape: [n, len, ndim], dtype: pcoordDtype(meta.pcoordDtype) });
  g.create_dataset({ name: 'wtgraph', data: BigInt64Array.from(p.wtgParentIds.flat().map(BigInt)), shape: [off], dtype: '<q' });
  if (p.binTargetCounts) g.create_dataset({ name: 'bin_target_counts', data: BigInt64Array.from(p.binTargetCounts.map(BigInt)), dtype: '<q' });
  if (p.newWeights.length > 0) {
    const nw = g.create_group('new_weights');
    const e = p.newWeights;
    nw.create_dataset({
      name: 'index',
      data: new Map<string, unknown>([
        ['source_type', Uint8Array.from(e.map((x) => x.sourceType))],
        ['weight', Float64Array.from(e.map((x) => x.weight))],
        ['prev_seg_id', BigInt64Array.from(e.map((x) => BigInt(x.prevSegId)))],
        ['target_state_id', BigInt64Array.from(e.map((x) => BigInt(x.targetStateId)))],
        ['initial_state_id', BigInt64Array.from(e.map((x) => BigInt(x.initialStateId)))],
      ]),
      dtype: NEW_WEIGHTS_DTYPE,
    });
    for (const [key, pick] of [
      ['prev_init_pcoord', (x: (typeof e)[number]) => x.prevInitPcoord],
      ['prev_final_pcoord', (x: (typeof e)[number]) => x.prevFinalPcoord],
      ['new_init_pcoord', (x: (typeof e)[number]) => x.newInitPcoord],
    ] as const) {
      nw.create_dataset({ name: key, data: Float64Array.from(e.flatMap(pick)), shape: [e.length, ndim], dtype: pcoordDtype(meta.pcoordDtype) });
    }
  }
  g.create_hard_link('/ibstates/0', 'ibstates');
  g.create_hard_link('/tstates/0', 'tstates');
  // Summary row for the prepared iteration (row n-1), completed with times when the iteration ends.
  const summary = dataset(f, 'summary');
  const rows = p.nIter;
  summary.resize([rows]);
  const s = p.summary;
  summary.write_slice(
    [[rows - 1, rows]],
    summaryColumns([{ n: s.nParticles, norm: s.norm, minB: s.minBinProb, maxB: s.maxBinProb, minS: s.minSegProb, maxS: s.maxSegProb, cpu: 0, wall: 0 }]),
  );
}

function completeIteration(f: H5File, o: IterationOutcome, meta: RunMeta): void {
  const g = group(f, `iterations/${iterGroupName(o.nIter, meta.iterPrec)}`);
  const si = dataset(g, 'seg_index');
  const rows = readSegIndex(si);
  if (rows.n !== o.status.length) throw new StoreError(`iteration ${o.nIter}: ${o.status.length} results for ${rows.n} segments`);
  rows.status.set(o.status);
  rows.endpoint.set(o.endpointTypes);
  rows.cputime.set(o.cputime);
  rows.walltime.set(o.walltime);
  si.write_slice([[0, rows.n]], segIndexColumns(rows));
  dataset(g, 'pcoord').write_slice([[0, rows.n], [], []], o.pcoord);
  if (o.trajectories !== undefined && !g.keys().includes('trajectories')) g.create_external_link(o.trajectories, '/', 'trajectories');
  const names = Object.keys(o.auxdata);
  if (names.length > 0) {
    const aux = g.keys().includes('auxdata') ? group(g, 'auxdata') : g.create_group('auxdata');
    for (const name of names) {
      const a = o.auxdata[name] as IterationOutcome['auxdata'][string];
      const shape = [rows.n, ...a.segShape];
      const old = aux.get(name);
      if (isDataset(old) && JSON.stringify(old.shape) === JSON.stringify(shape))
        old.write_slice(
          shape.map((): [] => []),
          a.data,
        );
      else if (old) throw new StoreError(`iteration ${o.nIter}: auxdata/${name} exists with another shape`);
      else aux.create_dataset({ name, data: a.data, shape, dtype: '<d' });
    }
  }
  const summary = dataset(f, 'summary');
  const row = (summary.slice([[o.nIter - 1, o.nIter]]) as unknown[][])[0] as unknown[];
  summary.write_slice(
    [[o.nIter - 1, o.nIter]],
    summaryColumns([
      {
        n: Number(row[0]),
        norm: Number(row[1]),
        minB: Number(row[2]),
        maxB: Number(row[3]),
        minS: Number(row[4]),
        maxS: Number(row[5]),
        cpu: o.iterCputime,
        wall: o.iterWalltime,
      },
    ]),
  );
}

function readIteration(f: H5File, n: number, meta: RunMeta): IterationRecord {
  const g = group(f, `iterations/${iterGroupName(n, meta.iterPrec)}`);
  const r = readSegIndex(dataset(g, 'seg_index'));
  const wtg = dataset(g, 'wtgraph').value as BigInt64Array | null;
  const pc = dataset(g, 'pcoord').value as Float32Array | Float64Array | null;
  const wtgParentIds: number[][] = [];
  for (let i = 0; i < r.n; i++) {
    const o = Number(r.offset[i]);
    const k = Number(r.nParents[i]);
    wtgParentIds.push(Array.from((wtg ?? new BigInt64Array()).subarray(o, o + k), Number));
  }
  return {
    nIter: n,
    nSegs: r.n,
    weights: r.weight,
    parentIds: Array.from(r.parentId, Number),
    wtgParentIds,
    status: r.status,
    endpointTypes: r.endpoint,
    cputime: r.cputime,
    walltime: r.walltime,
    pcoord: Float64Array.from(pc ?? []),
  };
}

function readStates(f: H5File, meta: RunMeta): StateSet {
  const set = group(f, 'ibstates/0');
  const ndim = meta.pcoordNdim;
  const points = (ds: H5Dataset): number[][] => {
    const v = Array.from((ds.value as Float32Array | Float64Array | null) ?? []);
    return Array.from({ length: v.length / ndim }, (_, i) => v.slice(i * ndim, (i + 1) * ndim));
  };
  const str = (x: unknown): string => (typeof x === 'string' ? x.replace(/\0+$/, '') : String(x));
  const bRows = (dataset(set, 'bstate_index').value as unknown[][] | null) ?? [];
  const bPc = points(dataset(set, 'bstate_pcoord'));
  const iRows = (dataset(set, 'istate_index').value as unknown[][] | null) ?? [];
  const iPc = points(dataset(set, 'istate_pcoord'));
  const tset = group(f, 'tstates/0');
  const tRows = (dataset(tset, 'index').value as unknown[][] | null) ?? [];
  const tPc = points(dataset(tset, 'pcoord'));
  return {
    bstates: bRows.map((r, i) => ({ label: str(r[0]), probability: Number(r[1]), auxref: str(r[2]), pcoord: bPc[i] ?? [] })),
    istates: iRows.map((r, i) => ({
      iterCreated: Number(r[0]),
      iterUsed: Number(r[1]),
      basisStateId: Number(r[2]),
      type: Number(r[3]),
      status: Number(r[4]),
      basisAuxref: str(r[5]),
      pcoord: iPc[i] ?? [],
    })),
    tstates: tRows.map((r, i) => ({ label: str(r[0]), pcoord: tPc[i] ?? [] })),
  };
}

/** Copies an iteration group of our own layout (datasets, subgroups, attributes; the state links remade). */
function copyIteration(src: H5Group, parent: H5Group, name: string): void {
  const g = parent.create_group(name);
  for (const [k, a] of Object.entries(src.attrs)) {
    const v = a.value;
    if (typeof v === 'string') g.create_attribute(k, v);
    else g.create_attribute(k, Number(v), [], a.dtype);
  }
  for (const key of src.keys()) {
    if (key === 'ibstates' || key === 'tstates') {
      g.create_hard_link(`/${key}/0`, key);
      continue;
    }
    // The HDF5 framework's external link: remade as a link (h5wasm's get() would open its target as a group,
    // and copying that group's datasets lost the link: WESTPA's readers then found no trajectories).
    const link = key === 'trajectories' ? src.get_external_link(`${src.path}/${key}`) : undefined;
    if (link) {
      g.create_external_link(link.filename, link.obj_path, key);
      continue;
    }
    const x = src.get(key);
    if (isDataset(x)) copyDataset(x, g, key);
    else if (isGroup(x)) {
      const sub = g.create_group(key);
      for (const k2 of x.keys()) {
        const d = x.get(k2);
        if (isDataset(d)) copyDataset(d, sub, k2);
      }
    }
  }
}

/** Copies a dataset (plain or compound without references), optionally keeping only its first `rows` rows. */
function copyDataset(src: H5Dataset, dst: H5Group, name: string, rows?: number): H5Dataset {
  const md = src.metadata;
  const shape = [...(src.shape ?? [])];
  const n = rows ?? shape[0] ?? 0;
  if (shape.length > 0) shape[0] = n;
  const layout = md.chunks ? { maxshape: (md.maxshape ?? shape).map((m, i) => (i === 0 ? null : m)), chunks: md.chunks } : {};
  if (md.compound_type) {
    const all = (src.value as unknown[][] | null) ?? [];
    const kept = all.slice(0, n);
    const cols = new Map<string, unknown>();
    md.compound_type.members.forEach((m, j) => {
      const col = kept.map((r) => r[j]);
      cols.set(m.name, columnOf(m, col));
    });
    return dst.create_dataset({ name, data: cols, shape, dtype: { compound_type: md.compound_type }, ...layout });
  }
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const v = src.value as ArrayLike<number> & { slice(a: number, b: number): ArrayLike<number> };
  const data = v.slice(0, n * per);
  return dst.create_dataset({ name, data: data as Float64Array, shape, dtype: src.dtype, ...layout });
}

function columnOf(m: { type: number; size: number; signed: boolean }, col: unknown[]): unknown {
  const INTEGER = 0,
    FLOAT = 1;
  if (m.type === INTEGER) {
    if (m.size === 8)
      return m.signed ? BigInt64Array.from(col.map((x) => BigInt(x as number | bigint))) : BigUint64Array.from(col.map((x) => BigInt(x as number | bigint)));
    if (m.size === 1) return m.signed ? Int8Array.from(col as number[]) : Uint8Array.from(col as number[]);
    if (m.size === 4) return m.signed ? Int32Array.from(col as number[]) : Uint32Array.from(col as number[]);
  }
  if (m.type === FLOAT) return m.size === 8 ? Float64Array.from(col as number[]) : Float32Array.from(col as number[]);
  return col.map((x) => (typeof x === 'string' ? x.replace(/\0+$/, '') : String(x)));
}
