/**
 * Trajectories in H5MD 1.1 (https://www.nongnu.org/h5md/h5md.html), the layout MDAnalysis's H5MDReader
 * reads: `particles/<group>/{position,velocity,force}/{value,step,time}` and `box/edges`, each `value` a
 * chunked, gzip-compressed dataset with one chunk per frame, growing as frames arrive. Units are the IMD
 * spec's (Å, ps, Å/ps, kJ/(mol·Å)), recorded as `unit` attributes so readers convert correctly.
 *
 * The file is written under a temporary name and renamed when closed: a segment killed mid-write leaves no
 * half file with the final name.
 */
import { renameSync, rmSync } from 'node:fs';
import h5wasm from 'h5wasm/node';

type H5File = InstanceType<typeof h5wasm.File>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

export type H5mdField = 'position' | 'velocity' | 'force';

const UNITS: Record<H5mdField, string> = { position: 'Angstrom', velocity: 'Angstrom ps-1', force: 'kJ mol-1 Angstrom-1' };

export interface H5mdOptions {
  readonly file: string;
  readonly atoms: number;
  readonly fields: readonly H5mdField[];
  /** gzip level 0–9 (default 4); 0 stores the data uncompressed (still chunked). */
  readonly compression?: number;
  /** Whether frames carry box edges (recorded as `box/edges`). */
  readonly edges: boolean;
  /** Written as `h5md/creator` (name, version). */
  readonly creator: { readonly name: string; readonly version: string };
}

export interface H5mdFrame {
  readonly step: number;
  readonly time: number;
  /** Box edges (a rectangular box's three lengths), or null when the frame has none. */
  readonly edges: readonly [number, number, number] | null;
  readonly data: Partial<Record<H5mdField, Float32Array>>;
}

export class H5mdWriter {
  private frames = 0;
  private readonly series = new Map<string, { value: H5Dataset; step: H5Dataset; time: H5Dataset; width: number[] }>();

  private constructor(
    private readonly f: H5File,
    private readonly o: H5mdOptions,
    private readonly tmp: string,
  ) {}

  static async create(o: H5mdOptions): Promise<H5mdWriter> {
    await h5wasm.ready;
    const tmp = `${o.file}.partial`;
    const f = new h5wasm.File(tmp, 'w');
    const root = f.create_group('h5md');
    root.create_attribute('version', [1, 1], [2], '<i4');
    f.create_group('h5md/author').create_attribute('name', 'westream');
    const creator = f.create_group('h5md/creator');
    creator.create_attribute('name', o.creator.name);
    creator.create_attribute('version', o.creator.version);
    f.create_group('particles');
    f.create_group('particles/stream');
    const box = f.create_group('particles/stream/box');
    box.create_attribute('dimension', 3, [], '<i4');
    box.create_attribute('boundary', ['periodic', 'periodic', 'periodic']);
    const w = new H5mdWriter(f, o, tmp);
    for (const field of o.fields) w.addSeries(`particles/stream/${field}`, [o.atoms, 3], UNITS[field]);
    if (o.edges) w.addSeries('particles/stream/box/edges', [3], 'Angstrom');
    return w;
  }

  private addSeries(path: string, width: number[], unit: string): void {
    this.f.create_group(path);
    const level = this.o.compression ?? 4;
    const value = this.f.create_dataset({
      name: `${path}/value`,
      data: new Float32Array(0),
      shape: [0, ...width],
      maxshape: [null, ...width],
      chunks: [1, ...width],
      dtype: '<f',
      ...(level > 0 ? { compression: 'gzip' as const, compression_opts: level } : {}),
    });
    value.create_attribute('unit', unit);
    const step = this.f.create_dataset({ name: `${path}/step`, data: new Int32Array(0), shape: [0], maxshape: [null], chunks: [256], dtype: '<i4' });
    const time = this.f.create_dataset({ name: `${path}/time`, data: new Float64Array(0), shape: [0], maxshape: [null], chunks: [256], dtype: '<d' });
    time.create_attribute('unit', 'ps');
    this.series.set(path, { value, step, time, width });
  }

  get framesWritten(): number {
    return this.frames;
  }

  append(fr: H5mdFrame): void {
    const n = this.frames;
    for (const [path, s] of this.series) {
      const field = path.slice('particles/stream/'.length) as H5mdField | 'box/edges';
      const data = field === 'box/edges' ? (fr.edges ? Float32Array.from(fr.edges) : null) : (fr.data[field] ?? null);
      if (!data) throw new Error(`H5MD ${this.o.file}: frame ${n} (step ${fr.step}) has no ${field}, which the file records`);
      s.value.resize([n + 1, ...s.width]);
      s.value.write_slice([[n, n + 1]], data);
      s.step.resize([n + 1]);
      s.step.write_slice([[n, n + 1]], Int32Array.of(fr.step));
      s.time.resize([n + 1]);
      s.time.write_slice([[n, n + 1]], Float64Array.of(fr.time));
    }
    this.frames++;
  }

  /** Finishes the file under its final name. */
  close(): void {
    this.f.close();
    renameSync(this.tmp, this.o.file);
  }

  /** Abandons the file (the segment failed). */
  discard(): void {
    try {
      this.f.close();
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }
}
