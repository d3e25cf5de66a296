/** One problem found in a config file, located at its YAML node. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (e.g. a missing top-level key in an empty file). */
  readonly line: number;
  readonly col: number;
  /** Dotted key path, e.g. `west.system.system_options.pcoord_len`. */
  readonly path: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** `file:line:col: path: message`, the shape compilers and editors understand. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  const tag = issue.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${tag}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/** The config could not be loaded; `issues` holds one entry per problem. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_ERR_INVALID';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Describes a value for "found …" in messages: its JSON text (short) and its YAML type. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'a mapping';
  let text = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  const kind = typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  return `${text} (${kind})`;
}
