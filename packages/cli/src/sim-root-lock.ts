/**
 * One live writer per sim root. `westream run` holds the lock of its process registry for its whole life;
 * `init` and `truncate` take the same lock for their few seconds, so none of them can rebuild or cut west.h5
 * and the segment directories under a live run.
 */
import { join } from 'node:path';
import { ProcessRegistry, RegistryLockedError } from '@westream/propagator';
import { UsageError } from './exit-codes.js';

/** What the refused command would have done to the live run, and how to say "then try again". */
const CONSEQUENCE = {
  run: ["two runs would overwrite each other's segments and west.h5", 'run again'],
  init: ['re-initialising would replace the west.h5 it is writing', 'run init again'],
  truncate: ['truncating would cut iterations out of the west.h5 it is writing', 'truncate again'],
} as const;

/** The sim root's process registry, locked; throws a UsageError naming the live holder. Close it to release. */
export function lockSimRoot(stateDir: string, simRoot: string, command: keyof typeof CONSEQUENCE): ProcessRegistry {
  const registry = new ProcessRegistry(join(stateDir, 'pgids'));
  try {
    registry.lock();
    return registry;
  } catch (e) {
    registry.close();
    if (!(e instanceof RegistryLockedError)) throw e;
    const { pid, host } = e.holder;
    const [why, again] = CONSEQUENCE[command];
    throw new UsageError(
      e.elsewhere
        ? `another westream run (pid ${pid} on host ${host}) holds this sim root ${simRoot}. Wait for it to end or stop it there; if it is gone (its host went down), delete ${e.file} and ${again}.`
        : `another westream run (pid ${pid}) is running in this sim root ${simRoot}: ${why}. Wait for it to end, or stop it (kill -INT ${pid}), then ${again}.`,
    );
  }
}
