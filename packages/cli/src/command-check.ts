import { formatIssue, loadConfig } from '@westream/config';
import { toJson } from './json-output.js';

export interface CheckOptions {
  readonly config: string;
  readonly json: boolean;
}

/** `westream check`: validates the config and prints it normalized (warnings go to stderr). */
export function commandCheck(opts: CheckOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): void {
  const { config, warnings } = loadConfig(opts.config); // ConfigError propagates to main → exit 2
  for (const w of warnings) err.write(`${formatIssue(w)}\n`);
  if (opts.json) {
    out.write(`${toJson(config)}\n`);
    return;
  }
  const s = config.system;
  const p = config.propagation;
  const lines = [
    `${opts.config}: OK`,
    `  pcoord            ${s.pcoordLen} points × ${s.pcoordNdim} dim, ${s.pcoordDtype}`,
    `  system            ${s.driver ? `${s.driver} (built in your Python by westpa)` : 'system_options'}`,
    `  bins              ${s.bins.type === 'python' ? `${s.bins.class} (assigned in your Python)` : s.bins.type}, ${s.nbins} bins, ${s.binTargetCounts.reduce((a, b) => a + b, 0)} walkers targeted`,
    `  iterations        ${p.maxTotalIterations ?? 'until stopped'}`,
    `  wallclock limit   ${p.maxRunWallclock === null ? 'none' : `${p.maxRunWallclock} s`}`,
    `  propagator        ${p.pythonPropagator ? `${p.pythonPropagator} (your Python, block_size ${p.blockSize})` : config.executable.propagator.executable}`,
    `  data file         ${config.data.westDataFile}`,
    `  work manager      ${config.westream.workManager}`,
    `  seed              ${config.westream.seed ?? 'drawn at init, recorded in west.h5'}`,
  ];
  out.write(`${lines.join('\n')}\n`);
}
