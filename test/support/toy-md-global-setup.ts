/**
 * Vitest global set-up: one resident toy engine per test run (see packages/testing/src/toy-md-server.ts), its
 * port handed to the test files through `inject('toyMdPort')` (test/support/sim-dir.ts puts it in every
 * westream's environment). WESTREAM_TEST_TOY_MD=off runs every segment's engine as its own process instead.
 */
import type { TestProject } from 'vitest/node';
import { startToyMdServer } from '../../packages/testing/src/toy-md-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    toyMdPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.WESTREAM_TEST_TOY_MD === 'off') {
    project.provide('toyMdPort', 0);
    return () => Promise.resolve();
  }
  const server = await startToyMdServer();
  project.provide('toyMdPort', server.port);
  return async () => {
    await server.close();
  };
}
