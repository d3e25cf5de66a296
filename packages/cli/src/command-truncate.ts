/** `westream truncate -n N`: WESTPA's w_truncate — drop iterations ≥ N; the next run redoes the WE step of N−1. */
import { loadConfig } from '@westream/config';
import { ResultsJournal, simPaths } from '@westream/sim-manager';
import { WestH5 } from '@westream/store';
import { UsageError } from './exit-codes.js';
import { lockSimRoot } from './sim-root-lock.js';

export async function commandTruncate(a: { config: string; n: string | undefined }, out: NodeJS.WritableStream): Promise<void> {
  const n = Number(a.n);
  if (a.n === undefined || !Number.isInteger(n)) throw new UsageError('westream truncate: -n N is required (the first iteration to delete)');
  const { config } = loadConfig(a.config);
  const paths = simPaths(config, process.cwd());
  const registry = lockSimRoot(paths.stateDir, process.cwd(), 'truncate');
  let store: WestH5, before: number;
  try {
    store = await WestH5.open(paths.westH5);
    before = store.currentIteration;
    await store.truncate(n);
    new ResultsJournal(paths.stateDir).prune(-1);
  } finally {
    registry.close();
  }
  out.write(
    `truncated ${paths.westH5}: iterations ${n}..${before} removed; current iteration is now ${store.currentIteration} (its WE step runs again on 'westream run')\n`,
  );
}
