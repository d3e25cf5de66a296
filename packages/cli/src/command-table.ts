/**
 * The command line as data: one table per command gives its options, their value names, defaults and help.
 * Parsing (node:util parseArgs), `--help`, `westream help CMD` and the suggestion for a mistyped option all come
 * from that one table, so the help cannot drift from what is accepted.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './exit-codes.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's name in the help (FILE, N, URL…); string options only. */
  readonly value?: string;
  /** What the help shows as the default, when there is one. */
  readonly default?: string;
  readonly help: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec {
  /** One line: what the command does (and its WESTPA counterpart). */
  readonly summary: string;
  /** Optional paragraph printed under the usage line of the command's own help. */
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly positionals?: readonly PositionalSpec[];
  run(values: Values, positionals: string[]): void | Promise<void | number>;
}

/** Every command takes --help; it is not listed in each table. */
const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' };

function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}`;
  return o.type === 'string' ? `${flag} ${o.value ?? 'VALUE'}` : flag;
}

/** `westream NAME --help`. */
export function commandHelp(name: string, c: CommandSpec): string {
  const pos = (c.positionals ?? []).map((p) => ` [${p.name}]`).join('');
  const options = { ...c.options, help: HELP_OPTION };
  const rows = Object.entries(options).map(([n, o]) => {
    const extra = [o.multiple ? 'repeatable' : '', o.default !== undefined ? `default: ${o.default}` : ''].filter(Boolean).join('; ');
    return [optionLabel(n, o), extra ? `${o.help} (${extra})` : o.help] as const;
  });
  const posRows = (c.positionals ?? []).map((p) => [`    ${p.name}`, p.help] as const);
  const width = Math.max(...[...rows, ...posRows].map(([l]) => l.length)) + 2;
  const fmt = (r: readonly [string, string]): string => `  ${r[0].padEnd(width)}${r[1]}`;
  return [
    `usage: westream ${name} [options]${pos}`,
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    ...(posRows.length > 0 ? ['', 'arguments:', ...posRows.map(fmt)] : []),
    '',
    'options:',
    ...rows.map(fmt),
    '',
  ].join('\n');
}

/** `westream --help`: every command with its summary. */
export function overviewHelp(commands: Readonly<Record<string, CommandSpec>>): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 3;
  return [
    'usage: westream <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`),
    '',
    "'westream help COMMAND' or 'westream COMMAND --help' lists a command's options with their defaults.",
    'The sim root is the current directory, as in WESTPA; --config defaults to west.yaml, else west.cfg.',
    "'westream --version' prints the version (the one west.h5 records).",
    '',
  ].join('\n');
}

/** Parses `args` against the command's table; a wrong option is a UsageError that suggests the nearest one. */
export function parseCommand(name: string, c: CommandSpec, args: string[]): { values: Values; positionals: string[]; help: boolean } {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [n, o] of Object.entries({ ...c.options, help: HELP_OPTION })) {
    options[n] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  const maxPositionals = c.positionals?.length ?? 0;
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: maxPositionals > 0 }) as { values: Values; positionals: string[] };
  } catch (e) {
    const message = (e as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    const hint = unknown ? nearestOption(unknown, Object.keys(options)) : undefined;
    throw new UsageError(`westream ${name}: ${message}${hint ? `. Did you mean --${hint}?` : ''}\n'westream ${name} --help' lists its options.`);
  }
  if (parsed.values.help === true) return { ...parsed, help: true };
  if (parsed.positionals.length > maxPositionals)
    throw new UsageError(`westream ${name}: unexpected argument '${parsed.positionals[maxPositionals]}'\n'westream ${name} --help' lists what it takes.`);
  return { ...parsed, help: false };
}

/** The option closest to a mistyped one (edit distance ≤ 3, or a prefix of one), if any. */
export function nearestOption(typed: string, names: readonly string[]): string | undefined {
  const t = typed.replace(/^-+/, '').split('=')[0] ?? '';
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = n.startsWith(t) && t.length >= 2 ? 0.5 : editDistance(t, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return bestD <= Math.min(3, Math.max(1, Math.floor(t.length / 2))) ? best : undefined;
}

export function nearestCommand(typed: string, names: readonly string[]): string | undefined {
  return nearestOption(typed, names);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number;
      row[j] = Math.min(up + 1, (row[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] as number;
}
