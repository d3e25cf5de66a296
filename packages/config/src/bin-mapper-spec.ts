/**
 * `system_options.bins` → a BinMapper, with WESTPA's YAML rules (`_rc.py: bins_from_yaml_dict`):
 * a boundary may be a number, `inf`/`-inf`, or a numeric string; a whole dimension may be a string
 * expression, of which westream evaluates the common, side-effect-free forms (a list literal,
 * `np.arange(start, stop[, step])`, `np.linspace(start, stop, num)`).
 */
import { BinAssignmentError, RectilinearBinMapper, RecursiveBinMapper, type BinMapper } from '@westream/we';
import { adaptiveType, buildAdaptive, compileAdaptive, type AdaptiveSpec } from './adaptive-mapper-spec.js';
import { describeFound } from './config-error.js';

export const SUPPORTED_MAPPERS = ['RectilinearBinMapper', 'RecursiveBinMapper', 'MABBinMapper', 'BinlessMapper'] as const;

export interface SpecProblem {
  readonly path: (string | number)[];
  readonly message: string;
  /** Set on what WESTPA only warns about; otherwise an error. */
  readonly severity?: 'warning';
}

/** A normalized, JSON-printable bin mapper description. */
export type BinMapperSpec =
  | { readonly type: 'RectilinearBinMapper'; readonly boundaries: number[][] }
  | {
      readonly type: 'RecursiveBinMapper';
      readonly base: BinMapperSpec;
      readonly mappers: { readonly mapper: BinMapperSpec; readonly at: number[] }[];
    }
  | AdaptiveSpec
  /** A mapper of the user's Python system that westream has no native twin of: assigned through the bridge. */
  | { readonly type: 'python'; readonly class: string; readonly nbins: number; readonly ndim: number };

/** Builds the mapper a spec describes (the spec is already checked). */
export function mapperFromSpec(spec: BinMapperSpec): BinMapper {
  if (spec.type === 'RectilinearBinMapper') return new RectilinearBinMapper(spec.boundaries);
  if (spec.type === 'MABBinMapper' || spec.type === 'BinlessMapper') return buildAdaptive(spec);
  if (spec.type === 'python') return new PythonAssignedMapper(spec);
  const rec = new RecursiveBinMapper(mapperFromSpec(spec.base));
  for (const { mapper, at } of spec.mappers) rec.addMapper(mapperFromSpec(mapper), at);
  return rec;
}

/**
 * Stands for a Python mapper where no bridge is at hand (the REST API's bin table): it knows its size and
 * assigns nothing. The run loop assigns such bins through the bridge, in one batched call per assignment.
 */
export class PythonAssignedMapper implements BinMapper {
  readonly type: string;
  readonly ndim: number;
  readonly nbins: number;
  constructor(spec: { readonly class: string; readonly nbins: number; readonly ndim: number }) {
    this.type = spec.class;
    this.ndim = spec.ndim;
    this.nbins = spec.nbins;
  }
  assignPoint(coords: ArrayLike<number>, offset: number): number {
    throw new BinAssignmentError(0, 0, coords[offset] as number, [NaN, NaN]);
  }
  labels(): string[] {
    return Array.from({ length: this.nbins }, (_, i) => `${this.type} bin ${i}`);
  }
}

/** Checks a raw `bins` mapping at `path`; returns the spec, or undefined with problems added. */
export function compileBinSpec(raw: unknown, path: (string | number)[], problems: SpecProblem[]): BinMapperSpec | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path, message: `expected a mapping with a 'type' key, found ${describeFound(raw)}` });
    return undefined;
  }
  const obj = raw as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string') {
    problems.push({ path: [...path, 'type'], message: `missing or not a string; expected one of ${SUPPORTED_MAPPERS.join(', ')}` });
    return undefined;
  }
  const shortType = type.replace(/^westpa\.core\.binning\.(?:assign\.)?/, '');
  if (shortType === 'RectilinearBinMapper') return rectilinear(obj, path, problems);
  if (shortType === 'RecursiveBinMapper') return recursive(obj, path, problems);
  const adaptive = adaptiveType(type);
  if (adaptive) return compileAdaptive(adaptive, obj, path, problems);
  problems.push({
    path: [...path, 'type'],
    message: `bin mapper type '${type}' is not supported; supported: ${SUPPORTED_MAPPERS.join(', ')} (Voronoi comes later)`,
  });
  return undefined;
}

function rectilinear(obj: Record<string, unknown>, path: (string | number)[], problems: SpecProblem[]): BinMapperSpec | undefined {
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && key !== 'boundaries')
      problems.push({ path: [...path, key], message: `RectilinearBinMapper takes no '${key}'; it takes only 'boundaries'` });
  }
  const raw = obj.boundaries;
  const bpath = [...path, 'boundaries'];
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ path: bpath, message: `expected a list with one list of boundaries per dimension, found ${describeFound(raw)}` });
    return undefined;
  }
  const before = problems.length;
  const boundaries: number[][] = raw.map((dim, d) => {
    if (typeof dim === 'string') {
      const values = evalBoundaryExpression(dim);
      if (typeof values === 'string') problems.push({ path: [...bpath, d], message: values });
      return typeof values === 'string' ? [] : values;
    }
    if (!Array.isArray(dim)) {
      problems.push({ path: [...bpath, d], message: `expected a list of boundaries, found ${describeFound(dim)}` });
      return [];
    }
    return dim.map((b, i) => {
      const v = boundaryValue(b);
      if (v === undefined) problems.push({ path: [...bpath, d, i], message: `expected a number, 'inf' or '-inf', found ${describeFound(b)}` });
      return v ?? NaN;
    });
  });
  if (problems.length > before) return undefined;
  try {
    new RectilinearBinMapper(boundaries);
  } catch (err) {
    problems.push({ path: bpath, message: (err as Error).message });
    return undefined;
  }
  return { type: 'RectilinearBinMapper', boundaries };
}

function recursive(obj: Record<string, unknown>, path: (string | number)[], problems: SpecProblem[]): BinMapperSpec | undefined {
  const baseKey = obj.base_mapper !== undefined ? 'base_mapper' : 'base';
  if (obj[baseKey] === undefined) {
    problems.push({ path: [...path, 'base'], message: 'missing; RecursiveBinMapper needs a base mapper (base or base_mapper)' });
    return undefined;
  }
  if (obj.start_index !== undefined && obj.start_index !== 0) {
    problems.push({ path: [...path, 'start_index'], message: `only 0 is supported, found ${describeFound(obj.start_index)}` });
  }
  const base = compileBinSpec(obj[baseKey], [...path, baseKey], problems);
  const rawMappers = obj.mappers ?? [];
  if (!Array.isArray(rawMappers)) {
    problems.push({ path: [...path, 'mappers'], message: `expected a list of child mappers, found ${describeFound(rawMappers)}` });
    return undefined;
  }
  const mappers: { mapper: BinMapperSpec; at: number[] }[] = [];
  rawMappers.forEach((m, i) => {
    const mpath = [...path, 'mappers', i];
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      problems.push({ path: mpath, message: `expected a mapping (a bin mapper with 'at'), found ${describeFound(m)}` });
      return;
    }
    const { at, replaces_bin_at, ...rest } = m as Record<string, unknown>;
    const atKey = at !== undefined ? 'at' : 'replaces_bin_at';
    const where = at ?? replaces_bin_at;
    const point = Array.isArray(where) ? where.map(boundaryValue) : undefined;
    if (!point || point.length === 0 || point.some((v) => v === undefined || !Number.isFinite(v))) {
      problems.push({ path: [...mpath, atKey], message: `expected the point whose bin is replaced, e.g. [1.5], found ${describeFound(where)}` });
      return;
    }
    const child = compileBinSpec(rest, mpath, problems);
    if (child) mappers.push({ mapper: child, at: point as number[] });
  });
  if (!base || mappers.length !== rawMappers.length) return undefined;
  const spec: BinMapperSpec = { type: 'RecursiveBinMapper', base, mappers };
  try {
    mapperFromSpec(spec);
  } catch (err) {
    problems.push({ path: [...path, 'mappers'], message: (err as Error).message });
    return undefined;
  }
  return spec;
}

/** A boundary as WESTPA reads it: a number, or a string `float()` accepts (`inf`, `-inf`, `1e3`). */
export function boundaryValue(b: unknown): number | undefined {
  if (typeof b === 'number') return b;
  if (typeof b !== 'string') return undefined;
  const t = b.trim().toLowerCase();
  if (/^[+]?(inf|infinity|\.inf)$/.test(t)) return Infinity;
  if (/^-(inf|infinity|\.inf)$/.test(t)) return -Infinity;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  return undefined;
}

/** Evaluates the safe subset of WESTPA's boundary expressions; returns the values or a message. */
export function evalBoundaryExpression(text: string): number[] | string {
  const src = text.trim();
  const call = /^(?:np|numpy)\.(arange|linspace)\((.*)\)$/.exec(src);
  if (call) {
    const args = (call[2] as string).split(',').map((a) => boundaryValue(a.trim().replace(/^(np|numpy|math)\./, '')));
    if (args.some((a) => a === undefined || !Number.isFinite(a))) return `cannot read the arguments of '${src}'; use numbers`;
    const [a, b, c] = args as number[];
    if (call[1] === 'arange') {
      const step = c ?? 1;
      if (args.length < 2 || args.length > 3 || !(step > 0) || b === undefined || a === undefined)
        return `'${src}': write np.arange(start, stop[, step]) with step > 0`;
      const n = Math.ceil((b - a) / step);
      if (n > 1e6) return `'${src}' makes more than a million boundaries`;
      return Array.from({ length: Math.max(0, n) }, (_, i) => a + i * step);
    }
    if (args.length !== 3 || a === undefined || b === undefined || !Number.isInteger(c) || (c as number) < 2)
      return `'${src}': write np.linspace(start, stop, num) with num ≥ 2`;
    const num = c as number;
    return Array.from({ length: num }, (_, i) => (i === num - 1 ? b : a + ((b - a) * i) / (num - 1)));
  }
  const list = /^\[(.*)\]$/s.exec(src);
  if (list) {
    const items = (list[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const values = items.map((s) => boundaryValue(s.replace(/^['"]|['"]$/g, '').replace(/^(np|numpy|math)\./, '')));
    if (values.every((v): v is number => v !== undefined)) return values;
  }
  return `westream cannot evaluate the boundary expression '${src}'; write the boundaries as a list of numbers (inf allowed), or as np.arange(...) / np.linspace(...)`;
}
