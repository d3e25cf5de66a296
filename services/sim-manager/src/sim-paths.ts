/** Where a run keeps its files, relative to the sim root (the current directory, as in WESTPA). */
import { isAbsolute, join, resolve } from 'node:path';
import type { WestConfig } from '@westream/config';

export interface SimPaths {
  readonly simRoot: string;
  readonly westH5: string;
  /** westream's own bookkeeping: results journals, process groups. */
  readonly stateDir: string;
}

export function simPaths(config: WestConfig, simRoot: string): SimPaths {
  const root = resolve(simRoot);
  const f = config.data.westDataFile.replace(/\$WEST_SIM_ROOT|\$\{WEST_SIM_ROOT\}/g, root);
  return { simRoot: root, westH5: isAbsolute(f) ? f : join(root, f), stateDir: join(root, '.westream') };
}
