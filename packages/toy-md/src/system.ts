/**
 * The two model systems. `1d`: one particle on a line, s = x. `pair`: two particles in a periodic cubic box
 * (plus inert solvent), s = their minimum-image separation. The potential acts on s only.
 */
import type { MdParams } from './params.js';
import type { Polynomial } from './potential.js';

export interface MdState {
  /** Positions, `nAtoms × dim`. */
  readonly x: Float64Array;
  /** Velocities, `nAtoms × dim`. */
  readonly v: Float64Array;
  step: number;
  time: number;
}

export interface MdSystem {
  readonly dim: number;
  readonly nAtoms: number;
  /** The progress coordinate of a configuration. */
  pcoord(x: Float64Array): number;
  /** Writes forces −∂U/∂x into `f`. */
  forces(x: Float64Array, f: Float64Array): void;
  /** Puts positions back into the primary cell, if periodic. */
  wrap(x: Float64Array): void;
  /** A configuration whose progress coordinate is `s`. */
  place(s: number): Float64Array;
}

export function makeSystem(p: MdParams, u: Polynomial): MdSystem {
  return p.system === '1d' ? line(u) : pair(p, u);
}

function line(u: Polynomial): MdSystem {
  return {
    dim: 1,
    nAtoms: 1,
    pcoord: (x) => x[0] as number,
    forces: (x, f) => {
      f[0] = -u.derivative(x[0] as number);
    },
    wrap: () => undefined,
    place: (s) => Float64Array.of(s),
  };
}

function pair(p: MdParams, u: Polynomial): MdSystem {
  const L = p.box;
  const minImage = (d: number): number => d - L * Math.round(d / L);
  const separation = (x: Float64Array, out: Float64Array): number => {
    let r2 = 0;
    for (let k = 0; k < 3; k++) {
      const d = minImage((x[3 + k] as number) - (x[k] as number));
      out[k] = d;
      r2 += d * d;
    }
    return Math.sqrt(r2);
  };
  const d = new Float64Array(3);
  return {
    dim: 3,
    nAtoms: 2 + p.solvent,
    pcoord: (x) => separation(x, d),
    forces: (x, f) => {
      f.fill(0);
      const r = separation(x, d);
      if (r === 0) return; // coincident particles: the direction is undefined, and U'(0)·0 is the only safe force
      const g = u.derivative(r) / r;
      for (let k = 0; k < 3; k++) {
        f[k] = g * (d[k] as number);
        f[3 + k] = -g * (d[k] as number);
      }
    },
    wrap: (x) => {
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) - L * Math.floor((x[i] as number) / L);
    },
    place: (s) => {
      if (!(s < L / 2)) throw new RangeError(`a separation of ${s} does not fit in a periodic box of side ${L} (needs < ${L / 2})`);
      const x = new Float64Array(3 * (2 + p.solvent));
      const c = L / 2;
      x.set([c - s / 2, c, c, c + s / 2, c, c]);
      // Solvent on a simple cubic lattice: a deterministic start; the thermostat randomises it.
      const n = Math.ceil(Math.cbrt(Math.max(p.solvent, 1)));
      for (let i = 0; i < p.solvent; i++) {
        const a = i % n,
          b = Math.floor(i / n) % n,
          e = Math.floor(i / (n * n));
        x.set([((a + 0.5) * L) / n, ((b + 0.5) * L) / n, ((e + 0.5) * L) / n], 6 + 3 * i);
      }
      return x;
    },
  };
}
