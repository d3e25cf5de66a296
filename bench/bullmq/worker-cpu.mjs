// BullMQ's own client CPU per job in a worker process: 2 Worker processes (concurrency 1, a no-op processor)
// take 3,000 jobs from a Queue in this process (removeOnComplete), against a private redis-server. Each worker
// reports its CPU time (user + system) per job over its first 1,000 jobs after the first: the part of a westream
// worker daemon's CPU per segment that is BullMQ's. One command: `node bench/bullmq/worker-cpu.mjs`.
import { fork } from 'node:child_process';
import { Queue, Worker } from 'bullmq';

const JOBS = 3000;
const MEASURED = 1000;

if (process.argv[2] === 'worker') {
  const u = new URL(process.argv[3]);
  const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
  let c0;
  let k = 0;
  const worker = new Worker(
    'cpu',
    async () => {
      if (k++ === 0) c0 = process.cpuUsage();
      if (k === MEASURED + 1) {
        const c = process.cpuUsage(c0);
        process.send({ msPerJob: (c.user + c.system) / 1000 / MEASURED });
      }
      return { ok: true };
    },
    { connection, concurrency: 1 },
  );
  await worker.waitUntilReady();
  process.send({ ready: true });
} else {
  const { privateRedis } = await import('../lib/bullmq-run.mjs');
  const redis = await privateRedis();
  const u = new URL(redis.url);
  const queue = new Queue('cpu', { connection: { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null } });
  const workers = [0, 1].map(() => fork(new URL(import.meta.url).pathname, ['worker', redis.url]));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const results = workers.map((w) => new Promise((r) => w.once('message', r)));
  await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'job', data: { i }, opts: { jobId: `j${i}`, removeOnComplete: true } })));
  const per = (await Promise.all(results)).map((m) => m.msPerJob);
  console.log(
    `bare BullMQ Worker, CPU per job in its process: ${per.map((x) => x.toFixed(3)).join(' ms, ')} ms (2 workers, concurrency 1, ${MEASURED} jobs each)`,
  );
  workers.forEach((w) => w.kill());
  await queue.close();
  await redis.stop();
}
