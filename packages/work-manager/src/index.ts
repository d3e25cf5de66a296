/** @westream/work-manager — the WorkManager interface, the local one, and the distributed one (BullMQ). */
export type { WorkManager } from './work-manager.js';
export { LocalWorkManager } from './local-work-manager.js';
export { BullmqWorkManager, redisConnection } from './bullmq-work-manager.js';
export type { BullmqWorkManagerOptions } from './bullmq-work-manager.js';
export { WorkerDaemon, HEARTBEAT_KEY } from './worker-daemon.js';
export type { WorkerDaemonOptions } from './worker-daemon.js';
export { segmentJobId, readSegmentJob, readSegmentResult, SEGMENT_QUEUE, QUEUE_PREFIX } from './segment-job.js';
export type { SegmentJob } from './segment-job.js';
