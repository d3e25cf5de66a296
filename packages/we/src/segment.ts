/** Segment and state constants with WESTPA's numeric values (they are written to west.h5 as-is). */

export const SegStatus = { UNSET: 0, PREPARED: 1, COMPLETE: 2, FAILED: 3 } as const;
export type SegStatus = (typeof SegStatus)[keyof typeof SegStatus];

export const Endpoint = { UNSET: 0, CONTINUES: 1, MERGED: 2, RECYCLED: 3 } as const;
export type Endpoint = (typeof Endpoint)[keyof typeof Endpoint];

export const InitpointType = { UNSET: 0, CONTINUES: 1, NEWTRAJ: 2 } as const;
export type InitpointType = (typeof InitpointType)[keyof typeof InitpointType];

/** WESTPA's `NewWeightEntry.source_type` values. */
// WESTPA's NewWeightEntry.NW_SOURCE_RECYCLED is 0 (its only source type): w_fluxanl counts entries with it.
export const NewWeightSource = { RECYCLED: 0 } as const;

/** `parent_id` of a segment that starts from initial state `istateId` (WESTPA: `-(id + 1)`). */
export function parentIdForIstate(istateId: number): number {
  return -(istateId + 1);
}

/** The initial state a negative `parent_id` refers to. */
export function istateIdOfParent(parentId: number): number {
  if (parentId >= 0) throw new RangeError(`parent_id ${parentId} refers to a segment, not an initial state`);
  return -parentId - 1;
}

/** A pcoord point or trajectory: `npoints × ndim`, row-major. */
export interface Pcoord {
  readonly npoints: number;
  readonly ndim: number;
  readonly data: Float32Array | Float64Array;
}
