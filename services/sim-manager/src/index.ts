/** @westream/sim-manager — the WE loop (init, run), how it reports, and its REST API. */
export { initRun, chooseSeed } from './init-run.js';
export type { InitOptions, InitSummary } from './init-run.js';
export { runSimulation, RecordMismatch, RunHalted } from './run-loop.js';
export type { RunOptions, RunSummary, StopReason, RunControl } from './run-loop.js';
export { RunMonitor } from './live/run-monitor.js';
export type { RunMonitorOptions } from './live/run-monitor.js';
export { findStragglers, describeStraggler, STRAGGLER_FACTOR, MIN_COMPLETED } from './live/stragglers.js';
export type { Straggler, TimedSegment } from './live/stragglers.js';
export { RunView } from './live/run-view.js';
export type { RunState, RunEvent, LiveSegment, ControlRequest } from './live/run-view.js';
// The server itself is '@westream/sim-manager/api', loaded only by a run that serves it (fastify takes ~80 ms to load).
export { parseApiAddress } from './api/api-address.js';
export type { ApiOptions, RunningApi } from './api/api-server.js';
export type { StatusBody, WorkerView } from './api/api-schemas.js';
export { makeReporter } from './reporter.js';
export type { LogFormat } from './reporter.js';
export { runningFlux } from './running-flux.js';
export type { FluxEstimate } from './running-flux.js';
export type { Reporter, IterationReport } from './reporter.js';
export { parseBasisStates, parseTargetStates, StateSpecError } from './state-specs.js';
export type { BasisStateSpec, TargetStateSpec } from './state-specs.js';
export { simPaths } from './sim-paths.js';
export type { SimPaths } from './sim-paths.js';
export { ResultsJournal, segmentKey } from './results-journal.js';
export { weStep } from './we-step.js';
export { binLogEntry } from './adaptive-bin-log.js';
