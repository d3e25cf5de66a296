/**
 * What the loop tells the user. `pretty` (the default on a terminal): a compact table, one row per iteration
 * (segments, the flux into the targets, the running flux with its error bar), warnings between the rows and,
 * on a terminal, one live progress line below them (segments done/running/failed, elapsed, ETA). `json` (the
 * default otherwise): pino JSON lines. Either can also send the JSON lines to a log file.
 *
 * A small renderer, not pino-pretty: pino-pretty would re-render each JSON record as it is, but what a WE user
 * wants on screen is a table with a running estimate, which is state the reporter keeps anyway.
 */
import pino, { type Logger } from 'pino';
import type { SegmentResult, SegmentTask } from '@westream/propagator';
import { runningFlux } from './running-flux.js';

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

export type LogFormat = 'json' | 'pretty';

export function makeReporter(opts: {
  tty: boolean;
  stream?: NodeJS.WritableStream;
  level?: string;
  /** Default: pretty on a terminal, json otherwise. */
  format?: LogFormat;
  /** Also write the JSON lines here (a log file). */
  logStream?: NodeJS.WritableStream;
}): Reporter {
  const format = opts.format ?? (opts.tty ? 'pretty' : 'json');
  const json = (out: NodeJS.WritableStream): Reporter => new PinoReporter(pino({ level: opts.level ?? 'info', base: null }, out));
  const main = format === 'pretty' ? new TtyReporter(opts.stream ?? process.stderr, opts.tty) : json(opts.stream ?? process.stdout);
  return opts.logStream ? new TeeReporter([main, json(opts.logStream)]) : main;
}

/** Tells every reporter everything (the terminal's table and the log file's JSON lines). */
class TeeReporter implements Reporter {
  constructor(private readonly all: readonly Reporter[]) {}
  runStarted(info: Parameters<Reporter['runStarted']>[0]): void {
    for (const r of this.all) r.runStarted(info);
  }
  iterationStarted(nIter: number, nSegs: number, nToRun: number): void {
    for (const r of this.all) r.iterationStarted(nIter, nSegs, nToRun);
  }
  segmentStarted(task: SegmentTask): void {
    for (const r of this.all) r.segmentStarted(task);
  }
  segmentFinished(result: SegmentResult): void {
    for (const r of this.all) r.segmentFinished(result);
  }
  iterationFinished(report: IterationReport): void {
    for (const r of this.all) r.iterationFinished(report);
  }
  warn(message: string): void {
    for (const r of this.all) r.warn(message);
  }
  info(message: string): void {
    for (const r of this.all) r.info(message);
  }
  close(): void {
    for (const r of this.all) r.close();
  }
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
  /** Recycled weight of each iteration this run finished (the flux into the targets, per τ). */
  private readonly fluxes: number[] = [];

  /** `live`: a terminal, with a progress line redrawn in place below the table. */
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly live = true,
  ) {}

  runStarted(info: { nIter: number; lastIter: number | null; westH5: string; workManager: string }): void {
    this.lastIter = info.lastIter;
    this.print(`westream: ${info.westH5}, iteration ${info.nIter}${info.lastIter ? ` of ${info.lastIter}` : ''}, ${info.workManager} work manager`);
    this.print(' iter  segs  walltime  recycled  flux (weight/τ)   running flux ± error (second half of the run)');
    if (!this.live) return;
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
    this.fluxes.push(r.recycledWeight);
    const est = runningFlux(this.fluxes);
    const running = est ? `${est.mean.toExponential(2)} ± ${est.se.toExponential(1)} (${Math.round((100 * est.se) / est.mean)} %)` : est === null ? '-' : '0';
    this.print(
      `${String(r.nIter).padStart(5)} ${String(r.nSegs).padStart(5)} ${r.walltime.toFixed(2).padStart(8)}s ${String(r.nRecycled).padStart(9)}  ${(r.recycledWeight > 0 ? r.recycledWeight.toExponential(3) : '0').padStart(15)}   ${running}`,
    );
  }
  warn(message: string): void {
    this.print(`warning: ${message}`);
  }
  info(message: string): void {
    this.print(message);
  }
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (!this.live) return;
    this.draw(true);
    this.out.write('\n');
  }

  private print(line: string): void {
    this.out.write(this.live ? `\r\x1b[K${line}\n` : `${line}\n`);
    this.dirty = true;
    this.draw();
  }

  private draw(force = false): void {
    if (!this.live) return;
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
      `\r\x1b[Kiteration ${this.nIter}${of}  segments ${this.done}/${this.nSegs} done · ${this.running} running · ${this.failed} failed  elapsed ${clock(elapsed)}${eta}`,
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
