/**
 * @westream/store — west.h5 in WESTPA's layout, written with h5wasm, one atomic commit per iteration.
 */
export { WestH5, StoreError, DiskFullError, WESTREAM_VERSION, ADAPTIVE_BINS_ATTR } from './west-h5.js';
export type { CommitChanges, SummaryRow } from './west-h5.js';
export type * from './records.js';
export { recycledOf } from './records.js';
export { iterGroupName } from './layout.js';
export { writeIterationFile, readIterationBytes, readIterationFileBytes, IterationFileError } from './iteration-file.js';
export type { IterationFileContents, IterationFileSegment, SegmentFrames } from './iteration-file.js';
