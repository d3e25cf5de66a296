/**
 * `westream-toy-md`: the bundled engine's command line.
 *
 *   run    --input md.in --restart FILE --out-restart FILE --out-pcoord FILE [--seed N]
 *   init   --input md.in --pcoord S --out FILE [--seed N]
 *   pcoord --input md.in --restart FILE
 *   mfpt   --input md.in --restart FILE --target S [--events N] [--check-every K] [--seed N]
 *
 * The seed is `--seed`, else `$WEST_RAND64` (what runseg.sh gets from westream or WESTPA); no seed is an error,
 * so every run can be repeated bit for bit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basisState, firstPassageTimes, makeEngine, runSegment, type Engine } from './engine.js';
import { ParamsError, parseParams } from './params.js';
import { readRestart, writeRestart } from './restart-file.js';

const USAGE = `usage: westream-toy-md <run|init|pcoord|mfpt> --input md.in [options]
  run    --restart FILE --out-restart FILE --out-pcoord FILE [--seed N]
  init   --pcoord S --out FILE [--seed N]
  pcoord --restart FILE
  mfpt   --restart FILE --target S [--events N] [--check-every K] [--max-steps N] [--seed N]
  any:   --set key=value (overrides the input file)
`;

type Values = Record<string, string | string[] | undefined>;

function need(v: Values, key: string): string {
  const x = v[key];
  if (typeof x !== 'string' || x === '') throw new ParamsError(`--${key} is required\n${USAGE}`);
  return x;
}

function seedOf(v: Values): bigint {
  const raw = (v.seed as string | undefined) ?? (process.env.WEST_RAND64 || undefined);
  if (raw === undefined) throw new ParamsError('no seed: pass --seed N or run under westream/WESTPA, which set $WEST_RAND64');
  if (!/^\d+$/.test(raw)) throw new ParamsError(`seed '${raw}' is not a non-negative integer`);
  return BigInt(raw);
}

function engineOf(v: Values): Engine {
  const input = need(v, 'input');
  let text: string;
  try {
    text = readFileSync(input, 'utf8');
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

function main(argv: string[]): void {
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
    },
  });
  const v = values as Values;
  const engine = engineOf(v);
  const { system, params } = engine;
  const restart = (): ReturnType<typeof readRestart> => readRestart(need(v, 'restart'), params.system, system.dim, system.nAtoms);
  switch (cmd) {
    case 'run': {
      const state = restart();
      const pc = runSegment(engine, state, seedOf(v));
      writeRestart(need(v, 'out-restart'), params.system, system.dim, state);
      writeFileSync(need(v, 'out-pcoord'), fmt(pc));
      return;
    }
    case 'init': {
      const s = Number(need(v, 'pcoord'));
      if (!Number.isFinite(s)) throw new ParamsError(`--pcoord '${String(v.pcoord)}' is not a number`);
      writeRestart(need(v, 'out'), params.system, system.dim, basisState(engine, s, seedOf(v)));
      return;
    }
    case 'pcoord':
      process.stdout.write(`${system.pcoord(restart().x)}\n`);
      return;
    case 'mfpt': {
      const { times, steps } = firstPassageTimes(engine, restart(), seedOf(v), {
        target: Number(need(v, 'target')),
        events: Number(v.events ?? 100),
        checkEvery: Number(v['check-every'] ?? 1),
        maxSteps: Number(v['max-steps'] ?? 1e9),
      });
      process.stdout.write(JSON.stringify({ times, steps, dt: params.dt }) + '\n');
      return;
    }
    default:
      throw new ParamsError(`unknown command '${cmd ?? ''}'\n${USAGE}`);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof ParamsError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') || e instanceof RangeError) {
    process.stderr.write(`westream-toy-md: ${(e as Error).message}\n`);
    process.exitCode = 2;
  } else throw e;
}
