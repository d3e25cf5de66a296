/**
 * The IMD client: connects to an engine (retrying until it listens), sends GO at once, and hands out frames
 * as an async iterable.
 *
 *   const imd = await connectImd({ port, expectedAtoms: 528 });
 *   for await (const f of imd) use(f.step, f.positions);   // ends when the engine closes the stream
 *
 * Back-pressure: at most `bufferFrames` frames wait for the consumer. When the buffer is full the client stops
 * reading the socket and tells the engine to pause (v3: PAUSE, later RESUME; v2: PAUSE, which toggles, sent
 * once to pause and once more to go on). Frames already in flight after a PAUSE are still parsed and kept.
 *
 * Memory: every frame has arrays of its own, which the consumer may keep. A consumer done with a frame may
 * `release(frame)` it: its arrays are then reused for later frames (FramePool), which is what lets the client
 * decode at the loopback's raw-read speed.
 *
 * Errors are typed and name the frame and byte offset: a malformed stream (`ImdProtocolError`), silence longer
 * than `timeoutMs` (`ImdTimeoutError`), a stream cut off in the middle of a frame (`ImdProtocolError`), an
 * engine that never listens (`ImdConnectError`). Frames completed before an error are delivered first.
 */
import { connect, type Socket } from 'node:net';
import { control, ImdType, type ImdFrame, type ImdVersion, type SessionInfo } from './protocol.js';
import { FramePool } from './frame-pool.js';
import { ImdProtocolError, ImdStreamParser, type ImdEvent } from './stream-parser.js';

export interface ConnectOptions {
  readonly host?: string;
  readonly port: number;
  /** Bounds every wait: connecting (with retries), the handshake, and the gap between frames. Default 5000. */
  readonly timeoutMs?: number;
  /** Atom count the caller expects; a frame of another size is an error. */
  readonly expectedAtoms?: number;
  /** Frames buffered before the engine is asked to pause. Default 8. */
  readonly bufferFrames?: number;
  /** Upper bound on atoms when none is expected (corrupt lengths must not allocate gigabytes). */
  readonly maxAtoms?: number;
  readonly signal?: AbortSignal;
}

export class ImdTimeoutError extends Error {
  readonly code = 'IMD_ERR_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'ImdTimeoutError';
  }
}

export class ImdConnectError extends Error {
  readonly code = 'IMD_ERR_CONNECT';
  constructor(message: string) {
    super(message);
    this.name = 'ImdConnectError';
  }
}

export interface ImdClient extends AsyncIterableIterator<ImdFrame> {
  readonly version: ImdVersion;
  readonly littleEndian: boolean;
  readonly session: SessionInfo;
  /** Frames received so far (delivered or buffered). */
  readonly framesReceived: number;
  /** True while this client has asked the engine to pause because its buffer is full. */
  readonly pausedForBackPressure: boolean;
  /**
   * Gives a frame's positions, velocities and forces back, to be overwritten by a later frame: for a consumer
   * that is done with the frame and wants the stream decoded at the loopback's speed (fresh 1.2 MB arrays per
   * packet cost page faults). After it, the frame's arrays must not be read or kept. Optional: a frame never
   * released keeps its arrays for good. Throws on a frame released twice or not from this client.
   */
  release(frame: ImdFrame): void;
  /** Memory of released frames reused so far (buffers: one per whole v3 frame, else one per array). */
  readonly reusedBuffers: number;
  /** TRATE: send every `n`-th IMD step (n < 1 restores the engine's default). */
  setRate(n: number): void;
  /** KILL: asks the engine to stop the simulation. */
  kill(): void;
  /** DISCONNECT and close; the iteration ends. Idempotent. */
  close(): Promise<void>;
}

/** Closed before the handshake: an engine still starting (or busy with another client) does that; retry. */
const EARLY_CLOSE = 'EIMDEARLYCLOSE';
const RETRYABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EADDRNOTAVAIL', 'ETIMEDOUT', EARLY_CLOSE]);

/** Connects, retrying until the engine listens or `timeoutMs` passes; resolves once the session is known. */
export async function connectImd(o: ConnectOptions): Promise<ImdClient> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  const where = `IMD engine at ${host}:${o.port}`;
  let delay = 10;
  for (;;) {
    if (o.signal?.aborted) throw new ImdConnectError(`${where}: connection cancelled`);
    try {
      const session = new Session(o, where, timeoutMs);
      const socket = await openSocket(host, o.port, Math.max(1, deadline - Date.now()), session);
      return await session.start(socket);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!code || !RETRYABLE.has(code)) throw e;
      if (Date.now() + delay > deadline) {
        if (code === EARLY_CLOSE)
          throw new ImdConnectError(
            `${where}: accepted the connection but closed it before the IMD session started (${(e as Error).message}), until the ${timeoutMs} ms timeout. Is this an IMD engine, and is another client connected?`,
          );
        throw new ImdConnectError(
          `${where}: nothing accepted a connection within ${timeoutMs} ms (last error ${code}). Is the engine running with IMD on this port?`,
        );
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 250);
    }
  }
}

function openSocket(host: string, port: number, timeoutMs: number, session: Session): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // onread: the socket reads into buffers the parser chooses (large bodies land in the frame's own arrays).
    const s = connect({ host, port, onread: { buffer: () => session.readTarget(), callback: (n, buf) => session.onBytes(n, buf) } });
    const timer = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    });
  });
}

class Session implements ImdClient {
  version: ImdVersion = 3;
  littleEndian = true;
  session!: SessionInfo;
  pausedForBackPressure = false;
  private readonly parser: ImdStreamParser;
  private socket!: Socket;
  private readonly queue: ImdFrame[] = [];
  private head = 0;
  private readonly bufferFrames: number;
  private readonly pool: FramePool;
  private waiter: { resolve: (r: IteratorResult<ImdFrame>) => void; reject: (e: Error) => void } | undefined;
  private error: Error | undefined;
  private ended = false;
  private closed = false;
  private idle: NodeJS.Timeout | undefined;
  /** Stream offset when the idle timer was last restarted (for its message). */
  private idleFrom = 0;
  private received = 0;

  constructor(
    private readonly o: ConnectOptions,
    private readonly where: string,
    private readonly timeoutMs: number,
  ) {
    this.bufferFrames = Math.max(1, o.bufferFrames ?? 8);
    // Enough for the frames the buffer holds, the one being filled and one the consumer works on.
    this.pool = new FramePool(this.bufferFrames + 2);
    this.parser = new ImdStreamParser({
      ...(o.expectedAtoms !== undefined ? { expectedAtoms: o.expectedAtoms } : {}),
      ...(o.maxAtoms !== undefined ? { maxAtoms: o.maxAtoms } : {}),
      allocate: (n) => this.pool.take(n),
    });
  }

  start(socket: Socket): Promise<Session> {
    const { o, where, timeoutMs } = this;
    this.socket = socket;
    socket.setNoDelay(true); // control messages are 8 bytes: do not let Nagle hold them back
    return new Promise((resolve, reject) => {
      let ready = false;
      const fail = (e: Error): void => {
        if (ready) return;
        ready = true;
        socket.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new ImdTimeoutError(`${where}: no IMD handshake within ${timeoutMs} ms of connecting`)), timeoutMs);
      const onAbort = (): void => fail(new ImdConnectError(`${where}: connection cancelled`));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.onReady = () => {
        ready = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        o.signal?.addEventListener('abort', () => void this.close(), { once: true });
        resolve(this);
      };
      this.onEarlyError = (e) => {
        clearTimeout(timer);
        fail(e);
      };
      socket.on('end', () => this.onEnd());
      socket.on('error', (e) => this.onSocketError(e));
      socket.on('close', () => this.onEnd());
    });
  }

  private onReady: (() => void) | undefined;
  private onEarlyError: ((e: Error) => void) | undefined;

  get framesReceived(): number {
    return this.received;
  }

  readTarget(): Uint8Array {
    return this.parser.readTarget();
  }

  /** The socket's onread callback; returning false pauses the socket (back-pressure). */
  onBytes(n: number, buf: Uint8Array): boolean {
    if (this.closed || this.error) return true;
    let events: readonly ImdEvent[];
    let error: Error | undefined;
    try {
      events = this.parser.received(n, buf);
    } catch (e) {
      events = e instanceof ImdProtocolError ? e.eventsBefore : [];
      error = e as Error;
    }
    this.handle(events);
    if (error) this.fail(error);
    else if (this.queue.length - this.head >= this.bufferFrames && !this.pausedForBackPressure) this.pauseEngine();
    return true;
  }

  private handle(events: readonly ImdEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'handshake') {
        this.version = ev.version;
        this.littleEndian = ev.littleEndian;
        if (ev.version === 2) this.go();
      } else if (ev.kind === 'session') {
        this.go();
      } else {
        this.received++;
        this.pool.issued(ev.frame);
        this.armIdle();
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          w.resolve({ value: ev.frame, done: false });
        } else this.queue.push(ev.frame);
      }
    }
  }

  /** Session known: send GO at once (engines drop a client that is silent for 1 s). */
  private go(): void {
    // v2 has no SESSIONINFO: imdclient assumes energies + positions, and so does the parser.
    this.session = this.parser.sessionInfo as SessionInfo;
    this.write(control(ImdType.GO));
    const ready = this.onReady;
    this.onReady = undefined;
    this.onEarlyError = undefined;
    this.armIdle();
    ready?.();
  }

  /**
   * The gap between complete frames is bounded, not the gap between bytes: a stream that trickles a byte at a
   * time never completes a frame and must still end. Not armed while this client holds the engine paused.
   */
  private armIdle(): void {
    if (this.pausedForBackPressure || this.ended || this.closed) {
      this.disarmIdle();
      return;
    }
    this.idleFrom = this.parser.offset;
    // One timer, restarted per frame (cheaper than a new one per frame at thousands of frames a second).
    if (this.idle) {
      this.idle.refresh();
      return;
    }
    this.idle = setTimeout(() => {
      const n = this.parser.framesParsed;
      const got = this.parser.offset - this.idleFrom;
      this.fail(
        new ImdTimeoutError(
          `${this.where}: frame ${n} did not arrive within ${this.timeoutMs} ms (${got} byte(s) of it received; stream byte offset ${this.parser.offset}); the engine stalled or the network dropped`,
        ),
      );
    }, this.timeoutMs);
  }

  private disarmIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }

  private pauseEngine(): void {
    this.pausedForBackPressure = true;
    this.disarmIdle();
    this.write(control(ImdType.PAUSE)); // v3: idempotent pause; v2: toggles on
    this.socket.pause();
  }

  private resumeEngine(): void {
    this.pausedForBackPressure = false;
    this.write(control(this.version === 3 ? ImdType.RESUME : ImdType.PAUSE)); // v2: the same toggle, off again
    this.socket.resume();
    this.armIdle();
  }

  private write(b: Buffer): void {
    if (this.socket && !this.socket.destroyed && this.socket.writable) this.socket.write(b);
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.disarmIdle();
    if (this.onEarlyError) {
      this.onEarlyError(Object.assign(new Error(`${this.parser.offset} byte(s) received`), { code: EARLY_CLOSE }));
      return;
    }
    if (!this.closed && !this.error && this.parser.midFrame) {
      const n = this.parser.framesParsed;
      const e = new ImdProtocolError(
        `${this.where}: the stream ended in the middle of frame ${n} (byte offset ${this.parser.offset}); frames before it were delivered`,
        this.parser.offset,
        n,
      );
      e.truncated = true;
      this.fail(e);
      return;
    }
    this.settle();
  }

  private onSocketError(e: Error): void {
    if (this.closed) return;
    const code = (e as NodeJS.ErrnoException).code;
    // A reset after complete frames is how some engines end; a reset inside a frame is an error (onEnd).
    if (code === 'ECONNRESET' || code === 'EPIPE') return;
    this.fail(new ImdConnectError(`${this.where}: ${e.message}`));
  }

  private fail(e: Error): void {
    if (this.error) return;
    if (this.onEarlyError) {
      this.onEarlyError(e);
      return;
    }
    this.error = e;
    this.disarmIdle();
    this.socket.destroy();
    this.settle();
  }

  /** Wakes a waiting consumer once nothing more can arrive. */
  private settle(): void {
    if (!this.waiter || this.head < this.queue.length) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.error && !this.closed) w.reject(this.error);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<ImdFrame>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++] as ImdFrame;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.pausedForBackPressure && this.queue.length - this.head <= this.bufferFrames / 2 && !this.ended) this.resumeEngine();
      return Promise.resolve({ value, done: false });
    }
    if (this.pausedForBackPressure && !this.ended) this.resumeEngine();
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<ImdFrame>> {
    await this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  release(frame: ImdFrame): void {
    this.pool.release(frame);
  }

  get reusedBuffers(): number {
    return this.pool.reusedBuffers;
  }

  setRate(n: number): void {
    this.write(control(ImdType.TRATE, Math.trunc(n)));
  }

  kill(): void {
    this.write(control(ImdType.KILL));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarmIdle();
    const s = this.socket;
    if (!s.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000);
        s.once('close', done);
        if (s.writable) s.end(control(ImdType.DISCONNECT));
        else s.destroy();
        s.resume(); // let the engine's last bytes drain so 'close' can come
      });
    }
    this.ended = true;
    this.settle();
  }
}
