import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import packages from their sources; processes the tests spawn run the built dist/ (npm test builds first).
const pkg = (name: string): string => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));
const svc = (name: string): string => fileURLToPath(new URL(`./services/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: { alias: { '@westream/we': pkg('we'), '@westream/config': pkg('config'), '@westream/python-bridge': pkg('python-bridge'), '@westream/toy-md': pkg('toy-md'), '@westream/imd': pkg('imd'), '@westream/propagator': pkg('propagator'), '@westream/store': pkg('store'), '@westream/work-manager/defaults': fileURLToPath(new URL('./packages/work-manager/src/defaults.ts', import.meta.url)), '@westream/work-manager/local': fileURLToPath(new URL('./packages/work-manager/src/local-work-manager.ts', import.meta.url)), '@westream/work-manager': pkg('work-manager'), '@westream/testing': pkg('testing'), '@westream/sim-manager/api': fileURLToPath(new URL('./services/sim-manager/src/api/api-server.ts', import.meta.url)), '@westream/sim-manager': svc('sim-manager') } },
  test: {
    // Two projects: 'unit' is each package on its own (seconds; `npm run test:unit`), 'e2e' the parts together as
    // a user runs them (real processes, Redis, engines, peers). `vitest run` runs both.
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'] } },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
