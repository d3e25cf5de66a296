/** Builds throwaway sim roots from the demo (or a given west.yaml) and runs the real `westream` command in them. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { track } from './processes.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const WESTREAM = join(REPO, 'packages/cli/bin/westream.js');
export const TOY_MD = join(REPO, 'packages/toy-md/bin/westream-toy-md.js');

/**
 * A sim root for the scenario tests: the toy example's scripts, states and restart files with the west.yaml and
 * md.in of test/fixtures/toy (the earlier demo: 6 kT, τ = 0.5, 11 pcoord points, 3 walkers per bin), so the
 * scenarios' segment counts, seeds and timings do not move when the demo is retuned. `edit` rewrites west.yaml's
 * text, `md` md.in's.
 */
export function demoSimDir(edit: (yaml: string) => string = (y) => y, md: (text: string) => string = (t) => t): string {
  return simDirFrom(join(REPO, 'test/fixtures/toy'), edit, md);
}

/** A sim root holding config/examples/toy exactly as the demo runs it (tests about the demo itself). */
export function toyExampleDir(edit: (yaml: string) => string = (y) => y, md: (text: string) => string = (t) => t): string {
  return simDirFrom(join(REPO, 'config/examples/toy'), edit, md);
}

function simDirFrom(configDir: string, edit: (yaml: string) => string, md: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-test-'));
  for (const f of ['bstates.txt', 'tstates.txt', 'bstates']) cpSync(join(REPO, 'config/examples/toy', f), join(dir, f), { recursive: true });
  for (const f of ['west.yaml', 'md.in']) cpSync(join(configDir, f), join(dir, f));
  cpSync(join(REPO, 'westpa-scripts/toy'), join(dir, 'westpa_scripts'), { recursive: true });
  writeFileSync(join(dir, 'west.yaml'), edit(readFileSync(join(dir, 'west.yaml'), 'utf8')));
  writeFileSync(join(dir, 'md.in'), md(readFileSync(join(dir, 'md.in'), 'utf8')));
  return dir;
}

/**
 * Makes the sim root's runseg.sh sleep $SEG_SLEEP seconds before each segment (so a test can break something
 * mid-segment), only in iterations up to $SEG_SLEEP_ITERS when that is set: later iterations run at full speed.
 */
export function slowSegments(dir: string, runseg = 'westpa_scripts/runseg.sh'): void {
  const p = join(dir, runseg);
  const sleep = 'if [ -z "${SEG_SLEEP_ITERS:-}" ] || [ "$WEST_CURRENT_ITER" -le "$SEG_SLEEP_ITERS" ]; then sleep "${SEG_SLEEP:-0}"; fi\n';
  writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', `set -euo pipefail\n${sleep}`));
  chmodSync(p, 0o755);
}

/** Writes an executable script into the sim root. */
export function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/bash\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of every westream a test starts. The REST API is off (WESTREAM_API=off) unless a test asks
 * for it: many runs at once would otherwise compete for the default port, and only the first would get it.
 */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, ...toyMdEnv(), CI: '', WESTREAM_API: 'off', ...extra });

/** The client of the test run's resident toy engine (test/support/toy-md-global-setup.ts). */
export const TOY_MD_CLIENT = join(REPO, 'test/support/toy-md-client.sh');

/**
 * $TOY_MD for a segment's runseg.sh: the resident engine's client when the run has one (it runs short plain
 * commands in the resident engine and everything else in the real one), else the real engine.
 */
export function toyMdEnv(): Record<string, string> {
  const port = inject('toyMdPort');
  return port ? { TOY_MD: TOY_MD_CLIENT, WESTREAM_TEST_TOY_MD_PORT: String(port) } : { TOY_MD };
}

/** Runs `westream …` in `cwd` to completion. */
export function westream(cwd: string, args: string[], extra: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [WESTREAM, ...args], { cwd, env: childEnv(extra), encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `westream …` in `cwd` without waiting. */
export function westreamAsync(cwd: string, args: string[], extra: Record<string, string> = {}): ReturnType<typeof spawn> {
  return track(spawn(process.execPath, [WESTREAM, ...args], { cwd, env: childEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * Runs `westream …` to completion without blocking this process: use it while this process also reads other
 * children's output (worker daemons), whose pipes would otherwise fill and block them.
 */
export function westreamRun(cwd: string, args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const child = westreamAsync(cwd, args, extra);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs Python code with the arguments; returns stdout (throws with stderr on failure). */
export function python(code: string, args: string[] = [], cwd?: string): string {
  const r = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8', cwd });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** `python` without blocking this process (for tests that run trials side by side). */
export function pythonAsync(code: string, args: string[] = [], cwd?: string): Promise<string> {
  const child = spawn('python3', ['-c', code, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) =>
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`python failed (${code}):\n${stderr}`)))),
  );
}

/**
 * A sim root holding the streaming example (config/examples/toy-stream + westpa-scripts/toy-stream), its
 * `config` (west.yaml: the builtin pcoord; west-mdanalysis.yaml: the Python program) edited and named west.yaml.
 */
export function streamSimDir(edit: (yaml: string) => string = (y) => y, config = 'west.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-stream-'));
  cpSync(join(REPO, 'config/examples/toy-stream'), dir, { recursive: true });
  cpSync(join(REPO, 'westpa-scripts/toy-stream'), join(dir, 'westpa_scripts'), { recursive: true });
  writeFileSync(join(dir, 'west.yaml'), edit(readFileSync(join(dir, config), 'utf8')));
  return dir;
}

/**
 * A sim root made by `westream example NAME DIR`, as a user makes one: its directory and the commands the
 * example prints to run it. `edit` changes the example's west.cfg / west.yaml first (shorter runs in tests).
 */
export function exampleSimDir(name: string, edit?: (config: string) => string): { dir: string; commands: string[] } {
  const dir = join(mkdtempSync(join(tmpdir(), `westream-example-${name}-`)), 'sim');
  const r = westream(tmpdir(), ['example', name, dir]);
  if (r.code !== 0) throw new Error(`westream example ${name} ${dir}: exit ${r.code}\n${r.stderr}`);
  const printed = r.stdout.split('run it:\n')[1] ?? '';
  const commands = printed
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('westream '));
  if (edit) {
    const config = ['west.cfg', 'west.yaml'].map((f) => join(dir, f)).find((f) => existsSync(f)) as string;
    writeFileSync(config, edit(readFileSync(config, 'utf8')));
  }
  return { dir, commands };
}

/** Runs printed `westream …` commands in `dir`, one after another; throws with the output of one that fails. */
export function runPrinted(dir: string, commands: readonly string[], extra: Record<string, string> = {}): CliResult[] {
  return commands.map((c) => {
    const [first, ...args] = c.split(/\s+/);
    if (first !== 'westream') throw new Error(`not a westream command: ${c}`);
    const r = westream(dir, args, extra);
    if (r.code !== 0) throw new Error(`'${c}' in ${dir}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    return r;
  });
}

/** `runPrinted` without blocking this process: for a run that goes on while other work (another run) does. */
export async function runPrintedAsync(dir: string, commands: readonly string[], extra: Record<string, string> = {}): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (const c of commands) {
    const [first, ...args] = c.split(/\s+/);
    if (first !== 'westream') throw new Error(`not a westream command: ${c}`);
    const r = await westreamRun(dir, args, extra);
    if (r.code !== 0) throw new Error(`'${c}' in ${dir}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    results.push(r);
  }
  return results;
}

/** pcoord of every iteration of a west.h5 (h5py, as WESTPA's tools read it): {n_iter: [[[value]]]}. */
export function pcoordsOf(dir: string): Record<string, number[][][]> {
  return JSON.parse(
    python(
      `import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
print(json.dumps({k[5:].lstrip('0'): f['iterations'][k]['pcoord'][:].tolist() for k in f['iterations']}))`,
      [join(dir, 'west.h5')],
    ),
  ) as Record<string, number[][][]>;
}

/**
 * `westream run …` in the background with its REST API on a free port (`--api 0`: the host is the default
 * one): the API's base URL once it listens.
 */
export async function runWithApi(
  cwd: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ base: string; out: () => string; closed: Promise<number | null> }> {
  const child = westreamAsync(cwd, ['run', ...args, '--api', '0'], extra);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const closed = new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  // Generous: test files run side by side on 2 cores, and Node + h5wasm start-up under load took over 30 s.
  const end = Date.now() + 120_000;
  for (;;) {
    const m = /REST API on (http:\/\/\S+) /.exec(out);
    if (m) return { base: m[1] as string, out: () => out, closed };
    if (Date.now() > end || child.exitCode !== null) throw new Error(`no REST API address from westream run:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
