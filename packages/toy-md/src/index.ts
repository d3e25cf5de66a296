/**
 * @westream/toy-md — a small Langevin engine (BAOAB) with the habits of an MD engine: an input file, restart
 * files, a pcoord output, a seed. The `westream-toy-md` command wraps it for `runseg.sh`.
 */
export { parseParams, pcoordLength, ParamsError } from './params.js';
export type { MdParams } from './params.js';
export { Polynomial } from './potential.js';
export { makeEngine, runSegment, basisState, firstPassageTimes } from './engine.js';
export type { Engine, FirstPassageOptions } from './engine.js';
export { readRestart, writeRestart } from './restart-file.js';
export type { MdState, MdSystem } from './system.js';
export { toyMd } from './cli.js';
export type { ToyMdIo, ToyMdOutcome } from './cli.js';
