import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { H5mdWriter } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'westream-h5md-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ATOMS = 5;
const frame = (k: number, scale: number): Float32Array => Float32Array.from({ length: 3 * ATOMS }, (_, i) => scale * (k * 100 + i));

describe('H5mdWriter', () => {
  it("writes H5MD 1.1's layout frame by frame: values, steps, times, units, box edges", async () => {
    const file = join(dir, 'seg.h5');
    const w = await H5mdWriter.create({ file, atoms: ATOMS, fields: ['position', 'velocity'], edges: true, creator: { name: 'test', version: '1' } });
    for (let k = 0; k < 3; k++) w.append({ step: 10 * k, time: 0.5 * k, edges: [10 + k, 20, 30], data: { position: frame(k, 1), velocity: frame(k, -2) } });
    expect(existsSync(file)).toBe(false); // under its temporary name until closed
    w.close();
    await h5wasm.ready;
    const f = new h5wasm.File(file, 'r');
    try {
      const pos = f.get('particles/stream/position/value') as InstanceType<typeof h5wasm.Dataset>;
      expect(pos.shape).toEqual([3, ATOMS, 3]);
      expect(Array.from(pos.value as Float32Array).slice(3 * ATOMS, 6 * ATOMS)).toEqual(Array.from(frame(1, 1)));
      const vel = f.get('particles/stream/velocity/value') as InstanceType<typeof h5wasm.Dataset>;
      expect(Array.from(vel.value as Float32Array).slice(6 * ATOMS)).toEqual(Array.from(frame(2, -2)));
      expect(Array.from((f.get('particles/stream/position/step') as InstanceType<typeof h5wasm.Dataset>).value as Int32Array)).toEqual([0, 10, 20]);
      expect(Array.from((f.get('particles/stream/velocity/time') as InstanceType<typeof h5wasm.Dataset>).value as Float64Array)).toEqual([0, 0.5, 1]);
      const edges = f.get('particles/stream/box/edges/value') as InstanceType<typeof h5wasm.Dataset>;
      expect(edges.shape).toEqual([3, 3]);
      expect(Array.from(edges.value as Float32Array).slice(6)).toEqual([12, 20, 30]);
      expect(pos.attrs.unit?.value).toBe('Angstrom');
      expect(vel.attrs.unit?.value).toBe('Angstrom ps-1');
      expect(Array.from((f.get('h5md') as InstanceType<typeof h5wasm.Group>).attrs.version?.value as Int32Array)).toEqual([1, 1]);
      expect(f.get('particles/stream/force')).toBeFalsy(); // only the fields asked for
    } finally {
      f.close();
    }
  });

  it('refuses a frame without a field the file records, naming the file, frame and step', async () => {
    const file = join(dir, 'bad.h5');
    const w = await H5mdWriter.create({ file, atoms: ATOMS, fields: ['position', 'force'], edges: false, creator: { name: 'test', version: '1' } });
    w.append({ step: 0, time: 0, edges: null, data: { position: frame(0, 1), force: frame(0, 1) } });
    expect(() => w.append({ step: 7, time: 1, edges: null, data: { position: frame(1, 1) } })).toThrow(`H5MD ${file}: frame 1 (step 7) has no force`);
    w.discard();
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false); // a discarded file leaves nothing behind
  });
});
