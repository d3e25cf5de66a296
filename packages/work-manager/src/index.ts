/** @westream/work-manager — the WorkManager interface and the local implementation. */
export type { WorkManager } from './work-manager.js';
export { LocalWorkManager } from './local-work-manager.js';
