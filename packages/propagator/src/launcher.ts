/** The parent's side of the launcher process: spawn requests out, pids and exits back. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childBaseEnv } from './child-env.js';
import type { LaunchBase, LaunchControl, LaunchReply, LaunchRequest } from './launcher-protocol.js';
import type { LaunchHandlers } from './spawn-detached.js';

// Tests import the sources; the launcher process always runs the built JavaScript (npm test builds first).
const ENTRY = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../dist/launcher-process.js' : './launcher-process.js', import.meta.url));

export class Launcher {
  /** `base`: the environment every child starts from; a request's `env` holds only what it adds or changes. */
  constructor(readonly base: Readonly<Record<string, string>> = {}) {}

  private proc: ChildProcess | undefined;
  private seq = 0;
  private readonly pending = new Map<number, LaunchHandlers>();
  private queueLimit: number | undefined;

  /** At most `n` queued requests run at once; the rest wait in the launcher and start as others end. */
  setQueueLimit(n: number): void {
    this.queueLimit = n;
    if (this.proc?.connected) this.proc.send({ queueLimit: n } satisfies LaunchControl, () => undefined);
  }

  private readonly acks = new Map<number, () => void>();

  /**
   * Stops starting queued requests (queue limit 0) and resolves once the launcher has applied it. Cancelling a
   * batch calls this first: killing the running children frees slots, and a queued request could otherwise
   * start in the moment before its own cancel arrives.
   */
  hold(): Promise<void> {
    const p = this.proc;
    if (!p?.connected) return Promise.resolve();
    const id = this.seq++;
    this.queueLimit = 0;
    return new Promise((resolve) => {
      this.acks.set(id, resolve);
      p.channel?.ref();
      p.send({ queueLimit: 0, ack: id } satisfies LaunchControl, (err) => {
        if (err) this.ack(id);
      });
    });
  }

  private ack(id: number): void {
    const done = this.acks.get(id);
    this.acks.delete(id);
    done?.();
    if (this.pending.size === 0 && this.acks.size === 0) this.proc?.channel?.unref();
  }

  /** Drops a queued request that has not started (its handlers get onError('ECANCELED')). */
  cancel(id: number): void {
    if (this.pending.has(id) && this.proc?.connected) this.proc.send({ cancel: id } satisfies LaunchControl, (err) => err && this.lost(id));
  }

  /** Sends a request; returns its id (for `cancel`). */
  launch(req: Omit<LaunchRequest, 'id'>, h: LaunchHandlers): number {
    const id = this.seq++;
    this.pending.set(id, h);
    const p = this.process();
    p.channel?.ref(); // replies are awaited: keep the event loop alive while any is due
    p.send({ ...req, id } satisfies LaunchRequest, (err) => err && this.lost(id));
    return id;
  }

  /** A request the launcher can no longer answer (it died under it): fail it, as its exit does for the rest. */
  private lost(id: number): void {
    const h = this.pending.get(id);
    if (!h) return;
    this.pending.delete(id);
    h.onError('ELAUNCHER');
  }

  /** Stops the launcher process (children it started are unaffected: they have their own sessions). */
  close(): void {
    this.proc?.disconnect();
    this.proc = undefined;
  }

  private process(): ChildProcess {
    if (this.proc?.connected) return this.proc;
    // execArgv: [] so the launcher does not inherit --cpu-prof, --inspect and the like.
    // env: the launcher itself holds no westream secret either (it would be in its /proc/PID/environ).
    // detached: its own process group, so a Ctrl-C to the terminal's group never reaches it. It used to, and a
    // SIGINT in its first ~50 ms (before its handler is installed) killed it: the next send failed with EPIPE and
    // `westream run` crashed instead of stopping (exit 1, or 13 with a reply never coming). It still ends with
    // its parent: the IPC channel closes (see launcher-process.ts).
    const p = fork(ENTRY, [], {
      execArgv: [],
      env: childBaseEnv(process.env),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
      detached: true,
    });
    // A failed send is reported to its callback (and fails its request); without a listener it would throw.
    p.on('error', () => undefined);
    p.on('message', (m: LaunchReply) => {
      if (m.kind === 'ack') return this.ack(m.id);
      const h = this.pending.get(m.id);
      if (!h) return;
      if (m.kind === 'spawned') h.onSpawn(m.pid);
      else if (m.kind === 'error') {
        this.pending.delete(m.id);
        h.onError(m.code);
      } else {
        this.pending.delete(m.id);
        h.onExit(m.code, m.signal);
      }
      if (this.pending.size === 0 && this.acks.size === 0) p.channel?.unref();
    });
    p.on('exit', () => {
      if (this.proc === p) this.proc = undefined;
      for (const id of [...this.acks.keys()]) this.ack(id); // nothing queued can start in a launcher that is gone
      // Whatever it was watching can no longer report an exit: fail it (the runner kills the groups).
      for (const [id, h] of this.pending) {
        this.pending.delete(id);
        h.onError('ELAUNCHER');
      }
    });
    p.send({ base: this.base } satisfies LaunchBase, () => undefined);
    if (this.queueLimit !== undefined) p.send({ queueLimit: this.queueLimit } satisfies LaunchControl, () => undefined);
    p.unref();
    p.channel?.unref();
    this.proc = p;
    return p;
  }
}
