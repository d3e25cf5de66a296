export { H5mdWriter } from './h5md-writer.js';
export type { H5mdField, H5mdFrame, H5mdOptions } from './h5md-writer.js';
