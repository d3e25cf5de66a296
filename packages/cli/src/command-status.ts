/** `westream status`: the run as west.h5 records it (the REST API will add the live view). */
import { loadConfig } from '@westream/config';
import { ResultsJournal, segmentKey, simPaths } from '@westream/sim-manager';
import { WestH5 } from '@westream/store';
import { SegStatus } from '@westream/we';
import { toJson } from './json-output.js';

export async function commandStatus(a: { config: string; json: boolean }, out: NodeJS.WritableStream): Promise<void> {
  const { config } = loadConfig(a.config);
  const paths = simPaths(config, process.cwd());
  const store = await WestH5.open(paths.westH5);
  const n = store.currentIteration;
  const cur = await store.readIteration(n);
  const counts = { prepared: 0, complete: 0, failed: 0 };
  for (const s of cur.status) {
    if (s === SegStatus.COMPLETE) counts.complete++;
    else if (s === SegStatus.FAILED) counts.failed++;
    else counts.prepared++;
  }
  // Segments finished since the last commit are in the results journal, not yet in west.h5.
  const journaled = new ResultsJournal(paths.stateDir).load(n, (id) => segmentKey(cur.parentIds[id] as number, cur.weights[id] as number));
  for (const id of journaled.keys()) {
    if (cur.status[id] !== SegStatus.COMPLETE) {
      counts.complete++;
      if (cur.status[id] === SegStatus.FAILED) counts.failed--;
      else counts.prepared--;
    }
  }
  const status = {
    westH5: paths.westH5,
    seed: store.meta.seed.toString(),
    currentIteration: n,
    completedIterations: n - 1,
    maxTotalIterations: config.propagation.maxTotalIterations,
    segments: { total: cur.nSegs, ...counts },
  };
  if (a.json) {
    out.write(toJson(status) + '\n');
    return;
  }
  out.write(
    `${status.westH5}\n  iterations completed: ${status.completedIterations}${status.maxTotalIterations ? ` of ${status.maxTotalIterations}` : ''}\n` +
      `  current iteration ${n}: ${cur.nSegs} segments (${counts.complete} complete, ${counts.failed} failed, ${counts.prepared} to run)\n  seed: ${status.seed}\n`,
  );
}
