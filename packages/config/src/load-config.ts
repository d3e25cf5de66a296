import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compileConfig, type CompileProblem, type WestConfig } from './compile-config.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { WestYamlSchema, type WestYaml } from './schema.js';
import { validateShape } from './validate-shape.js';
import { PythonName, YamlSource } from './yaml-source.js';

export interface LoadedConfig {
  readonly config: WestConfig;
  /** Problems that do not stop a run (unknown keys, ignored WESTPA sections), located in the file. */
  readonly warnings: ConfigIssue[];
}

/** Reads and checks a config file; throws ConfigError listing every problem (file:line:col, key path). */
export function loadConfig(file: string): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file; pass --config PATH or run in the simulation directory'
        : code === 'EISDIR'
          ? 'is a directory, not a config file'
          : `cannot be read (${code ?? String(e)})`;
    throw new ConfigError([{ file, line: 0, col: 0, path: '', message: why, severity: 'error' }]);
  }
  return loadConfigText(text, file, abs);
}

/** Checks config text; `file` is the name used in messages. */
export function loadConfigText(text: string, file: string, absPath = resolve(file)): LoadedConfig {
  const src = new YamlSource(file, text);
  const at = (path: readonly (string | number)[], message: string, severity: 'error' | 'warning'): ConfigIssue => {
    const { line, col } = src.locate(path);
    return { file, line, col, path: path.join('.'), message, severity };
  };
  if (src.syntaxErrors.length) {
    throw new ConfigError(
      src.syntaxErrors.map((e) => ({ file, line: e.line, col: e.col, path: '', message: `YAML syntax: ${e.message}`, severity: 'error' as const })),
    );
  }
  const issues: ConfigIssue[] = src.tagErrors.map((t) =>
    at(t.path, `the tag !!${t.tag.replace('tag:yaml.org,2002:', '')} runs Python code; only !!python/name:numpy.float32/float64 is understood here`, 'error'),
  );
  for (const d of src.duplicateKeys) {
    issues.push(
      at(
        d.path,
        `given twice (lines ${d.firstLine} and ${d.line}); like PyYAML (WESTPA's reader), the last one (line ${d.line}) is used: delete the other`,
        'warning',
      ),
    );
  }
  if (src.value === null || typeof src.value !== 'object' || Array.isArray(src.value)) {
    throw new ConfigError([
      { file, line: 1, col: 1, path: '', message: 'expected a mapping with a top-level "west:" key; is this a west.cfg?', severity: 'error' },
    ]);
  }
  const value = plainValues(src.value);
  const tagged = new Set(src.tagErrors.map((t) => t.path.join('.')));
  for (const p of validateShape(WestYamlSchema, value)) {
    if (!tagged.has(p.path.join('.'))) issues.push(at(p.path, p.message, p.severity)); // the tag error says it already
  }
  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(sortIssues(issues));

  const problems: CompileProblem[] = [];
  const config = compileConfig(value as WestYaml, src, absPath, problems);
  for (const p of problems) issues.push(at(p.path, p.message, p.severity));
  if (!config || issues.some((i) => i.severity === 'error')) throw new ConfigError(sortIssues(issues));
  return { config, warnings: sortIssues(issues) };
}

/** `!!python/name:numpy.float32` becomes the string `numpy.float32` for the schema check. */
function plainValues(v: unknown): unknown {
  if (v instanceof PythonName) return v.name;
  if (Array.isArray(v)) return v.map(plainValues);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValues(x)]));
  return v;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}
