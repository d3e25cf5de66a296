/**
 * The user's system (west.system.driver + system_options, built by westpa's own run control): its pcoord
 * shape and dtype, bin target counts, and the bin mapper — as westream's native spec where westream has the
 * mapper natively, else as `{type: 'python'}` (assignment then goes through a helper).
 */
import { spawnSync } from 'node:child_process';
import { BridgeError, fromWire, noPython, noWestpa, type WireError } from './bridge-error.js';
import { encodeFrame, FrameReader, type Frame, type WireArray } from './frames.js';
import { HELPER_MODULE, type InterpreterChoice } from './interpreter.js';
import { PROTOCOL, type PythonBridge } from './python-bridge.js';

export type MapperWire =
  | { readonly type: 'RectilinearBinMapper'; readonly boundaries: number[][] }
  | { readonly type: 'RecursiveBinMapper'; readonly base: MapperWire; readonly mappers: { readonly mapper: MapperWire; readonly at: number[] }[] }
  | { readonly type: 'python'; readonly class: string; readonly nbins: number }
  /** WESTPA's MABBinMapper or BinlessMapper, with the keyword arguments it was built with (checked by the config). */
  | { readonly type: 'MABBinMapper' | 'BinlessMapper'; readonly options: Readonly<Record<string, unknown>> };

export interface PythonSystem {
  readonly pcoordNdim: number;
  readonly pcoordLen: number;
  readonly pcoordDtype: string;
  readonly nbins: number;
  readonly mapper: MapperWire;
  readonly binTargetCounts: number[];
  readonly labels: string[];
}

type RawMapper =
  | { type: 'RectilinearBinMapper'; boundaries: number[] }
  | { type: 'RecursiveBinMapper'; base: RawMapper; mappers: { mapper: RawMapper; at: number[] }[] }
  | { type: 'python'; class: string; nbins: number }
  | { type: 'MABBinMapper' | 'BinlessMapper' };

function resolveMapper(m: RawMapper, arrays: readonly WireArray[]): MapperWire {
  if (m.type === 'RectilinearBinMapper') return { type: m.type, boundaries: m.boundaries.map((i) => Array.from(arrays[i]?.data as Float64Array)) };
  if (m.type === 'RecursiveBinMapper')
    return { type: m.type, base: resolveMapper(m.base, arrays), mappers: m.mappers.map((c) => ({ mapper: resolveMapper(c.mapper, arrays), at: c.at })) };
  if (m.type === 'python') return { type: 'python', class: m.class, nbins: m.nbins };
  return { type: m.type, options: m };
}

function fromReply(f: Frame): PythonSystem {
  const h = f.header as { pcoord_ndim: number; pcoord_len: number; pcoord_dtype: string; nbins: number; mapper: RawMapper; labels: string[] };
  const counts = f.arrays[f.arrays.length - 1];
  return {
    pcoordNdim: h.pcoord_ndim,
    pcoordLen: h.pcoord_len,
    pcoordDtype: h.pcoord_dtype,
    nbins: h.nbins,
    mapper: resolveMapper(h.mapper, f.arrays),
    binTargetCounts: counts ? Array.from(counts.data as Float64Array) : [],
    labels: h.labels,
  };
}

/** The system, from a running helper (which then holds the mapper for assignment). */
export async function describeSystem(bridge: PythonBridge): Promise<PythonSystem> {
  return fromReply(await bridge.request('system'));
}

export interface SyncOptions {
  readonly python: InterpreterChoice;
  readonly simRoot: string;
  readonly configFile: string;
  readonly modulePath?: readonly string[];
  readonly purpose: string;
}

/**
 * The same in one short-lived helper, synchronously: the config loader needs the system before anything
 * runs. The helper reads the two requests, answers, sees EOF and exits.
 */
export function describeSystemSync(o: SyncOptions): PythonSystem {
  const input = Buffer.concat([
    encodeFrame({ id: 1, op: 'init', config_file: o.configFile, sim_root: o.simRoot, module_path: o.modulePath ?? [] }),
    encodeFrame({ id: 2, op: 'system' }),
  ]);
  const r = spawnSync(o.python.command, ['-u', HELPER_MODULE], {
    cwd: o.simRoot,
    env: { ...process.env, WEST_SIM_ROOT: o.simRoot, PYTHONDONTWRITEBYTECODE: '1' },
    input,
    maxBuffer: 1 << 30,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw noPython(o.python, code === 'ENOENT' ? 'was not found' : `could not be started (${code ?? r.error.message})`, o.purpose);
  }
  let frames: Frame[];
  try {
    frames = FrameReader.all(r.stdout);
  } catch (e) {
    throw new BridgeError('protocol', `the Python helper for ${o.purpose} sent a malformed frame (${(e as Error).message})`);
  }
  const [hello, init, system] = frames;
  const stderr = r.stderr.toString('utf8').trimEnd();
  if (!hello) {
    throw noPython(
      o.python,
      `did not run westream's helper (exit ${r.status ?? r.signal}${stderr ? `: ${stderr.split('\n').slice(-3).join(' / ')}` : ''})`,
      o.purpose,
    );
  }
  if (hello.header.ok !== true) throw noWestpa(o.python, ((hello.header.error ?? {}) as WireError).message ?? 'unknown', o.purpose);
  if (hello.header.protocol !== PROTOCOL)
    throw new BridgeError('protocol', `the Python helper speaks protocol ${String(hello.header.protocol)}, this westream ${PROTOCOL}; reinstall westream`);
  for (const f of [init, system]) {
    if (!f) throw new BridgeError('died', `the Python helper for ${o.purpose} ended early (exit ${r.status ?? r.signal})${stderr ? `:\n${stderr}` : ''}`);
    if (f.header.ok !== true) throw fromWire(f.header.error ?? {}, o.python);
  }
  return fromReply(system as Frame);
}
