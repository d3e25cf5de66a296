/**
 * The `westream` command. Each subcommand lives in `command-<name>.ts`; this file only parses flags and
 * turns errors into exit codes: a user's mistake prints its message and exits 2, never a stack trace.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@westream/config';
import { commandCheck } from './command-check.js';
import { commandExample } from './command-example.js';
import { commandInit } from './command-init.js';
import { commandRun } from './command-run.js';
import { commandSchema } from './command-schema.js';
import { commandServe } from './command-serve.js';
import { commandStatus } from './command-status.js';
import { commandStatusLive } from './command-status-live.js';
import { commandTruncate } from './command-truncate.js';
import { commandWorker } from './command-worker.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { PropagationError, ReturnFileError } from '@westream/propagator';
import { RunHalted, StateSpecError } from '@westream/sim-manager';
import { DiskFullError, StoreError } from '@westream/store';
import { ConsistencyError } from '@westream/we';

const USAGE = `usage: westream <command> [options]

commands:
  init     [--bstate L,P[,AUX]]... [--bstates-from F]... [--tstate L,X...]... [--tstates-from F]...
           [--segs-per-state N] [--force]         create west.h5 and iteration 1 (like w_init)
  run      [--work-manager local|bullmq] [--slots N] [--redis URL] [--api HOST:PORT|off] [--api-token T]
                                                   run WE iterations (like w_run); Ctrl-C stops, run resumes
  worker   --redis URL [--node-id ID] [--slots N] [--gpus 0,1] [--state-dir DIR] [--lock-duration S] [--heartbeat S]
                                                   a node's daemon for the bullmq work manager
  serve    [--api HOST:PORT]                       the REST API and dashboard on a run's record (no run)
  status   [--json]                                the run as west.h5 records it
           --url URL [--json] [--watch]            a running sim-manager, through its REST API
  truncate -n N                                    delete iterations >= N (like w_truncate)
  check    [--json]                                validate the config and print it normalized
  schema   [--markdown] [--out FILE | --check FILE] JSON Schema of west.yaml (for editors), or its reference
  example  [NAME DIR]                              list the worked examples, or make a sim root from one

Every command but worker and example takes --config FILE.

The sim root is the current directory, as in WESTPA; --config defaults to west.yaml, else west.cfg.
`;

type Values = Record<string, string | boolean | string[] | undefined>;

interface Command {
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments the command takes (none unless said). */
  readonly positionals?: number;
  run(values: Values, positionals: string[]): void | Promise<void | number>;
}

const commands: Record<string, Command> = {
  check: {
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    run: (v) => commandCheck({ config: configPath(v.config), json: v.json === true }, process.stdout, process.stderr),
  },
  schema: {
    options: { out: { type: 'string' }, check: { type: 'string' }, markdown: { type: 'boolean' } },
    run: (v) => commandSchema({ out: str(v.out), check: str(v.check), markdown: v.markdown === true }, process.stdout),
  },
  example: {
    options: {},
    positionals: 2,
    run: (_v, [name, dir]) => commandExample({ name, dir }, process.stdout),
  },
  init: {
    options: {
      config: { type: 'string', short: 'c' },
      bstate: { type: 'string', multiple: true },
      'bstates-from': { type: 'string', multiple: true },
      tstate: { type: 'string', multiple: true },
      'tstates-from': { type: 'string', multiple: true },
      'segs-per-state': { type: 'string' },
      force: { type: 'boolean' },
    },
    run: (v) =>
      commandInit(
        {
          config: configPath(v.config),
          bstate: list(v.bstate),
          bstatesFrom: list(v['bstates-from']),
          tstate: list(v.tstate),
          tstatesFrom: list(v['tstates-from']),
          segsPerState: str(v['segs-per-state']),
          force: v.force === true,
        },
        process.stdout,
        process.stderr,
      ),
  },
  run: {
    options: { config: { type: 'string', short: 'c' }, 'work-manager': { type: 'string' }, slots: { type: 'string' }, redis: { type: 'string' }, api: { type: 'string' }, 'api-token': { type: 'string' } },
    run: async (v) => {
      const s = await commandRun({ config: configPath(v.config), workManager: str(v['work-manager']), slots: str(v.slots), redis: str(v.redis), api: str(v.api), apiToken: str(v['api-token']) });
      return s.reason === 'stopped' ? ExitCode.STOPPED : ExitCode.OK;
    },
  },
  worker: {
    options: { redis: { type: 'string' }, 'node-id': { type: 'string' }, slots: { type: 'string' }, gpus: { type: 'string' }, 'state-dir': { type: 'string' }, 'lock-duration': { type: 'string' }, heartbeat: { type: 'string' } },
    run: (v) => commandWorker({ redis: str(v.redis), nodeId: str(v['node-id']), slots: str(v.slots), gpus: str(v.gpus), stateDir: str(v['state-dir']), lockDuration: str(v['lock-duration']), heartbeat: str(v.heartbeat) }),
  },
  status: {
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, url: { type: 'string' }, watch: { type: 'boolean' } },
    run: (v) => {
      const url = str(v.url) ?? process.env.WESTREAM_URL;
      if (url) return commandStatusLive({ url, json: v.json === true, watch: v.watch === true }, process.stdout);
      if (v.watch === true) throw new UsageError('status --watch needs --url (a running sim-manager\'s API, e.g. http://127.0.0.1:8080)');
      return commandStatus({ config: configPath(v.config), json: v.json === true }, process.stdout);
    },
  },
  serve: {
    options: { config: { type: 'string', short: 'c' }, api: { type: 'string' } },
    run: (v) => commandServe({ config: configPath(v.config), api: str(v.api) }, process.stdout),
  },
  truncate: {
    options: { config: { type: 'string', short: 'c' }, n: { type: 'string', short: 'n' } },
    run: (v) => commandTruncate({ config: configPath(v.config), n: str(v.n) }, process.stdout),
  },
};

function str(v: string | boolean | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function list(v: string | boolean | string[] | undefined): string[] {
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** WESTPA's default is west.cfg; westream's demo uses west.yaml. Take whichever exists. */
function configPath(flag: string | boolean | string[] | undefined): string {
  if (typeof flag === 'string') return flag;
  return process.env.WESTREAM_CONFIG ?? (existsSync('west.yaml') ? 'west.yaml' : existsSync('west.cfg') ? 'west.cfg' : 'west.yaml');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  const command = commands[name];
  try {
    if (!command) throw new UsageError(`unknown command '${name}'\n\n${USAGE}`);
    let values: Values;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: (command.positionals ?? 0) > 0 }) as { values: Values; positionals: string[] });
    } catch (e) {
      throw new UsageError(`westream ${name}: ${(e as Error).message}`);
    }
    if (positionals.length > (command.positionals ?? 0)) throw new UsageError(`westream ${name}: unexpected argument '${positionals[command.positionals ?? 0]}'`);
    const code = await command.run(values, positionals);
    return typeof code === 'number' ? code : ExitCode.OK;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n${e.issues.filter((i) => i.severity === 'error').length} problem(s); nothing was run.\n`);
      return ExitCode.USAGE;
    }
    if (e instanceof RunHalted) {
      process.stderr.write(`westream: ${e.message}\n`);
      return ExitCode.HALTED;
    }
    if (e instanceof DiskFullError) {
      process.stderr.write(`westream: ${e.message}\n`);
      return ExitCode.DISK_FULL;
    }
    const errno = e as NodeJS.ErrnoException;
    if (errno.code === 'ENOSPC' || errno.code === 'EDQUOT') {
      // Anything else a full disk stops (a results journal, a segment's directory): west.h5 is untouched by it.
      process.stderr.write(`westream: disk full: ${errno.message}; free space ${errno.path ? `at ${dirname(errno.path)}` : 'where `df` shows a full file system (the sim root, its .westream, west.h5\'s directory)'}, then \`westream run\` resumes\n`);
      return ExitCode.DISK_FULL;
    }
    if (e instanceof UsageError || e instanceof StateSpecError || e instanceof StoreError || e instanceof PropagationError || e instanceof ReturnFileError || e instanceof ConsistencyError) {
      process.stderr.write(`${e.message}\n`);
      return ExitCode.USAGE;
    }
    process.stderr.write(`westream: internal error (please report it):\n${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.INTERNAL;
  }
}

process.exitCode = await main(process.argv.slice(2));
// A command has finished once main returns. Should a connection to a Redis that went away still be retrying
// (a library's timer), leave anyway rather than hang: unref'd, this timer alone never keeps the process up.
setTimeout(() => process.exit(), 1000).unref();
