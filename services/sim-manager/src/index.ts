/** @westream/sim-manager — the WE loop (init, run) and how it reports. The REST API comes with issue 7. */
export { initRun, chooseSeed } from './init-run.js';
export type { InitOptions, InitSummary } from './init-run.js';
export { runSimulation, RunHalted } from './run-loop.js';
export type { RunOptions, RunSummary, StopReason } from './run-loop.js';
export { makeReporter } from './reporter.js';
export type { Reporter, IterationReport } from './reporter.js';
export { parseBasisStates, parseTargetStates, StateSpecError } from './state-specs.js';
export type { BasisStateSpec, TargetStateSpec } from './state-specs.js';
export { simPaths } from './sim-paths.js';
export type { SimPaths } from './sim-paths.js';
export { ResultsJournal, segmentKey } from './results-journal.js';
export { weStep, WeStream } from './we-step.js';
