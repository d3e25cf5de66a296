/**
 * WESTPA's Python hooks into the WE algorithm itself (west.drivers.*, west.plugins). Where running the run
 * without them would give a different result, the config is refused, naming the class and saying what
 * westream does instead: a silently ignored plugin would make the record differ from WESTPA's unnoticed.
 */
import type { BinMapperSpec } from './bin-mapper-spec.js';
import { describeFound } from './config-error.js';
import type { Path } from './compile-helpers.js';
import { checkDriver } from './driver-spec.js';

const DEFAULTS = /^(default|none|null)?$/i;
/** WESTPA's default subgroup function by its full name: one group per bin, what westream does natively. */
const IDENTITY_SUBGROUP = /^westpa\.core\.we_driver\._group_walkers_identity$/;

/** `west.drivers.subgroup_function` and its `subgroup_arguments` (WESTPA passes them as keyword arguments). */
export interface SubgroupDriver {
  readonly function: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** Checks west.drivers and west.plugins; returns the user's subgroup function, if one is set (null: one group per bin). */
export function checkDrivers(
  drivers: Readonly<Record<string, unknown>> | null | undefined,
  plugins: readonly unknown[] | null | undefined,
  bins: BinMapperSpec | undefined,
  err: (p: Path, m: string) => void,
  warn: (p: Path, m: string) => void,
): SubgroupDriver | null {
  if (plugins && plugins.length > 0) {
    plugins.forEach((p, i) => {
      const name = p && typeof p === 'object' && 'plugin' in p ? String(p.plugin) : describeFound(p);
      err(
        ['west', 'plugins', i],
        `WESTPA plugin ${name} hooks Python into the run loop and changes what a run does; westream does not run plugins: remove west.plugins (pre_iteration / post_iteration executables run beside each iteration, the REST API and its events report progress, and WESTPA's tools analyse west.h5 afterwards)`,
      );
    });
  }
  if (!drivers) return null;
  let subgroup: SubgroupDriver | null = null;
  for (const [key, value] of Object.entries(drivers)) {
    const text = typeof value === 'string' ? value : value === null ? '' : describeFound(value);
    const path = ['west', 'drivers', key];
    if (key === 'module_path') continue; // the Python path for the user's modules: the helper uses it, as WESTPA does
    if (key === 'data_manager' && (value === null || value === 'hdf5')) continue;
    if ((key === 'subgroup_function' || key === 'we_driver' || key === 'sim_manager' || key === 'propagator') && DEFAULTS.test(text)) continue;
    if (key === 'subgroup_arguments') continue; // checked with its function
    if (key === 'subgroup_function') {
      if (IDENTITY_SUBGROUP.test(text)) continue;
      if (typeof value !== 'string' || !/^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/.test(text)) {
        err(path, `expected 'default' or a Python function as module.function, found ${describeFound(value)}`);
        continue;
      }
      const args = drivers['subgroup_arguments'];
      if (args !== undefined && args !== null && (typeof args !== 'object' || Array.isArray(args))) {
        err(['west', 'drivers', 'subgroup_arguments'], `expected a mapping of keyword arguments for ${text}, found ${describeFound(args)}`);
        continue;
      }
      subgroup = { function: text, arguments: (args ?? {}) as Record<string, unknown> };
      continue;
    }
    // WESTPA's own WE drivers and sim managers (WEDriver, MABDriver, BinlessDriver, ...): westream runs its
    // native twin, chosen from the bins as WESTPA does; a fixed-bin driver with adaptive bins is refused.
    const own = key === 'we_driver' || key === 'sim_manager' ? checkDriver(key, value, bins) : undefined;
    if (own === 'ok') continue;
    if (own) {
      err(path, own.error);
      continue;
    }
    if (key === 'we_driver' || key === 'sim_manager' || key === 'propagator') {
      err(
        path,
        `the custom ${key} '${text}' replaces part of WESTPA's WE loop with Python code westream does not run; westream runs its own (WESTPA's algorithm): remove west.drivers.${key}, or run this set-up with w_run`,
      );
      continue;
    }
    warn(path, `WESTPA driver settings are Python classes; westream uses its own (ignored: ${describeFound(value)})`);
  }
  if (subgroup === null && drivers['subgroup_arguments'] !== undefined && drivers['subgroup_arguments'] !== null) {
    warn(['west', 'drivers', 'subgroup_arguments'], "set without a subgroup_function: WESTPA's default (one group per bin) takes no arguments (ignored)");
  }
  return subgroup;
}
