/**
 * MAB's `bin_log` and `mab_log` options: after each WE step, the bins the MAB mappers placed are appended
 * to `bin_log_path` (default `$WEST_SIM_ROOT/binbounds.log`) in the layout of WESTPA's
 * `log_bin_boundaries` (numpy's printing included), and with `mab_log` the minima and maxima go to the run's log. The same bins are
 * also in west.h5 (each iteration group's `westream_adaptive_bins`), which is what the API reads; this file
 * is for the people and scripts that read WESTPA's.
 */
import { appendFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { expandPath, type BinMapperSpec, type MabSpec, type WestConfig } from '@westream/config';
import type { AdaptiveBinsRecord } from '@westream/we';
import { float32ArrayRepr, float32ArrayStr, float32ListRepr } from './numpy-text.js';

/** The MAB mappers of a spec, in config order. */
export function mabSpecs(spec: BinMapperSpec): MabSpec[] {
  if (spec.type === 'MABBinMapper') return [spec];
  if (spec.type === 'RecursiveBinMapper') return [...mabSpecs(spec.base), ...spec.mappers.flatMap((m) => mabSpecs(m.mapper))];
  return [];
}

/** One iteration's entry, as WESTPA's `log_bin_boundaries` writes it (one per MAB mapper that placed bins). */
export function binLogEntry(nIter: number, r: AdaptiveBinsRecord, spec: Pick<MabSpec, 'bottleneck' | 'direction' | 'skip'>): string {
  let out = `Iteration: ${nIter}\nMAB linear bin boundaries: ${(r.boundaries ?? []).map((b) => `${float32ArrayStr(b)}\t`).join('')}`;
  out += `\nLagging pcoord in each dimension: ${float32ListRepr(r.minima ?? [])}\nLeading pcoord in each dimension: ${float32ListRepr(r.maxima ?? [])}\n`;
  if (spec.bottleneck) {
    out += `Number of bottleneck bins filled: ${r.nBottleneckFilled ?? 0} / ${r.maxBottleneck ?? 0}\n`;
    const at = (p: number[] | null | undefined): string => `[${p ? float32ArrayRepr(p) : 'None'}]`;
    spec.direction.forEach((dir, d) => {
      if (spec.skip[d]) return;
      if (dir === 0 || dir === 1 || dir === 86) out += `Dimension ${d} forward bottleneck walker at: ${at(r.bottlenecksForward?.[d])}\n`;
      if (dir === 0 || dir === -1 || dir === 86) out += `Dimension ${d} backward bottleneck walker at: ${at(r.bottlenecksReverse?.[d])}\n`;
    });
  }
  return `${out}\n`;
}

/**
 * Writes the bin log and MAB stats of the WE step that ended iteration `nIter`. With several MAB mappers the
 * records cannot be told apart by spec, so each MAB with `bin_log` gets every record (WESTPA: one per mapper).
 */
export function logAdaptiveBins(
  config: WestConfig,
  simRoot: string,
  nIter: number,
  records: readonly AdaptiveBinsRecord[] | undefined,
  info: (m: string) => void,
): void {
  const mabs = mabSpecs(config.system.bins);
  const placed = (records ?? []).filter((r) => r.type === 'MABBinMapper');
  if (mabs.length === 0 || placed.length === 0) return;
  const env = { ...process.env, ...config.executable.environ, WEST_SIM_ROOT: simRoot };
  const paths = new Map<string, MabSpec>();
  for (const m of mabs) {
    if (!m.bin_log) continue;
    const p = expandPath(m.bin_log_path, env);
    paths.set(isAbsolute(p) ? p : resolve(simRoot, p), m);
  }
  for (const [path, spec] of paths) appendFileSync(path, placed.map((r) => binLogEntry(nIter, r, spec)).join(''));
  const stats = mabs.find((m) => m.mab_log);
  if (stats) {
    for (const r of placed) {
      info(
        `MAB stats, iteration ${nIter}: minima ${float32ListRepr(r.minima ?? [])}, maxima ${float32ListRepr(r.maxima ?? [])}, direction ${JSON.stringify(stats.direction)}, skip ${JSON.stringify(stats.skip)}`,
      );
    }
  }
}
