// A simulated worker daemon for the scale bench: takes segment jobs from the `segments` queue like
// `westream worker` and completes each at once with the no-op fixture's pcoord, so what is measured is the
// sim-manager and Redis, not MD. It records, per iteration, when its first job started and its last one ended
// and every segment id it ran; on SIGTERM it writes them to OUT (JSON) for the bench to check barriers and
// duplicate executions. Usage: node simulated-worker.mjs REDIS_URL CONCURRENCY [OUT]
import { writeFileSync } from 'node:fs';
import { Worker } from 'bullmq';

const [url, concurrency = '64', out] = process.argv.slice(2);
const u = new URL(url);
const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
/** iteration → { first, last, ids } (ms since the epoch: one clock for every namespace of this machine) */
const seen = new Map();
const worker = new Worker(
  'segments',
  async (job) => {
    const t = job.data.task;
    let it = seen.get(t.nIter);
    if (!it) seen.set(t.nIter, (it = { first: Date.now(), last: 0, ids: [] }));
    it.ids.push(t.segId);
    it.last = Date.now();
    return {
      nIter: t.nIter,
      segId: t.segId,
      attempt: t.attempt,
      status: 'complete',
      pcoord: [0.5, 0.5],
      auxdata: {},
      cputime: 0,
      walltime: 0,
      reason: null,
      log: null,
      node: 'simulated',
    };
  },
  { connection, prefix: 'westream', concurrency: Number(concurrency), removeOnComplete: { count: 0 } },
);
worker.on('error', (e) => process.stderr.write(`simulated worker: ${e.message}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on(
  'SIGTERM',
  () =>
    void worker.close(true).then(() => {
      if (out) writeFileSync(out, JSON.stringify(Object.fromEntries(seen)));
      process.exit(0);
    }),
);
