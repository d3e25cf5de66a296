/**
 * Where WESTPA's HDF5 framework keeps each iteration's file (`data_refs.iteration`), or null when the run does
 * not use it (no template, or a Python propagator, which returns its data through segment.data instead).
 * Iteration 0 is the basis states' file (WESTPA's create_ibstate_iter_h5file), written by `westream init`.
 */
import { resolve } from 'node:path';
import type { WestConfig } from '@westream/config';
import { DataRefs } from '@westream/propagator';

export function iterationFileOf(config: WestConfig, simRoot: string): ((nIter: number) => string) | null {
  const template = config.data.dataRefs.iteration;
  if (template === null || config.propagation.propagator === 'python') return null;
  const refs = new DataRefs(config.data.dataRefs, { ...process.env, WEST_SIM_ROOT: simRoot });
  return (n) => resolve(simRoot, refs.render(template, { n_iter: n }));
}
