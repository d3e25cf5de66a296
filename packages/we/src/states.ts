/**
 * The run's states, as WESTPA's `core/states.py` holds them, declared once for every package: the sim-manager
 * builds them, the store records them (`bstate_index`, `istate_index`, `tstate_index`), a SegmentRunner renders
 * them into data_refs and `WEST_*`, and a job carries them to a worker. Numeric values are WESTPA's: they are
 * written to west.h5 as they are.
 */
import { Endpoint, SegStatus } from './segment.js';

/** `InitialState.istate_type`. */
export const IstateType = { UNSET: 0, BASIS: 1, GENERATED: 2, RESTART: 3, START: 4 } as const;
export type IstateType = (typeof IstateType)[keyof typeof IstateType];

/** `InitialState.istate_status`. */
export const IstateStatus = { PENDING: 0, PREPARED: 1, FAILED: 2 } as const;
export type IstateStatus = (typeof IstateStatus)[keyof typeof IstateStatus];

/** A basis state; its id is its row in `bstate_index`. */
export interface BasisState {
  readonly id: number;
  readonly label: string;
  readonly probability: number;
  readonly auxref: string;
}

/** An initial state; its id is its row in `istate_index`. */
export interface InitialState {
  readonly id: number;
  readonly iterCreated: number;
  readonly iterUsed: number;
  readonly basisStateId: number;
  readonly type: number;
  readonly status: number;
  readonly basisAuxref: string;
}

/** What a row of `bstate_index` / `bstate_pcoord` holds (the row number is the id). */
export interface BasisStateRecord extends Omit<BasisState, 'id'> {
  readonly pcoord: readonly number[];
}

/** What a row of `istate_index` / `istate_pcoord` holds (the row number is the id). */
export interface InitialStateRecord extends Omit<InitialState, 'id'> {
  readonly pcoord: readonly number[];
}

/** A row of `tstate_index` / `tstate_pcoord`: a sink. */
export interface TargetStateRecord {
  readonly label: string;
  readonly pcoord: readonly number[];
}

/** The states of a run as recorded; each list is indexed by state id (the run loop appends new istates). */
export interface StateSet {
  readonly bstates: BasisStateRecord[];
  readonly istates: InitialStateRecord[];
  readonly tstates: TargetStateRecord[];
}

/** Basis state `id` of a recorded set, as a runner sees it. */
export function basisStateOf(states: Pick<StateSet, 'bstates'>, id: number): BasisState | undefined {
  const b = states.bstates[id];
  return b && { id, label: b.label, probability: b.probability, auxref: b.auxref };
}

/** Initial state `id` of a recorded set, as a runner sees it. */
export function initialStateOf(states: Pick<StateSet, 'istates'>, id: number): InitialState | undefined {
  const i = states.istates[id];
  return (
    i && { id, iterCreated: i.iterCreated, iterUsed: i.iterUsed, basisStateId: i.basisStateId, type: i.type, status: i.status, basisAuxref: i.basisAuxref }
  );
}

/**
 * A segment's fields as WESTPA's data_refs templates see them (`{segment.n_iter}`, `{segment.seg_id}` …):
 * a segment about to run is PREPARED with no endpoint yet, as in WESTPA's executable propagator.
 */
export interface SegmentTemplateFields {
  readonly n_iter: number;
  readonly seg_id: number;
  readonly weight: number;
  readonly parent_id: number;
  readonly status: SegStatus;
  readonly endpoint_type: Endpoint;
}

export function segmentTemplateFields(s: {
  readonly nIter: number;
  readonly segId: number;
  readonly weight?: number | undefined;
  readonly parentId?: number | undefined;
}): SegmentTemplateFields {
  return { n_iter: s.nIter, seg_id: s.segId, weight: s.weight ?? 0, parent_id: s.parentId ?? 0, status: SegStatus.PREPARED, endpoint_type: Endpoint.UNSET };
}

/**
 * The random streams of a run: every random number is `Rng.derive(seed, stream, …)` with one of these, so
 * two uses never share numbers. 1–5 feed a segment's WEST_RAND* (by what the program runs for); 100+ are the
 * WE core's own.
 */
export const RandomStream = {
  SEGMENT: 1,
  GET_PCOORD: 2,
  GEN_ISTATE: 3,
  PRE_ITERATION: 4,
  POST_ITERATION: 5,
  RESAMPLE: 100,
  ISTATE_PICK: 101,
  POPULATE: 102,
} as const;
export type RandomStream = (typeof RandomStream)[keyof typeof RandomStream];
