/** @westream/work-manager — the WorkManager interface, the local one, and the distributed one (BullMQ). */
export type { WorkManager } from './work-manager.js';
export { LocalWorkManager } from './local-work-manager.js';
export { BullmqWorkManager } from './bullmq-work-manager.js';
export { redisConnection } from './redis-connection.js';
export { QueueObserver, readWorkers } from './queue-observer.js';
export type { WorkerStatus } from './queue-observer.js';
export type { BullmqWorkManagerOptions } from './bullmq-work-manager.js';
export { WorkerDaemon } from './worker-daemon.js';
export type { WorkerDaemonOptions, DaemonRunner } from './worker-daemon.js';
export {
  segmentJobId,
  readSegmentJob,
  readSegmentResult,
  readWorkerInfo,
  SEGMENT_QUEUE,
  QUEUE_PREFIX,
  NODE_QUEUE_PREFIX,
  NODES_KEY,
  HEARTBEAT_KEY,
} from './segment-job.js';
export type { SegmentJob, StreamJob, WorkerInfo } from './segment-job.js';
export { WORK_MANAGER_DEFAULTS } from './defaults.js';
