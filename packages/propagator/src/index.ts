/**
 * @westream/propagator — runs one segment on this node as WESTPA's executable propagator does.
 *
 * ```ts
 * const runner = new SegmentRunner({ config, simRoot: process.cwd(), seed: 42n });
 * const result = await runner.runSegment({ nIter: 1, segId: 0, weight: 1, parentId: -1, istate, bstate, attempt: 0 });
 * ```
 */
export { SegmentRunner, PropagationError } from './segment-runner.js';
export { PythonPropagation } from './python-propagation.js';
// The user's Python set-up failed (interpreter, westpa, an import, their code): exit 2, their traceback shown.
export { BridgeError } from '@westream/python-bridge';
export type { SegmentRunnerOptions, StreamDispatch } from './segment-runner.js';
export { ProcessRegistry, OWNER_ENV, processesIn, killCarriers, RegistryLockedError } from './process-registry.js';
export type { ReapedIncarnation } from './process-registry.js';
export { isAlive, selfIdentity, startTimeOf, type ProcessIdentity } from './process-identity.js';
export { runChild } from './run-child.js';
export { removeStaleReturnDirs, returnsParent } from './returns-dir.js';
export { childBaseEnv, isWestreamSecret } from './child-env.js';
export type { ChildSpec, ChildOutcome } from './run-child.js';
export { parseTable, checkPcoordShape, ReturnFileError } from './return-file.js';
export { randomEnv } from './random-values.js';
export { DataRefs } from './data-refs.js';
export type { SegmentTask, SegmentResult, StagedDir, AuxArray } from './types.js';
export { unwireTrajectory, type WireTrajectory } from './wire-trajectory.js';
export { adoptSegmentDir, discardSegmentDir, COMPLETE_MARKER } from './segment-dir.js';
