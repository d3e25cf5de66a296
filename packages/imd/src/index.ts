/**
 * @westream/imd — the IMD v2/v3 wire protocol: message codec and an incremental stream parser.
 * (The client `connectImd` and the engine-side server come next; see issue 4.)
 */
export * from './protocol.js';
export { ImdStreamParser, ImdProtocolError } from './stream-parser.js';
export type { ImdEvent, ParserOptions } from './stream-parser.js';
