import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// Tests import packages from their sources; processes the tests spawn run the built dist/ (npm test builds first).
const pkg = (name: string): string => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));
const svc = (name: string): string => fileURLToPath(new URL(`./services/${name}/src/index.ts`, import.meta.url));

// e2e files run one at a time, after the others (see `projects`).
const SERIAL = ['test/bullmq.test.ts', 'test/bullmq-workers.test.ts', 'test/crash-recovery.test.ts', 'test/imd-interop.test.ts', 'test/run-guards.test.ts'];
// The science cases: mostly CPU in this process (function propagator, real loop and store), no clock in an
// assertion, nothing shared with another file. `npm test` runs them beside e2e-serial (see `projects`).
const SCIENCE = [
  'test/science-rate.test.ts',
  'test/science-equilibrium.test.ts',
  'test/science-negative-control.test.ts',
  'test/science-work-managers.test.ts',
];

export default defineConfig({
  resolve: {
    alias: {
      '@westream/we': pkg('we'),
      '@westream/config': pkg('config'),
      '@westream/python-bridge': pkg('python-bridge'),
      '@westream/toy-md': pkg('toy-md'),
      '@westream/imd': pkg('imd'),
      '@westream/propagator': pkg('propagator'),
      '@westream/store/version': fileURLToPath(new URL('./packages/store/src/version.ts', import.meta.url)),
      '@westream/store': pkg('store'),
      '@westream/h5md': pkg('h5md'),
      '@westream/work-manager/defaults': fileURLToPath(new URL('./packages/work-manager/src/defaults.ts', import.meta.url)),
      '@westream/work-manager/local': fileURLToPath(new URL('./packages/work-manager/src/local-work-manager.ts', import.meta.url)),
      '@westream/work-manager': pkg('work-manager'),
      '@westream/testing': pkg('testing'),
      '@westream/sim-manager/api': fileURLToPath(new URL('./services/sim-manager/src/api/api-server.ts', import.meta.url)),
      '@westream/sim-manager': svc('sim-manager'),
    },
  },
  test: {
    // Four projects, in groups one after the other. 'unit' is each package on its own (seconds; `npm run
    // test:unit`). 'e2e' is the parts together as a user runs them (real processes, Redis, engines, peers); its
    // files mostly wait on child processes, so four run side by side on this 2-core machine (vitest's default
    // is cores - 1 = one at a time). 'e2e-serial' (`npm run test:e2e` runs it and the rest) holds the files
    // whose assertions are about time or that share a machine-wide resource, one at a time, without another
    // e2e file beside them: kill trials placed by wall-clock fractions and lock renewals of a few seconds
    // (bullmq, bullmq-workers, crash-recovery), LAMMPS's IMD pause bound (imd-interop), and return-file directories in /dev/shm that
    // every other run's start-up sweeps (run-guards). 'science' (SCIENCE) is the in-process science cases:
    // minutes of one core's work each and no clock in an assertion. e2e-serial leaves a core mostly idle (its
    // files wait on sleeps, lock expiries and child processes), so `npm test` runs 'science' there, beside it, in
    // a second vitest (scripts/side-by-side.mjs): vitest runs projects of different maxWorkers in different
    // groups (sequence.groupOrder), one group after another, never two at once. A plain `vitest run` runs all
    // four groups one after the other.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: [...SERIAL, ...SCIENCE, ...configDefaults.exclude],
          maxWorkers: 4,
          sequence: { groupOrder: 1 },
        },
      },
      { extends: true, test: { name: 'e2e-serial', include: SERIAL, maxWorkers: 1, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'science', include: SCIENCE, maxWorkers: 1, sequence: { groupOrder: 3 } } },
    ],
    // Python found without its version manager's shim (python-path-global-setup.ts); one resident toy engine
    // for the run's runseg.sh calls (toy-md-global-setup.ts).
    globalSetup: ['test/support/python-path-global-setup.ts', 'test/support/toy-md-global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
