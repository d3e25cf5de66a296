// A simulated worker daemon for the scale bench: takes segment jobs from the `segments` queue like
// `westream worker` and completes each at once with the no-op fixture's pcoord, so what is measured is the
// sim-manager and Redis, not MD. Usage: node simulated-worker.mjs REDIS_URL CONCURRENCY
import { Worker } from 'bullmq';

const [url, concurrency = '64'] = process.argv.slice(2);
const u = new URL(url);
const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
const worker = new Worker(
  'segments',
  async (job) => {
    const t = job.data.task;
    return { nIter: t.nIter, segId: t.segId, attempt: t.attempt, status: 'complete', pcoord: [0.5, 0.5], auxdata: {}, cputime: 0, walltime: 0, reason: null, log: null, node: 'simulated' };
  },
  { connection, prefix: 'westream', concurrency: Number(concurrency), removeOnComplete: { count: 0 } },
);
worker.on('error', (e) => process.stderr.write(`simulated worker: ${e.message}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void worker.close(true).then(() => process.exit(0)));
