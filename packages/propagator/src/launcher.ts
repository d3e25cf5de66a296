/** The parent's side of the launcher process: spawn requests out, pids and exits back. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LaunchBase, LaunchReply, LaunchRequest } from './launcher-protocol.js';
import type { LaunchHandlers } from './spawn-detached.js';

// Tests import the sources; the launcher process always runs the built JavaScript (npm test builds first).
const ENTRY = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../dist/launcher-process.js' : './launcher-process.js', import.meta.url));

export class Launcher {
  /** `base`: the environment most children share; requests then carry only what differs (smaller messages). */
  constructor(private readonly base: Readonly<Record<string, string>> = {}) {}

  private proc: ChildProcess | undefined;
  private seq = 0;
  private readonly pending = new Map<number, LaunchHandlers>();

  launch(req: Omit<LaunchRequest, 'id'>, h: LaunchHandlers): void {
    const id = this.seq++;
    this.pending.set(id, h);
    const p = this.process();
    p.channel?.ref(); // replies are awaited: keep the event loop alive while any is due
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.env)) if (this.base[k] !== v) env[k] = v;
    for (const k of Object.keys(this.base)) if (!(k in req.env)) throw new Error(`launcher: a child without ${k} in its environment cannot be expressed as a delta`);
    p.send({ ...req, env, id } satisfies LaunchRequest);
  }

  /** Stops the launcher process (children it started are unaffected: they have their own sessions). */
  close(): void {
    this.proc?.disconnect();
    this.proc = undefined;
  }

  private process(): ChildProcess {
    if (this.proc?.connected) return this.proc;
    // execArgv: [] so the launcher does not inherit --cpu-prof, --inspect and the like.
    const p = fork(ENTRY, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    p.on('message', (m: LaunchReply) => {
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
      if (this.pending.size === 0) p.channel?.unref();
    });
    p.on('exit', () => {
      if (this.proc === p) this.proc = undefined;
      // Whatever it was watching can no longer report an exit: fail it (the runner kills the groups).
      for (const [id, h] of this.pending) {
        this.pending.delete(id);
        h.onError('ELAUNCHER');
      }
    });
    p.send({ base: this.base } satisfies LaunchBase);
    p.unref();
    p.channel?.unref();
    this.proc = p;
    return p;
  }
}
