/**
 * The engine's side of IMD: what the toy engine (or any engine written in Node) uses to stream frames.
 *
 * It behaves as GROMACS and LAMMPS do: one client at a time; on accept, the handshake and (v3) session info go
 * out at once; a client that does not send GO within 1 s is dropped; frames go out whole, v3 packets in the
 * fixed order; control messages are honoured between frames: PAUSE (v3 idempotent, v2 toggle) blocks the
 * engine until RESUME, TRATE sets the rate, KILL asks the engine to stop, WAIT switches wait-for-client mode,
 * DISCONNECT closes the client. With `wait`, `sendFrame` blocks until a client is connected and has sent GO
 * (GROMACS's -imdwait); without it, frames are dropped while no client is connected.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  energiesBody,
  floatsBody,
  handshake,
  header,
  HEADER_BYTES,
  HOST_LE,
  ImdType,
  sessionInfo,
  timeBody,
  TYPE_NAMES,
  V2_SESSION,
  type ImdEnergies,
  type ImdVersion,
  type SessionInfo,
} from './protocol.js';

export interface ServerOptions {
  readonly host?: string;
  /** 0 (default): the OS picks a free port; read it from `port` (and from the log line). */
  readonly port?: number;
  readonly version: ImdVersion;
  /** v3: which packets each frame carries. v2 always sends ENERGIES (when given) + FCOORDS. */
  readonly session?: SessionInfo;
  /** Byte order of bodies (default: this machine's), announced by the handshake. */
  readonly littleEndian?: boolean;
  /** Block `sendFrame` until a client is connected and has sent GO. */
  readonly wait?: boolean;
  /** Drop a client that sends no GO within this time (engines: 1 s). */
  readonly goTimeoutMs?: number;
  /** Where the engine's IMD log lines go (default: standard error, like GROMACS). */
  readonly log?: (line: string) => void;
}

/** One frame as the engine has it. Arrays: float32-able, 3 × n_atoms, in the spec's units (Å, Å/ps, kJ/(mol·Å)). */
export interface OutgoingFrame {
  readonly step: number;
  readonly time?: number;
  readonly dt?: number;
  readonly energies?: ImdEnergies;
  readonly box?: ArrayLike<number>;
  readonly positions?: ArrayLike<number>;
  readonly velocities?: ArrayLike<number>;
  readonly forces?: ArrayLike<number>;
}

const FULL_SESSION: SessionInfo = { time: true, energies: true, box: true, positions: true, wrapped: false, velocities: true, forces: true };

export class ImdServer {
  /** Set by KILL: the engine should stop. */
  killed = false;
  /** Transmission rate: every `rate`-th call to sendFrame goes out (TRATE). */
  rate = 1;
  /** The last MDCOMM received: atom indices and forces (read, not applied, by the toy engine). */
  lastMdcomm: { indices: Int32Array; forces: Float32Array } | undefined;
  readonly session: SessionInfo;
  private client: Socket | undefined;
  private go = false;
  private paused = false;
  private wait: boolean;
  private calls = 0;
  private readonly le: boolean;
  private readonly waiters = new Set<() => void>();
  private readonly log: (line: string) => void;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly o: ServerOptions,
  ) {
    this.le = o.littleEndian ?? HOST_LE;
    this.wait = o.wait ?? false;
    this.session = o.version === 2 ? V2_SESSION : (o.session ?? FULL_SESSION);
    this.log = o.log ?? ((l) => process.stderr.write(`${l}\n`));
    server.on('connection', (s) => this.accept(s));
  }

  /** Binds and listens; logs `IMD: Listening for IMD connection on port N.` with the port actually bound. */
  static listen(o: ServerOptions): Promise<ImdServer> {
    const host = o.host ?? '127.0.0.1';
    const requested = o.port ?? 0;
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true });
      server.once('error', reject);
      // Backlog 1: one client at a time, as in GROMACS (listen(fd, 1)).
      server.listen({ host, port: requested, backlog: 1 }, () => {
        server.removeListener('error', reject);
        const addr = server.address();
        const port = typeof addr === 'object' && addr ? addr.port : requested;
        const s = new ImdServer(server, port, o);
        s.log(`IMD: Setting port for connection requests to ${requested}.`);
        s.log(`IMD: Listening for IMD connection on port ${port}.`);
        if (s.wait) s.log('IMD: Will wait until I have a connection and IMD_GO orders.');
        resolve(s);
      });
    });
  }

  /** True when a client is connected and has sent GO. */
  get connected(): boolean {
    return this.client !== undefined && this.go;
  }

  /** Resolves when a client is connected and has sent GO. */
  waitForClient(signal?: AbortSignal): Promise<void> {
    return this.until(() => this.connected, signal);
  }

  /**
   * Sends one frame, whole. Blocks while the client has paused the engine, and (in wait mode) while no client
   * is connected; resolves once the frame is handed to the socket, waiting for it to drain if the client
   * reads slowly (TCP back-pressure, as a blocking write in an engine).
   */
  async sendFrame(f: OutgoingFrame, signal?: AbortSignal): Promise<boolean> {
    // Let the client's control messages in first (an engine polls its IMD socket every IMD step): without
    // this, a loop whose writes never block would not see PAUSE, TRATE or KILL until the socket filled up.
    await new Promise<void>((r) => setImmediate(r));
    // A KILL ends every wait: the engine must get to see `killed` and stop.
    if (this.wait) await this.until(() => this.connected || this.killed, signal);
    await this.until(() => !this.paused || !this.connected || this.killed, signal);
    const send = this.calls++ % this.rate === 0;
    const c = this.client;
    if (!send || !c || !this.go || c.destroyed) return false;
    const parts = this.o.version === 3 ? this.v3Packets(f) : this.v2Packets(f);
    c.cork();
    let ok = true;
    for (const p of parts) ok = c.write(p) && ok;
    c.uncork();
    if (!ok) await this.until(() => c.destroyed || this.killed || !c.writableNeedDrain, signal, c, 'drain');
    return true;
  }

  /** Ends the stream as engines do at the end of a run: frames already written are delivered, then EOF. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    const serverClosed = new Promise<void>((r) => this.server.close(() => r()));
    if (c && !c.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => c.destroy(), 5000); // a client that never reads must not hold the engine
        c.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        c.end();
      });
    }
    await serverClosed;
    this.wake();
  }

  private v3Packets(f: OutgoingFrame): Buffer[] {
    const s = this.session;
    const le = this.le;
    const out: Buffer[] = [];
    const n = (f.positions ?? f.velocities ?? f.forces)?.length;
    const atoms = n === undefined ? 0 : n / 3;
    const need = (what: string): never => {
      throw new RangeError(`IMD v3 frame at step ${f.step}: the session announces ${what}, but the frame has none`);
    };
    if (s.time) out.push(header(ImdType.TIME, 1), timeBody(f.dt ?? need('TIME (dt)'), f.time ?? need('TIME (time)'), f.step, le));
    if (s.energies) out.push(header(ImdType.ENERGIES, 1), energiesBody(f.energies ?? need('ENERGIES'), le));
    if (s.box) out.push(header(ImdType.BOX, 1), floatsBody(f.box ?? need('BOX'), le));
    if (s.positions) out.push(header(ImdType.FCOORDS, atoms), floatsBody(f.positions ?? need('positions'), le));
    if (s.velocities) out.push(header(ImdType.VELOCITIES, atoms), floatsBody(f.velocities ?? need('velocities'), le));
    if (s.forces) out.push(header(ImdType.FORCES, atoms), floatsBody(f.forces ?? need('forces'), le));
    return out;
  }

  private v2Packets(f: OutgoingFrame): Buffer[] {
    const out: Buffer[] = [];
    if (f.energies) out.push(header(ImdType.ENERGIES, 1), energiesBody(f.energies, this.le));
    const x = f.positions ?? [];
    out.push(header(ImdType.FCOORDS, x.length / 3), floatsBody(x, this.le));
    return out;
  }

  private accept(s: Socket): void {
    if (this.client) {
      s.destroy(); // one client at a time
      return;
    }
    this.client = s;
    this.go = false;
    this.paused = false;
    s.setNoDelay(true);
    s.write(handshake(this.o.version, this.le));
    if (this.o.version === 3) s.write(sessionInfo(this.session));
    const goTimer = setTimeout(() => {
      if (!this.go) {
        this.log('IMD: Incompatible IMD client? No IMD_GO within 1 s: dropping the connection.');
        s.destroy();
      }
    }, this.o.goTimeoutMs ?? 1000);
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (pending.length - at >= HEADER_BYTES) {
        const type = pending.readInt32BE(at);
        const value = pending.readInt32BE(at + 4);
        if (type === ImdType.MDCOMM) {
          const n = value;
          if (n < 0 || n > 10_000_000) {
            this.log(`IMD: MDCOMM with ${n} atoms: dropping the connection.`);
            s.destroy();
            return;
          }
          if (pending.length - at < HEADER_BYTES + 16 * n) break;
          this.mdcomm(pending, at + HEADER_BYTES, n);
          at += HEADER_BYTES + 16 * n;
          continue;
        }
        at += HEADER_BYTES;
        this.onControl(s, type, value, goTimer);
      }
      pending = pending.subarray(at);
    });
    const gone = (): void => {
      clearTimeout(goTimer);
      if (this.client === s) {
        this.client = undefined;
        this.go = false;
        this.paused = false;
        this.log('IMD: Disconnecting client.');
      }
      this.wake();
    };
    s.on('close', gone);
    s.on('error', () => s.destroy());
  }

  private onControl(s: Socket, type: number, value: number, goTimer: NodeJS.Timeout): void {
    switch (type) {
      case ImdType.GO:
        clearTimeout(goTimer);
        this.go = true;
        break;
      case ImdType.DISCONNECT:
        s.destroy();
        break;
      case ImdType.KILL:
        this.log('IMD: Received kill order: stopping.');
        this.killed = true;
        break;
      case ImdType.PAUSE:
        this.paused = this.o.version === 2 ? !this.paused : true;
        break;
      case ImdType.RESUME:
        this.paused = false;
        break;
      case ImdType.TRATE:
        this.rate = value < 1 ? 1 : value;
        break;
      case ImdType.WAIT:
        this.wait = value !== 0;
        break;
      default:
        this.log(`IMD: Received unexpected ${type >= 0 && type < TYPE_NAMES.length ? TYPE_NAMES[type] : `type ${type}`}: ignored.`);
    }
    this.wake();
  }

  private mdcomm(b: Buffer, at: number, n: number): void {
    const indices = new Int32Array(n);
    const forces = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) indices[i] = this.le ? b.readInt32LE(at + 4 * i) : b.readInt32BE(at + 4 * i);
    for (let i = 0; i < 3 * n; i++) forces[i] = this.le ? b.readFloatLE(at + 4 * n + 4 * i) : b.readFloatBE(at + 4 * n + 4 * i);
    this.lastMdcomm = { indices, forces };
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Waits until `ok()` holds, re-checking on every state change (and on `event` of `emitter`). */
  private until(ok: () => boolean, signal?: AbortSignal, emitter?: Socket, event?: string): Promise<void> {
    if (ok()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (signal?.aborted) {
          cleanup();
          reject(new Error('IMD: cancelled'));
        } else if (ok()) {
          cleanup();
          resolve();
        }
      };
      const cleanup = (): void => {
        this.waiters.delete(check);
        signal?.removeEventListener('abort', check);
        if (emitter && event) {
          emitter.removeListener(event, check);
          emitter.removeListener('close', check);
        }
      };
      this.waiters.add(check);
      signal?.addEventListener('abort', check);
      if (emitter && event) {
        emitter.on(event, check);
        emitter.on('close', check);
      }
    });
  }
}
