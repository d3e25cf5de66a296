/**
 * The `westream` command. Each subcommand lives in `command-<name>.ts`; this file only parses flags and
 * turns errors into exit codes: a user's mistake prints its message and exits 2, never a stack trace.
 */
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@westream/config';
import { commandCheck } from './command-check.js';
import { commandSchema } from './command-schema.js';
import { ExitCode, UsageError } from './exit-codes.js';

const USAGE = `usage: westream <command> [options]

commands:
  check   [--config west.yaml] [--json]   validate the config and print it normalized
  schema  [--out FILE | --check FILE]     JSON Schema of west.yaml, for editors

The sim root is the current directory, as in WESTPA; --config defaults to west.yaml, else west.cfg.
`;

interface Command {
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>): void | Promise<void>;
}

const commands: Record<string, Command> = {
  check: {
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    run: (v) => commandCheck({ config: configPath(v.config), json: v.json === true }, process.stdout, process.stderr),
  },
  schema: {
    options: { out: { type: 'string' }, check: { type: 'string' } },
    run: (v) => commandSchema({ out: str(v.out), check: str(v.check) }, process.stdout),
  },
};

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** WESTPA's default is west.cfg; westream's demo uses west.yaml. Take whichever exists. */
function configPath(flag: string | boolean | undefined): string {
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
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
    } catch (e) {
      throw new UsageError(`westream ${name}: ${(e as Error).message}`);
    }
    await command.run(values);
    return ExitCode.OK;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n${e.issues.filter((i) => i.severity === 'error').length} problem(s); nothing was run.\n`);
      return ExitCode.USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return ExitCode.USAGE;
    }
    process.stderr.write(`westream: internal error (please report it):\n${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.INTERNAL;
  }
}

process.exitCode = await main(process.argv.slice(2));
