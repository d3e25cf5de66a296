/**
 * `west.system.driver: module.Class` — a WESTPA user's own system, built in their own Python by westpa's own
 * run control (driver first, then system_options on top, as w_run does). The loader needs it synchronously
 * (pcoord shape, bins, counts), so it runs one short-lived helper; the result is kept per file and
 * modification time, so a process that loads the same config again pays once.
 */
import { statSync } from 'node:fs';
import { BridgeError, chooseInterpreter, describeSystemSync, type MapperWire, type PythonSystem } from '@westream/python-bridge';
import { compileAdaptive } from './adaptive-mapper-spec.js';
import type { BinMapperSpec, SpecProblem } from './bin-mapper-spec.js';

const cache = new Map<string, PythonSystem>();

export interface PythonSystemRequest {
  readonly driver: string;
  readonly file: string;
  readonly simRoot: string;
  readonly python: string | null;
  readonly modulePath: readonly string[];
}

/** The user's system, or the message that says why it could not be built (and what to do). */
export function loadPythonSystem(r: PythonSystemRequest): PythonSystem | { error: string } {
  let mtime = 0;
  try {
    mtime = statSync(r.file).mtimeMs;
  } catch {
    return { error: `the config must be a file on disk for westpa to read it (${r.file} is not)` };
  }
  const key = JSON.stringify([r.file, mtime, r.simRoot, r.python, process.env.WESTREAM_PYTHON ?? '', r.modulePath]);
  const hit = cache.get(key);
  if (hit) return hit;
  try {
    const s = describeSystemSync({
      python: chooseInterpreter(r.python),
      simRoot: r.simRoot,
      configFile: r.file,
      modulePath: r.modulePath,
      purpose: `west.system.driver '${r.driver}'`,
    });
    cache.set(key, s);
    return s;
  } catch (e) {
    if (e instanceof BridgeError) return { error: e.message };
    throw e;
  }
}

/**
 * The system's mapper as westream's spec: natively where westream has the mapper (Rectilinear, Recursive, and
 * WESTPA's MAB and binless mappers, checked as the same keys in system_options.bins would be), else assigned in
 * Python. A problem names the mapper's place in the system (`bins`, `bins.mappers[0]` …).
 */
export function specFromWire(m: MapperWire, ndim: number, problems: SpecProblem[] = [], path: (string | number)[] = ['bins']): BinMapperSpec {
  if (m.type === 'RectilinearBinMapper') return { type: m.type, boundaries: m.boundaries };
  if (m.type === 'RecursiveBinMapper') {
    return {
      type: m.type,
      base: specFromWire(m.base, ndim, problems, [...path, 'base']),
      mappers: m.mappers.map((c, i) => ({ mapper: specFromWire(c.mapper, ndim, problems, [...path, 'mappers', i]), at: c.at })),
    };
  }
  if (m.type === 'python') return { type: 'python', class: m.class, nbins: m.nbins, ndim };
  const spec = compileAdaptive(m.type, { ...m.options }, path, problems);
  // On a problem the caller reports it; the placeholder keeps the shape (the config is refused anyway).
  return spec ?? { type: 'python', class: m.type, nbins: 0, ndim };
}
