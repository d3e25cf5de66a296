/** What a work manager hands a runner and gets back. Plain JSON, so the same objects travel as BullMQ jobs. */
import type { BasisState, InitialState } from '@westream/we';
import type { WireTrajectory } from './wire-trajectory.js';

export interface SegmentTask {
  readonly nIter: number;
  readonly segId: number;
  readonly weight: number;
  /** A segment of iteration nIter−1, or −(istate id + 1) for a walker that starts from an initial state. */
  readonly parentId: number;
  /** Set when parentId < 0. */
  readonly istate: InitialState | null;
  readonly bstate: BasisState | null;
  /** 0 for the first run; retries count up. The random numbers do not depend on it. */
  readonly attempt: number;
  /** pcoord[0]: the parent's last point, or the initial state's pcoord (a Python propagator starts from it). */
  readonly initPcoord?: number[];
  /**
   * WESTPA's HDF5 framework (data_refs.iteration): the parent's restart bytes (gzip tar + tail byte, base64),
   * read by the sim-manager from the parent's iteration file and extracted into this segment's directory.
   */
  readonly parentRestart?: string;
}

export interface AuxArray {
  readonly shape: number[];
  readonly data: number[];
}

export interface SegmentResult {
  readonly nIter: number;
  readonly segId: number;
  readonly attempt: number;
  readonly status: 'complete' | 'failed' | 'cancelled';
  /** pcoord_len × pcoord_ndim values, row-major; empty unless complete. */
  readonly pcoord: number[];
  readonly auxdata: Record<string, AuxArray>;
  readonly cputime: number;
  readonly walltime: number;
  /** Why it failed: names the segment, the file, expected vs found, and the log's last lines. */
  readonly reason: string | null;
  readonly log: string | null;
  readonly node: string;
  /**
   * Set when this execution ran in a fresh directory beside a completed one (a re-run after a fault): the
   * sim-manager moves it to `final` if it accepts this result, and deletes it otherwise (segment-dir.ts).
   */
  readonly stagedDir?: StagedDir;
  /** WESTPA's HDF5 framework: this segment's restart, log and trajectory for the iteration file. */
  readonly iterationData?: { readonly restart: string; readonly log: string | null; readonly trajectory: WireTrajectory | null };
}

export interface StagedDir {
  readonly path: string;
  readonly final: string;
}
