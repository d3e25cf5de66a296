// BullMQ's own floor, in a fresh process: a bare Queue + Worker (concurrency 2, a processor that does nothing)
// + QueueEvents, `jobs` jobs added in one addBulk with removeOnComplete, until QueueEvents has seen every
// `completed`. Prints the seconds taken. Usage: node floor.mjs REDIS_URL JOBS
import { Queue, QueueEvents, Worker } from 'bullmq';

const [url, n] = [process.argv[2], Number(process.argv[3] ?? 3000)];
const u = new URL(url);
const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
const queue = new Queue('floor', { connection });
const events = new QueueEvents('floor', { connection });
await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
let completed = 0;
const all = new Promise((resolve) => events.on('completed', () => ++completed === n && resolve()));
const t0 = performance.now();
const worker = new Worker('floor', async () => ({ ok: true }), { connection, concurrency: 2 });
await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'job', data: { i }, opts: { jobId: `j${i}`, removeOnComplete: true } })));
await all;
const seconds = (performance.now() - t0) / 1000;
await Promise.all([worker.close(), events.close(), queue.close()]);
console.log(seconds.toFixed(4));
