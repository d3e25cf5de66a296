/**
 * The launcher: a tiny Node process whose only job is fork+exec. Forking costs time in proportion to the
 * parent's memory, and the sim-manager or worker holds h5wasm, Redis clients and the rest; forking from this
 * small process instead saves about a millisecond per segment. It imports only node built-ins and never
 * decides anything: the parent supervises (timeouts, kills, process groups).
 */
import type { LaunchBase, LaunchControl, LaunchReply, LaunchRequest } from './launcher-protocol.js';
import { spawnDetached } from './spawn-detached.js';

const send = (m: LaunchReply): void => {
  process.send?.(m);
};

let base: Readonly<Record<string, string>> = {};
let limit = Infinity;
let running = 0;
const waiting: LaunchRequest[] = [];

function startNow(m: LaunchRequest): void {
  if (m.queued) running++;
  // A queued child's end starts the next one first: that is the path the parent's round trip used to be on.
  const ended = (): void => {
    if (m.queued) {
      running--;
      pump();
    }
  };
  spawnDetached(
    { ...m, env: { ...base, ...m.env } },
    {
      onSpawn: (pid) => send({ id: m.id, kind: 'spawned', pid }),
      onError: (code) => {
        ended();
        send({ id: m.id, kind: 'error', code });
      },
      onExit: (code, signal) => {
        ended();
        send({ id: m.id, kind: 'exit', code, signal });
      },
    },
  );
}

function pump(): void {
  while (running < limit && waiting.length > 0) startNow(waiting.shift() as LaunchRequest);
}

process.on('message', (m: LaunchRequest | LaunchBase | LaunchControl) => {
  if ('base' in m) base = m.base;
  else if ('queueLimit' in m) {
    limit = m.queueLimit;
    pump();
    if (m.ack !== undefined) send({ id: m.ack, kind: 'ack' });
  } else if ('cancel' in m) {
    const i = waiting.findIndex((w) => w.id === m.cancel);
    if (i >= 0) {
      waiting.splice(i, 1);
      send({ id: m.cancel, kind: 'error', code: 'ECANCELED' });
    } // else it has started: the parent stops its process group
  } else if (m.queued && running >= limit) waiting.push(m);
  else startNow(m);
});
// Ctrl-C reaches the whole foreground process group; the parent decides what stops, and it stops us by
// disconnecting. Dying first would turn a clean stop into failed segments.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// The parent gone means nobody supervises: stop (the parent's registry reaps the children on its restart).
process.on('disconnect', () => process.exit(0));
