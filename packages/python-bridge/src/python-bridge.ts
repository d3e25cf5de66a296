/**
 * A long-lived helper process in the user's own Python (one per westream process or worker slot), started
 * once per run. Requests go out one frame each; replies come back in order. The helper ends on EOF of its
 * input, so closing (or westream dying, even by kill -9) leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BridgeError, fromWire, noPython, noWestpa, type WireError } from './bridge-error.js';
import { encodeFrame, FrameReader, type Frame, type Header, type WireArray } from './frames.js';
import { HELPER_MODULE, type InterpreterChoice } from './interpreter.js';

export const PROTOCOL = 1;

export interface BridgeOptions {
  readonly python: InterpreterChoice;
  /** WEST_SIM_ROOT; the helper runs there and puts it on sys.path, as WESTPA does. */
  readonly simRoot: string;
  /** The config file, read by westpa's own run control (west.rc) in the helper. */
  readonly configFile: string;
  /** Extra sys.path entries (west.system.module_path). */
  readonly modulePath?: readonly string[];
  /** What the bridge is for, in messages ("west.system.driver 'odld_system.ODLDSystem'"). */
  readonly purpose: string;
  /** Receives what the user's code writes (stdout and stderr both go to the helper's stderr). */
  readonly onOutput?: (text: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface Pending {
  resolve(f: Frame): void;
  reject(e: Error): void;
}

export class PythonBridge {
  private readonly reader = new FrameReader();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: BridgeError | null = null;
  private stderrTail = '';
  /** westpa's version in the user's Python. */
  westpaVersion = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly options: BridgeOptions,
  ) {}

  /** Starts the helper, checks its protocol, and has westpa's run control read the config. */
  static async start(o: BridgeOptions): Promise<PythonBridge> {
    const child = spawn(o.python.command, ['-u', HELPER_MODULE], {
      cwd: o.simRoot,
      env: { ...(o.env ?? process.env), WEST_SIM_ROOT: o.simRoot, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const b = new PythonBridge(child, o);
    const hello = new Promise<Frame>((resolve, reject) => b.pending.set(0, { resolve, reject }));
    child.stdout?.on('data', (chunk: Buffer) => b.onData(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      b.stderrTail = (b.stderrTail + text).slice(-4000);
      o.onOutput?.(text);
    });
    child.stdin?.on('error', () => undefined); // a dead helper is reported by 'exit', not as EPIPE
    child.once('error', (e: NodeJS.ErrnoException) => {
      b.fail(noPython(o.python, e.code === 'ENOENT' ? 'was not found' : `could not be started (${e.code ?? e.message})`, o.purpose));
    });
    child.once('exit', (code, signal) => {
      const tail = b.stderrTail.trim()
        ? `; its last output:\n${b.stderrTail
            .trimEnd()
            .split('\n')
            .slice(-15)
            .map((l) => `    | ${l}`)
            .join('\n')}`
        : '';
      b.fail(new BridgeError('died', `the Python helper for ${o.purpose} (${o.python.command}) ended (${signal ?? `exit ${code}`})${tail}`));
    });
    const h = (await hello).header;
    if (h.ok !== true) {
      const e = (h.error ?? {}) as WireError;
      b.close();
      throw noWestpa(o.python, e.message ?? 'unknown', o.purpose);
    }
    if (h.protocol !== PROTOCOL) {
      b.close();
      throw new BridgeError(
        'protocol',
        `the Python helper speaks protocol ${String(h.protocol)}, this westream ${PROTOCOL}: they come from different westream versions; reinstall westream`,
      );
    }
    b.westpaVersion = typeof h.westpa === 'string' ? h.westpa : '';
    await b.request('init', { config_file: o.configFile, sim_root: o.simRoot, module_path: o.modulePath ?? [] });
    return b;
  }

  /** One request; resolves with the reply's header and arrays, rejects with a BridgeError. */
  request(op: string, header: Header = {}, arrays: readonly WireArray[] = []): Promise<Frame> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    const reply = new Promise<Frame>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.child.stdin?.write(encodeFrame({ ...header, id, op }, arrays));
    return reply.then((f) => {
      if (f.header.ok !== true) throw fromWire(f.header.error ?? {}, this.options.python);
      return f;
    });
  }

  /** The helper's process id (tests check it ends). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Closes its input; the helper exits on EOF. */
  close(): void {
    this.child.stdin?.end();
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.fail(new BridgeError('protocol', `the Python helper sent a malformed frame (${(e as Error).message}); is something writing to its output?`));
      this.child.kill('SIGKILL');
      return;
    }
    for (const f of frames) {
      const id = f.header.op === 'hello' ? 0 : Number(f.header.id);
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve(f);
    }
  }

  private fail(e: BridgeError): void {
    this.exited ??= e;
    for (const p of this.pending.values()) p.reject(this.exited);
    this.pending.clear();
  }
}
