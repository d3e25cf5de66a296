/**
 * @westream/testing — not shipped. The in-process harness the science tests and the WE efficiency bench use:
 * Brownian dynamics in a double well as a function propagator for the real loop, store and work managers.
 */
export { doubleWell, boltzmannBinProbabilities, boltzmannIntegral } from './double-well.js';
export type { Potential } from './double-well.js';
export { integrate, firstPassages } from './brownian-dynamics.js';
export type { Dynamics, FirstPassages } from './brownian-dynamics.js';
export { BrownianPropagator } from './brownian-propagator.js';
export type { BrownianPropagatorOptions } from './brownian-propagator.js';
export { runWe, writeSimRoot } from './sim-root.js';
export type { WeCase, WeRun } from './sim-root.js';
export { blockAverage, meanSe, rateFromPassages, show } from './statistics.js';
export type { Estimate } from './statistics.js';
export { fluxSeries, binProbabilitySeries } from './west-h5-series.js';
export { startToyMdServer, MAX_STEPS as TOY_MD_SERVER_MAX_STEPS } from './toy-md-server.js';
export type { ToyMdServer } from './toy-md-server.js';
