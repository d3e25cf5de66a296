/**
 * What the loop tells the user. On a terminal: one live progress line (iteration i/N, segments
 * done/running/failed, elapsed, ETA) with warnings printed above it. Otherwise: pino JSON lines.
 */
import pino, { type Logger } from 'pino';
import type { SegmentResult, SegmentTask } from '@westream/propagator';

export interface IterationReport {
  readonly nIter: number;
  readonly nSegs: number;
  readonly walltime: number;
  readonly nRecycled: number;
  readonly recycledWeight: number;
  readonly nextSegs: number;
  /** Resident memory of the sim-manager process, MiB, at the end of the iteration. */
  readonly rssMB: number;
}

export interface Reporter {
  runStarted(info: { nIter: number; lastIter: number | null; westH5: string; workManager: string }): void;
  iterationStarted(nIter: number, nSegs: number, nToRun: number): void;
  segmentStarted(task: SegmentTask): void;
  segmentFinished(result: SegmentResult): void;
  iterationFinished(r: IterationReport): void;
  warn(message: string): void;
  info(message: string): void;
  close(): void;
}

export function makeReporter(opts: { tty: boolean; stream?: NodeJS.WritableStream; level?: string }): Reporter {
  return opts.tty ? new TtyReporter(opts.stream ?? process.stderr) : new PinoReporter(pino({ level: opts.level ?? 'info', base: null }, opts.stream ?? process.stdout));
}

class PinoReporter implements Reporter {
  constructor(private readonly log: Logger) {}
  runStarted(info: { nIter: number; lastIter: number | null; westH5: string; workManager: string }): void {
    this.log.info(info, 'run started');
  }
  iterationStarted(nIter: number, nSegs: number, nToRun: number): void {
    this.log.info({ nIter, nSegs, nToRun }, 'iteration started');
  }
  segmentStarted(): void {}
  segmentFinished(r: SegmentResult): void {
    if (r.status === 'failed') this.log.warn({ nIter: r.nIter, segId: r.segId, attempt: r.attempt, log: r.log }, r.reason ?? 'segment failed');
    else this.log.debug({ nIter: r.nIter, segId: r.segId, walltime: r.walltime, cputime: r.cputime }, 'segment finished');
  }
  iterationFinished(r: IterationReport): void {
    this.log.info(r, 'iteration finished');
  }
  warn(message: string): void {
    this.log.warn(message);
  }
  info(message: string): void {
    this.log.info(message);
  }
  close(): void {
    this.log.flush();
  }
}

class TtyReporter implements Reporter {
  private nIter = 0;
  private lastIter: number | null = null;
  private nSegs = 0;
  private done = 0;
  private running = 0;
  private failed = 0;
  private readonly started = Date.now();
  private iterTimes: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private lastFlux = '';

  constructor(private readonly out: NodeJS.WritableStream) {}

  runStarted(info: { nIter: number; lastIter: number | null; westH5: string; workManager: string }): void {
    this.lastIter = info.lastIter;
    this.print(`westream: ${info.westH5}, iteration ${info.nIter}${info.lastIter ? ` of ${info.lastIter}` : ''}, ${info.workManager} work manager`);
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }
  iterationStarted(nIter: number, nSegs: number, nToRun: number): void {
    Object.assign(this, { nIter, nSegs, done: nSegs - nToRun, running: 0, failed: 0, dirty: true });
  }
  segmentStarted(): void {
    this.running++;
    this.dirty = true;
  }
  segmentFinished(r: SegmentResult): void {
    this.running = Math.max(0, this.running - 1);
    if (r.status === 'complete') this.done++;
    else if (r.status === 'failed') {
      this.failed++;
      this.print(`warning: ${r.reason?.split('\n')[0] ?? 'segment failed'}`);
    }
    this.dirty = true;
  }
  iterationFinished(r: IterationReport): void {
    this.iterTimes.push(r.walltime);
    if (r.nRecycled > 0) this.lastFlux = ` · recycled ${r.nRecycled} (weight ${r.recycledWeight.toExponential(2)})`;
    this.dirty = true;
  }
  warn(message: string): void {
    this.print(`warning: ${message}`);
  }
  info(message: string): void {
    this.print(message);
  }
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw(true);
    this.out.write('\n');
  }

  private print(line: string): void {
    this.out.write(`\r\x1b[K${line}\n`);
    this.dirty = true;
    this.draw();
  }

  private draw(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    const elapsed = (Date.now() - this.started) / 1000;
    let eta = '';
    if (this.lastIter && this.iterTimes.length > 0) {
      const recent = this.iterTimes.slice(-5);
      const per = recent.reduce((a, b) => a + b, 0) / recent.length;
      eta = `  ETA ${clock(Math.max(0, (this.lastIter - this.nIter + 1) * per - (this.done / Math.max(this.nSegs, 1)) * per))}`;
    }
    const of = this.lastIter ? `/${this.lastIter}` : '';
    this.out.write(
      `\r\x1b[Kiteration ${this.nIter}${of}  segments ${this.done}/${this.nSegs} done · ${this.running} running · ${this.failed} failed  elapsed ${clock(elapsed)}${eta}${this.lastFlux}`,
    );
  }
}

function clock(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}
