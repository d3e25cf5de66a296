/**
 * WESTPA's west.h5 names and dtypes (data_manager.py, file format 9), in h5wasm's dtype notation.
 *
 * Where h5wasm cannot write what WESTPA writes: strings inside compounds are fixed-length ('A<n>') instead of
 * variable-length (h5wasm cannot write vlen strings in compounds); WESTPA reads both through `h5io.tostr`.
 */
export const FORMAT_VERSION = 9;

export const SEG_INDEX_DTYPE: [string, string][] = [
  ['weight', '<d'],
  ['parent_id', '<q'],
  ['wtg_n_parents', '<Q'],
  ['wtg_offset', '<Q'],
  ['cputime', '<d'],
  ['walltime', '<d'],
  ['endpoint_type', '<B'],
  ['status', '<B'],
];

export const SUMMARY_DTYPE: [string, string][] = [
  ['n_particles', '<q'],
  ['norm', '<d'],
  ['min_bin_prob', '<d'],
  ['max_bin_prob', '<d'],
  ['min_seg_prob', '<d'],
  ['max_seg_prob', '<d'],
  ['cputime', '<d'],
  ['walltime', '<d'],
  ['binhash', 'A64'],
];

export const NEW_WEIGHTS_DTYPE: [string, string][] = [
  ['source_type', '<B'],
  ['weight', '<d'],
  ['prev_seg_id', '<q'],
  ['target_state_id', '<q'],
  ['initial_state_id', '<q'],
];

/** Fixed string width for a set of strings (at least 1 byte: HDF5 has no zero-length strings). */
export function stringWidth(xs: readonly string[]): number {
  return Math.max(1, ...xs.map((s) => Buffer.byteLength(s, 'utf8')));
}

export function iterGroupName(n: number, prec = 8): string {
  return `iter_${String(n).padStart(prec, '0')}`;
}

export function pcoordDtype(d: 'float32' | 'float64'): string {
  return d === 'float32' ? '<f' : '<d';
}
