/**
 * The launcher: a tiny Node process whose only job is fork+exec. Forking costs time in proportion to the
 * parent's memory, and the sim-manager or worker holds h5wasm, Redis clients and the rest; forking from this
 * small process instead saves about a millisecond per segment. It imports only node built-ins and never
 * decides anything: the parent supervises (timeouts, kills, process groups).
 */
import type { LaunchBase, LaunchReply, LaunchRequest } from './launcher-protocol.js';
import { spawnDetached } from './spawn-detached.js';

const send = (m: LaunchReply): void => {
  process.send?.(m);
};

let base: Readonly<Record<string, string>> = {};

process.on('message', (m: LaunchRequest | LaunchBase) => {
  if ('base' in m) {
    base = m.base;
    return;
  }
  spawnDetached({ ...m, env: { ...base, ...m.env } }, {
    onSpawn: (pid) => send({ id: m.id, kind: 'spawned', pid }),
    onError: (code) => send({ id: m.id, kind: 'error', code }),
    onExit: (code, signal) => send({ id: m.id, kind: 'exit', code, signal }),
  });
});
// Ctrl-C reaches the whole foreground process group; the parent decides what stops, and it stops us by
// disconnecting. Dying first would turn a clean stop into failed segments.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// The parent gone means nobody supervises: stop (the parent's registry reaps the children on its restart).
process.on('disconnect', () => process.exit(0));
