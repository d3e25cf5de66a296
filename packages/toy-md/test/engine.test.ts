import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { basisState, makeEngine, parseParams, ParamsError, runSegment } from '@westream/toy-md';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/westream-toy-md.js', import.meta.url));
const toy = (cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, WEST_RAND64: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('westream-toy-md, the command', () => {
  it('continues a restart bit for bit: same seed and restart, same files; another seed, another path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toy-md-'));
    writeFileSync(join(dir, 'md.in'), 'system = pair\ncoefficients = 0 0 1\nsolvent = 5\nsteps = 300\nstride = 30\nbox = 8\n');
    expect(toy(dir, 'init', '--input', 'md.in', '--pcoord', '1.5', '--out', 'b.rst', '--seed', '3').code).toBe(0);
    for (const [out, seed] of [
      ['a', '11'],
      ['b', '11'],
      ['c', '12'],
    ] as const) {
      const r = toy(dir, 'run', '--input', 'md.in', '--restart', 'b.rst', '--out-restart', `${out}.rst`, '--out-pcoord', `${out}.dat`, '--seed', seed);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readFileSync(join(dir, 'a.rst'))).toEqual(readFileSync(join(dir, 'b.rst')));
    expect(readFileSync(join(dir, 'a.dat'))).toEqual(readFileSync(join(dir, 'b.dat')));
    expect(readFileSync(join(dir, 'a.dat'))).not.toEqual(readFileSync(join(dir, 'c.dat')));
    const pc = readFileSync(join(dir, 'a.dat'), 'utf8').trim().split('\n').map(Number);
    expect(pc).toHaveLength(11);
    expect(pc[0]).toBeCloseTo(1.5, 12); // step 0 is the restart's own pcoord (WESTPA: a segment's first point)
    const rst = JSON.parse(readFileSync(join(dir, 'a.rst'), 'utf8')) as { x: number[]; step: number };
    expect(rst.x).toHaveLength(3 * 7); // the pair and 5 solvent particles
    expect(rst.step).toBe(300);
    // The pcoord the engine reports for its own restart equals the last pcoord it wrote.
    expect(Number(toy(dir, 'pcoord', '--input', 'md.in', '--restart', 'a.rst').stdout)).toBe(pc[10]);
  });

  it('writes an XYZ trajectory of the same frames, and xyz-pcoord reads the pcoord back from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toy-md-'));
    writeFileSync(join(dir, 'md.in'), 'system = pair\ncoefficients = 0 0 1\nsolvent = 3\nsteps = 100\nstride = 10\nbox = 2\n');
    expect(toy(dir, 'init', '--input', 'md.in', '--pcoord', '0.9', '--out', 'b.rst', '--seed', '3').code).toBe(0);
    const r = toy(dir, 'run', '--input', 'md.in', '--restart', 'b.rst', '--out-restart', 'a.rst', '--out-pcoord', 'a.dat', '--out-xyz', 'a.xyz', '--seed', '4');
    expect(r.code, r.stderr).toBe(0);
    const xyz = readFileSync(join(dir, 'a.xyz'), 'utf8').split('\n');
    expect(xyz[0]).toBe('5');
    expect(xyz[1]).toBe('step=0 time=0');
    const back = toy(dir, 'xyz-pcoord', '--input', 'md.in', '--xyz', 'a.xyz', '--atoms', '0,1').stdout.trim().split('\n').map(Number);
    const pc = readFileSync(join(dir, 'a.dat'), 'utf8').trim().split('\n').map(Number);
    expect(back).toHaveLength(11);
    back.forEach((d, i) => expect(d).toBeCloseTo(pc[i] as number, 5)); // XYZ keeps 5 decimals of Å
  });

  it('refuses bad input with the file, the line and what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toy-md-'));
    writeFileSync(join(dir, 'md.in'), 'coefficients = 0 0 1\nfricton = 2\n');
    let r = toy(dir, 'init', '--input', 'md.in', '--pcoord', '0', '--out', 'b.rst', '--seed', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("md.in:2: unknown key 'fricton'");
    writeFileSync(join(dir, 'md.in'), 'coefficients = 0 0 1\nsteps = 10\nstride = 3\n');
    r = toy(dir, 'init', '--input', 'md.in', '--pcoord', '0', '--out', 'b.rst', '--seed', '1');
    expect(r.stderr).toContain('steps (10) must be a multiple of stride (3)');
    writeFileSync(join(dir, 'md.in'), 'coefficients = 0 0 1\n');
    r = toy(dir, 'init', '--input', 'md.in', '--pcoord', '0', '--out', 'b.rst');
    expect(r.stderr).toContain('no seed');
    expect(r.stderr).not.toContain('    at '); // no stack trace for a user's mistake
  });
});

describe('BAOAB samples the Boltzmann distribution', () => {
  it('of a harmonic well: <x²> = kT/k', () => {
    // U = 2 x², so k = 4 and <x²> = kT/k = 0.375 at kT = 1.5. Samples are 20 steps (1 time unit) apart and the
    // position relaxes in γ/k = 0.5, so 200,000 samples are nearly independent: the standard error of <x²> is
    // √(2/200000) ≈ 0.3 %. BAOAB's configurational bias at ω·dt = 0.1 is far smaller. 2 % is over 6 standard errors.
    const p = parseParams('coefficients = 0 0 2\nkT = 1.5\nfriction = 2\ndt = 0.05\nsteps = 20\nstride = 20\n', 'md.in');
    const engine = makeEngine(p);
    const state = basisState(engine, 0, 5n);
    let sum = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const pc = runSegment(engine, state, BigInt(i));
      sum += (pc[1] as number) ** 2;
    }
    expect(sum / n).toBeGreaterThan(0.375 * 0.98);
    expect(sum / n).toBeLessThan(0.375 * 1.02);
  });

  it('rejects a pair separation that cannot fit in the box', () => {
    const engine = makeEngine(parseParams('system = pair\ncoefficients = 0\nbox = 4\n', 'md.in'));
    expect(() => basisState(engine, 2.5, 1n)).toThrow(/does not fit in a periodic box of side 4/);
    expect(() => parseParams('system = 2d\ncoefficients = 0', 'md.in')).toThrow(ParamsError);
  });
});
