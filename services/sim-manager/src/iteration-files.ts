/**
 * Where WESTPA's HDF5 framework keeps each iteration's file (`data_refs.iteration`), or null when the run does
 * not use it (no template, or a Python propagator, which returns its data through segment.data instead).
 * Iteration 0 is the basis states' file (WESTPA's create_ibstate_iter_h5file), written by `westream init`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { WestConfig } from '@westream/config';
import { DataRefs } from '@westream/propagator';
import { IterationFileError, WESTREAM_VERSION, writeIterationFile, type IterationFileSegment, type SegmentFrames } from '@westream/store';

export function iterationFileOf(config: WestConfig, simRoot: string): ((nIter: number) => string) | null {
  const template = config.data.dataRefs.iteration;
  if (template === null || config.propagation.propagator === 'python') return null;
  const refs = new DataRefs(config.data.dataRefs, { ...process.env, WEST_SIM_ROOT: simRoot });
  return (n) => resolve(simRoot, refs.render(template, { n_iter: n }));
}

/** One segment's returns for its iteration's file; its frames carry the topology they were loaded (or streamed) with. */
export interface IterationFileEntry extends Omit<IterationFileSegment, 'trajectory'> {
  readonly trajectory?: SegmentFrames & { readonly topology: string; readonly atoms: number };
}

/**
 * Writes iteration `nIter`'s file (iteration 0: the basis states). One system per file: the first segment with
 * frames gives the atoms and the topology; another atom count is an error naming both (`name` says what a
 * segment is: a segment of the iteration, or a basis state).
 */
export async function writeIterationEntries(
  path: string,
  nIter: number,
  entries: readonly IterationFileEntry[],
  name: (segId: number) => string,
): Promise<void> {
  let first: IterationFileEntry | undefined;
  for (const e of entries) {
    if (!e.trajectory) continue;
    first ??= e;
    const atoms = first.trajectory?.atoms;
    if (e.trajectory.atoms !== atoms)
      throw new IterationFileError(
        `${path}: ${name(e.segId)} returned ${e.trajectory.atoms} atoms, ${name(first.segId)} ${atoms}; one iteration file holds one system`,
      );
  }
  mkdirSync(dirname(path), { recursive: true });
  await writeIterationFile(path, {
    nIter,
    atoms: first?.trajectory?.atoms ?? 0,
    topology: first?.trajectory?.topology ?? null,
    programVersion: WESTREAM_VERSION,
    segments: entries,
  });
}
