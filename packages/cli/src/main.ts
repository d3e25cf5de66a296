/**
 * The `westream` command. Each subcommand lives in `command-<name>.ts`, its options in the table of
 * commands.ts; this file dispatches, answers help, and turns errors into exit codes: a user's mistake prints its message and exits 2, never a stack trace.
 */
import { dirname } from 'node:path';
import { WESTREAM_VERSION } from '@westream/store/version';
import { commandHelp, nearestCommand, overviewHelp, parseCommand } from './command-table.js';
import { commands } from './commands.js';
import { catalogued } from './error-catalogue.js';
import { ExitCode, UsageError } from './exit-codes.js';

function unknownCommand(name: string): string {
  const near = nearestCommand(name, [...Object.keys(commands), 'help']);
  return `unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}\n'westream --help' lists the commands.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help') {
    process.stdout.write(overviewHelp(commands));
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  if (name === '--version' || name === '-V') {
    // The same version west.h5 records in its west_version attribute.
    process.stdout.write(`westream ${WESTREAM_VERSION}\n`);
    return ExitCode.OK;
  }
  try {
    if (name === 'help') {
      const [topic] = rest;
      const c = topic === undefined ? undefined : commands[topic];
      if (topic !== undefined && !c) throw new UsageError(unknownCommand(topic));
      process.stdout.write(c && topic ? commandHelp(topic, c) : overviewHelp(commands));
      return ExitCode.OK;
    }
    const command = commands[name];
    if (!command) throw new UsageError(unknownCommand(name));
    const { values, positionals, help } = parseCommand(name, command, rest);
    if (help) {
      process.stdout.write(commandHelp(name, command));
      return ExitCode.OK;
    }
    const code = await command.run(values, positionals);
    return typeof code === 'number' ? code : ExitCode.OK;
  } catch (e) {
    const errno = e as NodeJS.ErrnoException;
    if (errno.code === 'ENOSPC' || errno.code === 'EDQUOT') {
      // Anything else a full disk stops (a results journal, a segment's directory): west.h5 is untouched by it.
      process.stderr.write(
        `westream: disk full: ${errno.message}; free space ${errno.path ? `at ${dirname(errno.path)}` : "where `df` shows a full file system (the sim root, its .westream, west.h5's directory)"}, then \`westream run\` resumes\n`,
      );
      return ExitCode.DISK_FULL;
    }
    const known = catalogued(e);
    if (!known || known.exit === null) {
      process.stderr.write(`westream: internal error (please report it):\n${(e as Error).stack ?? String(e)}\n`);
      return ExitCode.INTERNAL;
    }
    const message = (e as Error).message;
    if (known.code === 'CONFIG_ERR_INVALID') {
      const issues = (e as { issues?: readonly { severity: string }[] }).issues ?? [];
      process.stderr.write(`${message}\n${issues.filter((i) => i.severity === 'error').length} problem(s); nothing was run.\n`);
    } else process.stderr.write(known.exit === ExitCode.USAGE ? `${message}\n` : `westream: ${message}\n`);
    return known.exit;
  }
}

process.exitCode = await main(process.argv.slice(2));
// A command has finished once main returns. Should a connection to a Redis that went away still be retrying
// (a library's timer), leave anyway rather than hang: unref'd, this timer alone never keeps the process up.
setTimeout(() => process.exit(), 1000).unref();
