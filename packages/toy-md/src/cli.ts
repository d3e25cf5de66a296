/**
 * The `westream-toy-md` command as a function of its arguments and an I/O record, so the same code serves the
 * command line (main.ts) and the test suite's resident engine (@westream/testing's toy-md server), which runs
 * it for a segment's runseg.sh without a Node start-up per segment.
 *
 *   run    --input md.in --restart FILE --out-restart FILE [--out-pcoord FILE] [--seed N]
 *          [--out-traj FILE] [--imd-port N [--imd-version 2|3] [--imd-wait] [--imd-host H]] [--frame-interval S]
 *   init   --input md.in --pcoord S --out FILE [--seed N]
 *   pcoord --input md.in --restart FILE
 *   mfpt   --input md.in --restart FILE --target S [--events N] [--check-every K] [--seed N]
 *
 * The seed is `--seed`, else `$WEST_RAND64` (what runseg.sh gets from westream or WESTPA); no seed is an error,
 * so every run can be repeated bit for bit.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { basisState, firstPassageTimes, makeEngine, runSegment, runSegmentStreaming, type Engine } from './engine.js';
import { frameMaker, trajectoryLine, xyzDistances, xyzFrame } from './imd-frames.js';
import { ParamsError, parseParams, type MdParams } from './params.js';
import { readRestart, writeRestart } from './restart-file.js';

const USAGE = `usage: westream-toy-md <run|init|pcoord|mfpt> --input md.in [options]
  run    --restart FILE --out-restart FILE [--out-pcoord FILE] [--seed N]
         (no --out-pcoord: the pcoord comes from the stream, as with stream_trajectory's builtin pcoord)
         [--out-traj FILE]       one JSON line per frame (step 0 and every stride steps), IMD units (Å, ps)
         [--out-xyz FILE]        the same frames' positions as an XYZ trajectory (Å)
         [--imd-port N]          stream the same frames over IMD; 0: any free port, printed as
                                 "IMD: Listening for IMD connection on port N." (as GROMACS does)
         [--imd-version 2|3]     default 3;  [--imd-wait] block until a client sends GO (GROMACS -imdwait)
         [--imd-host H]          default 127.0.0.1
         [--frame-interval S]    wait S seconds after each output frame: a slow engine, in real time
  init   --pcoord S --out FILE [--seed N]
  pcoord --restart FILE
  xyz-pcoord --xyz FILE --atoms I,J    distance (nm) of atoms I and J in every frame of an XYZ trajectory
  mfpt   --restart FILE --target S [--events N] [--check-every K] [--max-steps N] [--seed N]
  any:   --set key=value (overrides the input file)
`;

type Values = Record<string, string | string[] | boolean | undefined>;

/** Where the command reads, writes and reports: the process's own, or a client's of the resident engine. */
export interface ToyMdIo {
  /** Relative paths resolve against this directory; absent: the process's working directory, paths as given. */
  readonly cwd?: string;
  /** `$WEST_RAND64`, the seed when there is no --seed. */
  readonly westRand64?: string | undefined;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Asked once the input is read: false declines the command before any work (toyMd then returns 'declined'). */
  readonly admit?: (cmd: string, params: MdParams) => boolean;
}

/** The command's result: its exit code, or 'declined' when `io.admit` said no. */
export type ToyMdOutcome = number | 'declined';

function need(v: Values, key: string): string {
  const x = v[key];
  if (typeof x !== 'string' || x === '') throw new ParamsError(`--${key} is required\n${USAGE}`);
  return x;
}

function seedOf(v: Values, io: ToyMdIo): bigint {
  const raw = (v.seed as string | undefined) ?? (io.westRand64 || undefined);
  if (raw === undefined) throw new ParamsError('no seed: pass --seed N or run under westream/WESTPA, which set $WEST_RAND64');
  if (!/^\d+$/.test(raw)) throw new ParamsError(`seed '${raw}' is not a non-negative integer`);
  return BigInt(raw);
}

function engineOf(v: Values, at: (p: string) => string): Engine {
  const input = need(v, 'input');
  let text: string;
  try {
    text = readFileSync(at(input), 'utf8');
  } catch (e) {
    throw new ParamsError(`${input}: cannot read the input file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const overrides: Record<string, string> = {};
  for (const kv of (v.set as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i < 1) throw new ParamsError(`--set '${kv}': expected key=value`);
    overrides[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }
  return makeEngine(parseParams(text, input, overrides));
}

function fmt(xs: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < xs.length; i++) s += `${xs[i]}\n`;
  return s;
}

class ImdKilled extends Error {}

/** `run` with a trajectory file and/or an IMD stream: the same segment, frames handed out as they happen. */
async function runStreaming(v: Values, at: (p: string) => string, engine: Engine, state: ReturnType<typeof readRestart>, seed: bigint): Promise<Float64Array> {
  const port = v['imd-port'] === undefined ? undefined : Number(v['imd-port']);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536))
    throw new ParamsError(`--imd-port '${String(v['imd-port'])}': expected 0 (any free port) or a port number`);
  const version = Number(v['imd-version'] ?? 3);
  if (version !== 2 && version !== 3) throw new ParamsError(`--imd-version '${String(v['imd-version'])}': expected 2 or 3`);
  // Loaded only for a streamed segment: a plain segment (the demo's) starts ~40 ms sooner without it.
  const server =
    port === undefined
      ? undefined
      : await (
          await import('@westream/imd')
        ).ImdServer.listen({ port, version, wait: v['imd-wait'] === true, host: (v['imd-host'] as string | undefined) ?? '127.0.0.1' });
  const traj = typeof v['out-traj'] === 'string' ? openSync(at(v['out-traj']), 'w') : undefined;
  const xyz = typeof v['out-xyz'] === 'string' ? openSync(at(v['out-xyz']), 'w') : undefined;
  const make = frameMaker(engine);
  const pace = v['frame-interval'] === undefined ? 0 : Number(v['frame-interval']) * 1000;
  if (!(pace >= 0)) throw new ParamsError(`--frame-interval '${String(v['frame-interval'])}': expected seconds ≥ 0`);
  try {
    return await runSegmentStreaming(engine, state, seed, async (st) => {
      const frame = make(st);
      if (traj !== undefined) writeSync(traj, trajectoryLine(frame));
      if (xyz !== undefined) writeSync(xyz, xyzFrame(frame));
      if (server) {
        await server.sendFrame(frame);
        if (server.killed) throw new ImdKilled(`stopped by an IMD KILL at step ${st.step}; no restart written`);
      }
      if (pace > 0) await new Promise((r) => setTimeout(r, pace));
    });
  } finally {
    if (traj !== undefined) closeSync(traj);
    if (xyz !== undefined) closeSync(xyz);
    await server?.close(); // the end of the run ends the stream: the client sees EOF after the last frame
  }
}

async function command(argv: string[], io: ToyMdIo): Promise<'declined' | undefined> {
  const [cmd, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      input: { type: 'string' },
      restart: { type: 'string' },
      'out-restart': { type: 'string' },
      'out-pcoord': { type: 'string' },
      out: { type: 'string' },
      pcoord: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string' },
      events: { type: 'string' },
      'check-every': { type: 'string' },
      'max-steps': { type: 'string' },
      set: { type: 'string', multiple: true },
      'out-traj': { type: 'string' },
      'out-xyz': { type: 'string' },
      xyz: { type: 'string' },
      atoms: { type: 'string' },
      scale: { type: 'string' },
      'imd-port': { type: 'string' },
      'imd-version': { type: 'string' },
      'imd-wait': { type: 'boolean' },
      'imd-host': { type: 'string' },
      'frame-interval': { type: 'string' },
    },
  });
  const v = values as Values;
  const cwd = io.cwd;
  const at = cwd === undefined ? (p: string): string => p : (p: string): string => resolve(cwd, p);
  const engine = engineOf(v, at);
  const { system, params } = engine;
  if (io.admit !== undefined && !io.admit(cmd ?? '', params)) return 'declined';
  const restart = (): ReturnType<typeof readRestart> => readRestart(at(need(v, 'restart')), params.system, system.dim, system.nAtoms);
  switch (cmd) {
    case 'run': {
      const state = restart();
      const streaming = v['imd-port'] !== undefined || v['out-traj'] !== undefined || v['out-xyz'] !== undefined || v['frame-interval'] !== undefined;
      const pc = streaming ? await runStreaming(v, at, engine, state, seedOf(v, io)) : runSegment(engine, state, seedOf(v, io));
      writeRestart(at(need(v, 'out-restart')), params.system, system.dim, state);
      if (typeof v['out-pcoord'] === 'string') writeFileSync(at(v['out-pcoord']), fmt(pc));
      return undefined;
    }
    case 'init': {
      const s = Number(need(v, 'pcoord'));
      if (!Number.isFinite(s)) throw new ParamsError(`--pcoord '${String(v.pcoord)}' is not a number`);
      writeRestart(at(need(v, 'out')), params.system, system.dim, basisState(engine, s, seedOf(v, io)));
      return undefined;
    }
    case 'pcoord':
      io.out(`${system.pcoord(restart().x)}\n`);
      return undefined;
    case 'xyz-pcoord': {
      // The classic way, for comparison with streaming: the distance between two atoms in every frame of a
      // trajectory file the engine wrote (minimum image in the input's box), in nm.
      const [a, b] = need(v, 'atoms').split(',').map(Number);
      if (!Number.isInteger(a) || !Number.isInteger(b)) throw new ParamsError(`--atoms '${String(v.atoms)}': expected two atom indices, e.g. 0,1`);
      io.out(
        xyzDistances(readFileSync(at(need(v, 'xyz')), 'utf8'), a as number, b as number, params.system === 'pair' ? params.box * 10 : 0)
          .map((d) => `${d / 10}\n`)
          .join(''),
      );
      return;
    }
    case 'mfpt': {
      const { times, steps } = firstPassageTimes(engine, restart(), seedOf(v, io), {
        target: Number(need(v, 'target')),
        events: Number(v.events ?? 100),
        checkEvery: Number(v['check-every'] ?? 1),
        maxSteps: Number(v['max-steps'] ?? 1e9),
      });
      io.out(JSON.stringify({ times, steps, dt: params.dt }) + '\n');
      return undefined;
    }
    default:
      throw new ParamsError(`unknown command '${cmd ?? ''}'\n${USAGE}`);
  }
}

/**
 * Runs one `westream-toy-md` command. A user's mistake (bad option, input, restart, port in use) is reported on
 * `io.err` with exit code 2, an IMD KILL with 3; anything else is a bug and is thrown.
 */
export async function toyMd(argv: string[], io: ToyMdIo): Promise<ToyMdOutcome> {
  try {
    return (await command(argv, io)) ?? 0;
  } catch (e: unknown) {
    if (e instanceof ImdKilled) {
      io.err(`westream-toy-md: ${e.message}\n`);
      return 3;
    }
    if (e instanceof ParamsError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') || e instanceof RangeError) {
      io.err(`westream-toy-md: ${(e as Error).message}\n`);
      return 2;
    }
    if ((e as { code?: string }).code === 'EADDRINUSE') {
      io.err(`westream-toy-md: IMD port in use: ${(e as Error).message}. Use --imd-port 0 for any free port.\n`);
      return 2;
    }
    throw e;
  }
}
