/**
 * @westream/python-bridge — a WESTPA user's own Python pieces, run in their own Python with their own westpa.
 *
 * ```ts
 * const bridge = await PythonBridge.start({ python: chooseInterpreter(null), simRoot, configFile, purpose: 'the system driver' });
 * const system = await describeSystem(bridge);
 * ```
 */
export { PythonBridge, PROTOCOL } from './python-bridge.js';
export type { BridgeOptions } from './python-bridge.js';
export { BridgeError, type BridgeErrorKind } from './bridge-error.js';
export { chooseInterpreter, HELPER_MODULE, type InterpreterChoice } from './interpreter.js';
export { encodeFrame, decodeBody, FrameReader, FrameError, wire } from './frames.js';
export type { Frame, Header, WireArray, WireDtype, WireTypedArray } from './frames.js';
export { describeSystem, describeSystemSync, type PythonSystem, type MapperWire } from './system.js';
