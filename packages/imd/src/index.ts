/**
 * @westream/imd — IMD v2/v3: the wire codec, an incremental stream parser, the client (`connectImd`) and the
 * engine-side server (`ImdServer`).
 */
export * from './protocol.js';
export { ImdStreamParser, ImdProtocolError, freshMemory } from './stream-parser.js';
export { FramePool } from './frame-pool.js';
export type { ImdEvent, ParserOptions } from './stream-parser.js';
export { connectImd, ImdConnectError, ImdTimeoutError } from './client.js';
export type { ConnectOptions, ImdClient } from './client.js';
export { ImdServer } from './server.js';
export type { OutgoingFrame, ServerOptions } from './server.js';
