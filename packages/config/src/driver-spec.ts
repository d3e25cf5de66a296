/**
 * `west.drivers.we_driver` / `sim_manager` naming WESTPA's own classes. WESTPA picks its MAB or binless
 * driver and sim manager by itself when the bins are or nest such a mapper, and westream does the same
 * (packages/we/src/adaptive-driver.ts), so naming them is accepted. A WE driver of any other class would
 * change resampling in ways westream cannot run: an error naming it.
 */
import type { BinMapperSpec } from './bin-mapper-spec.js';
import { describeFound } from './config-error.js';

const WE_DRIVERS: Record<string, 'fixed' | 'adaptive'> = {
  'westpa.core.we_driver.WEDriver': 'fixed',
  'westpa.core.binning.mab_driver.MABDriver': 'adaptive',
  'westpa.core.binning.MABDriver': 'adaptive',
  'westpa.core.binning.binless_driver.BinlessDriver': 'adaptive',
  'westpa.core.binning.BinlessDriver': 'adaptive',
};
const SIM_MANAGERS = [
  'westpa.core.sim_manager.WESimManager',
  'westpa.core.binning.mab_manager.MABSimManager',
  'westpa.core.binning.MABSimManager',
  'westpa.core.binning.binless_manager.BinlessSimManager',
  'westpa.core.binning.BinlessSimManager',
];

/** Whether the spec is, or nests, a MAB or binless mapper (WESTPA's detect_mab_mapper / detect_binless_mapper). */
export function specIsAdaptive(spec: BinMapperSpec): boolean {
  if (spec.type === 'MABBinMapper' || spec.type === 'BinlessMapper') return true;
  if (spec.type === 'RecursiveBinMapper') return specIsAdaptive(spec.base) || spec.mappers.some((m) => specIsAdaptive(m.mapper));
  return false;
}

/**
 * 'ok' for `default` or a WESTPA class westream runs as WESTPA would; an error message for a WE driver it
 * cannot run; undefined for the other driver keys (left to the caller's warning).
 */
export function checkDriver(key: string, value: unknown, bins: BinMapperSpec | undefined): 'ok' | { error: string } | undefined {
  if (key !== 'we_driver' && key !== 'sim_manager') return undefined;
  if (value === null || value === undefined || (typeof value === 'string' && value.toLowerCase() === 'default')) return 'ok';
  if (typeof value !== 'string') return { error: `expected a class name or 'default', found ${describeFound(value)}` };
  if (key === 'sim_manager') return SIM_MANAGERS.includes(value) ? 'ok' : undefined;
  const kind = WE_DRIVERS[value];
  if (kind === undefined) {
    return {
      error: `'${value}' is a custom Python WE driver; westream runs WESTPA's WEDriver, MABDriver and BinlessDriver only (chosen from the bins, as WESTPA does): remove west.drivers.we_driver or name one of those, or run this set-up with w_run`,
    };
  }
  if (kind === 'fixed' && bins && specIsAdaptive(bins)) {
    return {
      error: `'${value}' bins MAB or binless walkers without their special bins (WESTPA picks MABDriver or BinlessDriver for these bins when we_driver is not set); remove we_driver`,
    };
  }
  return 'ok';
}
