/** `westream init`: WESTPA's w_init — states, their pcoords, iteration 1, a fresh west.h5. */
import { loadConfig } from '@westream/config';
import { SegmentRunner } from '@westream/propagator';
import { chooseSeed, initRun, parseBasisStates, parseTargetStates, simPaths } from '@westream/sim-manager';
import { UsageError } from './exit-codes.js';
import { lockSimRoot } from './sim-root-lock.js';

export interface InitArgs {
  readonly config: string;
  readonly bstate: readonly string[];
  readonly bstatesFrom: readonly string[];
  readonly tstate: readonly string[];
  readonly tstatesFrom: readonly string[];
  readonly segsPerState: string | undefined;
  readonly force: boolean;
}

export async function commandInit(a: InitArgs, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
  const { config, warnings } = loadConfig(a.config);
  for (const w of warnings) err.write(`warning: ${w.message}\n`);
  const segsPerState = a.segsPerState === undefined ? 1 : Number(a.segsPerState);
  if (!Number.isInteger(segsPerState) || segsPerState < 1) throw new UsageError(`--segs-per-state '${a.segsPerState}': expected a positive integer`);
  const bstates = parseBasisStates(a.bstate, a.bstatesFrom);
  const tstates = parseTargetStates(a.tstate, a.tstatesFrom, config.system.pcoordNdim);
  const simRoot = process.cwd();
  const paths = simPaths(config, simRoot);
  const seed = chooseSeed(config);
  const registry = lockSimRoot(paths.stateDir, simRoot, 'init');
  const runner = new SegmentRunner({ config, simRoot, seed, registry });
  const summary = await initRun({ config, simRoot, runner, bstates, tstates, segsPerState, force: a.force, seed }).finally(() => {
    runner.close();
    registry.close();
  });
  for (const w of summary.warnings) err.write(`warning: ${w}\n`);
  out.write(
    `initialized ${summary.westH5}: ${summary.bstates.length} basis state(s), ${tstates.length} target state(s), ` +
      `${summary.nSegs} segment(s) in iteration 1, seed ${summary.seed}\n` +
      summary.bstates.map((b, i) => `  bstate ${i} '${b.label}' p=${b.probability} pcoord=[${b.pcoord.join(', ')}]\n`).join(''),
  );
}
