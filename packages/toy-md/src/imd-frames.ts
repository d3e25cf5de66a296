/**
 * What the toy engine streams and writes as its trajectory: one frame per pcoord row, in IMD v3's units.
 * The toy's internal units are GROMACS's (nm, ps, kJ/mol, amu), so lengths ×10 → Å, velocities ×10 → Å/ps,
 * forces ÷10 → kJ/(mol·Å), exactly the conversion GROMACS's IMD code does.
 */
import type { OutgoingFrame } from '@westream/imd';
import type { Engine } from './engine.js';
import { Polynomial } from './potential.js';
import type { MdState } from './system.js';

const NM_TO_A = 10;

export function frameMaker(engine: Engine): (state: MdState) => OutgoingFrame {
  const { params: p, system } = engine;
  const u = new Polynomial(p.coefficients);
  const size = system.dim * system.nAtoms;
  const f = new Float64Array(size);
  const box = p.system === 'pair' ? Float32Array.of(p.box * NM_TO_A, 0, 0, 0, p.box * NM_TO_A, 0, 0, 0, p.box * NM_TO_A) : new Float32Array(9);
  /** Atoms × 3 (a 1-D system's coordinate is x; y = z = 0), scaled. */
  const to3d = (a: Float64Array, scale: number): Float32Array => {
    const out = new Float32Array(3 * system.nAtoms);
    for (let i = 0; i < system.nAtoms; i++) for (let k = 0; k < system.dim; k++) out[3 * i + k] = (a[system.dim * i + k] as number) * scale;
    return out;
  };
  return (state) => {
    system.forces(state.x, f);
    let kinetic = 0;
    for (let i = 0; i < size; i++) kinetic += 0.5 * p.mass * (state.v[i] as number) ** 2;
    const potential = u.energy(system.pcoord(state.x));
    return {
      step: state.step,
      time: state.time,
      dt: p.dt,
      // temperature: 2·KE / degrees of freedom, in energy units (kT); the other terms do not exist here.
      energies: {
        step: state.step,
        temperature: (2 * kinetic) / size,
        total: kinetic + potential,
        potential,
        vdw: 0,
        coulomb: 0,
        bonds: 0,
        angles: 0,
        dihedrals: 0,
        impropers: 0,
      },
      box,
      positions: to3d(state.x, NM_TO_A),
      velocities: to3d(state.v, NM_TO_A),
      forces: to3d(f, 1 / NM_TO_A),
    };
  };
}

/** One trajectory line: the frame as JSON, arrays as the float32 values the stream carries. */
export function trajectoryLine(fr: OutgoingFrame): string {
  const arr = (a: ArrayLike<number> | undefined): number[] | undefined => (a ? Array.from(a) : undefined);
  return `${JSON.stringify({ step: fr.step, time: fr.time, dt: fr.dt, energies: fr.energies, box: arr(fr.box), positions: arr(fr.positions), velocities: arr(fr.velocities), forces: arr(fr.forces) })}\n`;
}

/** One XYZ frame (positions in Å), the text trajectory format most tools read. */
export function xyzFrame(fr: OutgoingFrame): string {
  const x = fr.positions ?? [];
  const n = x.length / 3;
  const lines: string[] = [String(n), `step=${fr.step} time=${fr.time ?? 0}`];
  for (let i = 0; i < n; i++) lines.push(`X ${(x[3 * i] as number).toFixed(5)} ${(x[3 * i + 1] as number).toFixed(5)} ${(x[3 * i + 2] as number).toFixed(5)}`);
  return `${lines.join('\n')}\n`;
}

/** Distance between atoms a and b in each frame of an XYZ text (Å; minimum image when box > 0). */
export function xyzDistances(text: string, a: number, b: number, box: number): number[] {
  const lines = text.split('\n');
  const out: number[] = [];
  for (let at = 0; at < lines.length && (lines[at] as string).trim() !== '';) {
    const n = Number(lines[at]);
    const p = (i: number): number[] => (lines[at + 2 + i] as string).trim().split(/\s+/).slice(1).map(Number);
    const pa = p(a);
    const pb = p(b);
    const d = [0, 1, 2].map((k) => {
      const r = (pb[k] as number) - (pa[k] as number);
      return box > 0 ? r - box * Math.round(r / box) : r;
    });
    out.push(Math.hypot(d[0] as number, d[1] as number, d[2] as number));
    at += n + 2;
  }
  return out;
}
