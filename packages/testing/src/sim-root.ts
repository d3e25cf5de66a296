/**
 * A WE run of the Brownian double well through the real pieces: a west.yaml the real config loader reads,
 * `initRun` (w_init), `runSimulation` (w_run) with a real work manager, and west.h5 written by the real store.
 * Only the propagator is a function in this process. Generic in what a science test varies: the bin mapper
 * (WESTPA's `system_options.bins` mapping, verbatim), walkers per bin, the potential, τ and the work manager.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type WestConfig } from '@westream/config';
import { initRun, runSimulation, type Reporter, type RunSummary } from '@westream/sim-manager';
import type { ResampleTestOnly } from '@westream/we';
import { LocalWorkManager, type WorkManager } from '@westream/work-manager';
import { BrownianPropagator } from './brownian-propagator.js';
import type { Dynamics } from './brownian-dynamics.js';

export interface WeCase extends Dynamics {
  /** WESTPA's `system_options.bins`, as it would stand in west.yaml (±Infinity may be given as numbers). */
  readonly bins: Readonly<Record<string, unknown>>;
  readonly binTargetCounts: number | readonly number[];
  readonly pcoordLen: number;
  /** Basis states; each starts its walkers at x. */
  readonly bstates: readonly { readonly label: string; readonly probability: number; readonly x: number }[];
  /** Target states (recycling into the basis states): the bin holding x is the sink. */
  readonly tstates?: readonly { readonly label: string; readonly x: number }[];
  readonly segsPerState?: number;
  readonly iterations: number;
  readonly seed: number;
  /** Extra `west.we` keys (WESTPA's names). */
  readonly we?: Readonly<Record<string, unknown>>;
  /** Deliberate resampler faults for negative controls (not reachable from a config). */
  readonly testOnly?: ResampleTestOnly;
  /** The work manager (default: local, one slot — segments take microseconds, more slots buy nothing). */
  readonly workManager?: (propagator: BrownianPropagator, simRoot: string, config: string) => WorkManager | Promise<WorkManager>;
  /** Where to build the sim root (default: a fresh temporary directory). */
  readonly dir?: string;
}

export interface WeRun {
  readonly simRoot: string;
  readonly westH5: string;
  readonly configFile: string;
  readonly config: WestConfig;
  readonly propagator: BrownianPropagator;
  readonly summary: RunSummary;
  /** Wall-clock seconds of the run (init excluded). */
  readonly seconds: number;
}

/** JSON is YAML; infinities become WESTPA's 'inf' strings. */
function yamlValue(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x === Infinity ? 'inf' : x === -Infinity ? '-inf' : x));
}

/** Writes the sim root's west.yaml; returns its path. */
export function writeSimRoot(c: WeCase, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'west.yaml');
  writeFileSync(
    file,
    `# Built by @westream/testing: ${c.steps} steps of dt ${c.dt} per segment (τ = ${c.steps * c.dt}), in-process Brownian dynamics.
west:
  system:
    system_options:
      pcoord_ndim: 1
      pcoord_len: ${c.pcoordLen}
      pcoord_dtype: !!python/name:numpy.float64
      bins: ${yamlValue(c.bins)}
      bin_target_counts: ${yamlValue(c.binTargetCounts)}
  propagation:
    max_total_iterations: ${c.iterations}
    propagator: executable
  we: ${yamlValue(c.we ?? {})}
  data:
    west_data_file: west.h5
    data_refs:
      segment: $WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}
      basis_state: $WEST_SIM_ROOT/bstates/{basis_state.auxref}
      initial_state: $WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}
  executable:
    # Never executed: the loop is handed the in-process propagator (the config loader requires the key).
    propagator:
      executable: /bin/false
  westream:
    seed: ${c.seed}
    max_segment_retries: 0
`,
  );
  return file;
}

const quiet: Reporter = {
  runStarted: () => undefined,
  iterationStarted: () => undefined,
  segmentStarted: () => undefined,
  segmentFinished: () => undefined,
  iterationFinished: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  close: () => undefined,
};

/** Builds a sim root for `c`, initialises it and runs every iteration; returns where the record is. */
export async function runWe(c: WeCase, reporter: Reporter = quiet): Promise<WeRun> {
  const simRoot = c.dir ?? mkdtempSync(join(tmpdir(), 'westream-bd-'));
  const configFile = writeSimRoot(c, simRoot);
  const { config } = loadConfig(configFile);
  const seed = BigInt(c.seed);
  const propagator = new BrownianPropagator({ potential: c.potential, dt: c.dt, steps: c.steps, pcoordLen: c.pcoordLen, seed });
  await initRun({
    config,
    simRoot,
    runner: propagator,
    bstates: c.bstates.map((b) => ({ label: b.label, probability: b.probability, auxref: String(b.x) })),
    tstates: (c.tstates ?? []).map((t) => ({ label: t.label, pcoord: [t.x] })),
    segsPerState: c.segsPerState ?? 1,
    force: true,
    seed,
  });
  const workManager = c.workManager ? await c.workManager(propagator, simRoot, configFile) : new LocalWorkManager(propagator, 1);
  const t0 = performance.now();
  try {
    const summary = await runSimulation({
      config,
      simRoot,
      workManager,
      runner: propagator,
      reporter,
      signal: new AbortController().signal,
      ...(c.testOnly ? { testOnly: c.testOnly } : {}),
    });
    return { simRoot, westH5: summary.westH5, configFile, config, propagator, summary, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await workManager.close();
  }
}
