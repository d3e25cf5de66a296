/**
 * `type: MABBinMapper` and `type: BinlessMapper` in `system_options.bins`, with the keyword arguments
 * WESTPA 2022.16's constructors take (`MABBinMapper(nbins, direction, skip, bottleneck, pca, mab_log,
 * bin_log, bin_log_path)`, `BinlessMapper(ngroups, ndims, group_function, **group_function_kwargs)`).
 */
import { BinlessMapper, IDENTITY_GROUPING_NAMES, MABBinMapper, MAB_DIRECTIONS } from '@westream/we';
import { describeFound } from './config-error.js';

type Path = (string | number)[];
interface Problem {
  readonly path: Path;
  readonly message: string;
  /** What WESTPA only warns about. */
  readonly severity?: 'warning';
}

export interface MabSpec {
  readonly type: 'MABBinMapper';
  readonly nbins: number[];
  readonly direction: number[];
  readonly skip: number[];
  readonly bottleneck: boolean;
  readonly pca: boolean;
  /** MAB stats in the run's log each iteration. */
  readonly mab_log: boolean;
  /** Append the bin boundaries to `bin_log_path` each iteration. */
  readonly bin_log: boolean;
  readonly bin_log_path: string;
}

export interface BinlessSpec {
  readonly type: 'BinlessMapper';
  readonly ngroups: number;
  readonly ndims: number;
  readonly group_function: string;
}

export type AdaptiveSpec = MabSpec | BinlessSpec;

export const DEFAULT_BIN_LOG_PATH = '$WEST_SIM_ROOT/binbounds.log';
const MAB_KEYS = ['nbins', 'direction', 'skip', 'bottleneck', 'pca', 'mab_log', 'bin_log', 'bin_log_path'];

/** The short name of a WESTPA adaptive mapper type (dotted or not), or undefined. */
export function adaptiveType(type: string): 'MABBinMapper' | 'BinlessMapper' | undefined {
  const short = type.replace(/^westpa\.core\.binning\.(?:mab\.|binless\.)?/, '');
  return short === 'MABBinMapper' || short === 'BinlessMapper' ? short : undefined;
}

export function buildAdaptive(spec: AdaptiveSpec): MABBinMapper | BinlessMapper {
  if (spec.type === 'BinlessMapper') return new BinlessMapper(spec.ngroups, spec.ndims);
  return new MABBinMapper({ nbins: spec.nbins, direction: spec.direction, skip: spec.skip, bottleneck: spec.bottleneck, pca: spec.pca });
}

/** Checks a MAB or binless mapping; what WESTPA only warns about is added as a warning. */
export function compileAdaptive(
  type: 'MABBinMapper' | 'BinlessMapper',
  obj: Record<string, unknown>,
  path: Path,
  problems: Problem[],
): AdaptiveSpec | undefined {
  const errors = (): number => problems.filter((p) => p.severity !== 'warning').length;
  const before = errors();
  const spec = type === 'MABBinMapper' ? mab(obj, path, problems, (p) => problems.push({ ...p, severity: 'warning' })) : binless(obj, path, problems);
  return errors() > before ? undefined : spec;
}

const intList = (v: unknown): number[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x)) ? (v as number[]) : undefined;
const flag = (v: unknown): number | undefined => (typeof v === 'boolean' ? Number(v) : typeof v === 'number' && Number.isInteger(v) ? v : undefined);

function mab(obj: Record<string, unknown>, path: Path, problems: Problem[], warn: (p: Problem) => void): MabSpec | undefined {
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && !MAB_KEYS.includes(key))
      problems.push({ path: [...path, key], message: `MABBinMapper takes no '${key}'; it takes ${MAB_KEYS.join(', ')}` });
  }
  const nbins = intList(obj.nbins);
  if (!nbins || nbins.length === 0 || nbins.some((b) => b < 1)) {
    problems.push({
      path: [...path, 'nbins'],
      message: `expected the number of linear bins per dimension, e.g. [10] or [10, 5], found ${describeFound(obj.nbins)}`,
    });
    return undefined;
  }
  const ndim = nbins.length;
  // WESTPA replaces a direction or skip list of the wrong length by its default, with a warning.
  let direction = new Array<number>(ndim).fill(0);
  if (obj.direction !== undefined && obj.direction !== null) {
    const d = intList(obj.direction);
    if (!d)
      problems.push({ path: [...path, 'direction'], message: `expected one integer per dimension (0, 1, -1 or 86), found ${describeFound(obj.direction)}` });
    else if (d.length !== ndim)
      warn({
        path: [...path, 'direction'],
        message: `has ${d.length} entries for ${ndim} dimensions; WESTPA then uses the default (0 in every dimension), and so does westream`,
      });
    else {
      d.forEach((v, i) => {
        if (!(MAB_DIRECTIONS as readonly number[]).includes(v))
          problems.push({
            path: [...path, 'direction', i],
            message: `${v} is not a MAB direction; use 0 (split at both ends), 1 (leading only), -1 (lagging only) or 86 (neither)`,
          });
      });
      direction = d;
    }
  }
  let skip = new Array<number>(ndim).fill(0);
  if (obj.skip !== undefined && obj.skip !== null) {
    const raw = Array.isArray(obj.skip) ? obj.skip.map(flag) : undefined;
    if (!raw || raw.some((v) => v === undefined))
      problems.push({ path: [...path, 'skip'], message: `expected one 0/1 flag per dimension, found ${describeFound(obj.skip)}` });
    else if (raw.length !== ndim)
      warn({ path: [...path, 'skip'], message: `has ${raw.length} entries for ${ndim} dimensions; WESTPA then skips none, and so does westream` });
    else skip = raw.map((v) => (v ? 1 : 0));
  }
  const bool = (key: string, dflt: boolean): boolean => {
    const v = obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    problems.push({ path: [...path, key], message: `expected true or false, found ${describeFound(v)}` });
    return dflt;
  };
  const bottleneck = bool('bottleneck', true);
  const pca = bool('pca', false);
  const mabLog = bool('mab_log', false);
  const binLog = bool('bin_log', false);
  const binLogPath = obj.bin_log_path ?? DEFAULT_BIN_LOG_PATH;
  if (typeof binLogPath !== 'string' || binLogPath === '')
    problems.push({ path: [...path, 'bin_log_path'], message: `expected a file path, found ${describeFound(obj.bin_log_path)}` });
  if (pca && ndim === 1)
    problems.push({
      path: [...path, 'pca'],
      message: 'pca needs 2 or more dimensions (WESTPA 2022.16 stops with a numpy LinAlgError on 1-D pcoords); remove it',
    });
  if (pca && ndim > 1)
    warn({
      path: [...path, 'pca'],
      message: 'WESTPA 2022.16 computes the PCA but bins the original coordinates, so pca changes no bin; westream does the same',
    });
  return { type: 'MABBinMapper', nbins, direction, skip, bottleneck, pca, mab_log: mabLog, bin_log: binLog, bin_log_path: binLogPath as string };
}

function binless(obj: Record<string, unknown>, path: Path, problems: Problem[]): BinlessSpec | undefined {
  const int = (key: string): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      problems.push({ path: [...path, key], message: `expected a whole number ≥ 1, found ${describeFound(v)}` });
    return v as number;
  };
  const ngroups = int('ngroups');
  const ndims = int('ndims');
  const fn = obj.group_function;
  if (typeof fn !== 'string') {
    problems.push({
      path: [...path, 'group_function'],
      message: `missing; WESTPA's BinlessMapper needs a grouping function, e.g. ${IDENTITY_GROUPING_NAMES[0]} (everything in one group)`,
    });
  } else if (!(IDENTITY_GROUPING_NAMES as readonly string[]).includes(fn)) {
    problems.push({
      path: [...path, 'group_function'],
      message: `'${fn}' is a Python function; westream's native BinlessMapper has only WESTPA's default grouping (${IDENTITY_GROUPING_NAMES[0]}, every walker in group 0); use it, or a MAB or fixed bins`,
    });
  }
  return { type: 'BinlessMapper', ngroups, ndims, group_function: fn as string };
}
