/** Helpers shared by the config compilers: paths, templates, wall-clock values, environments. */
import { describeFound } from './config-error.js';
import { parseTemplate, TemplateError } from './template.js';
import { parseWallclock } from './wallclock.js';
import type { YamlSource } from './yaml-source.js';

export type Path = (string | number)[];
export type Report = (path: Path, message: string) => void;

export const TEMPLATE_FIELDS: Record<string, readonly string[]> = {
  segment: ['n_iter', 'seg_id', 'weight', 'parent_id', 'status', 'endpoint_type'],
  basis_state: ['state_id', 'label', 'probability', 'auxref'],
  initial_state: ['state_id', 'iter_created', 'iter_used', 'basis_state_id', 'istate_type', 'istate_status', 'basis_auxref'],
  n_iter: [],
};

export function wallclock(
  value: number | string | null | undefined,
  path: Path,
  src: YamlSource,
  err: (p: Path, m: string) => void,
  warn: (p: Path, m: string) => void,
): number | null {
  if (value === undefined || value === null) return null;
  // PyYAML (YAML 1.1) reads an unquoted 1:30:00 as base 60; that equals HH:MM:SS, so read the source text.
  const source = src.sourceOf(path);
  const text = source?.text ?? String(value);
  if (/^\d+$/.test(text)) return Number(text);
  const seconds = parseWallclock(text);
  if (seconds === undefined) {
    err(path, `expected seconds, HH:MM:SS or DD:HH:MM:SS, found ${describeFound(text)}`);
    return null;
  }
  if (source && !source.quoted && text.split(':').length === 4) {
    warn(
      path,
      `WESTPA's YAML reader takes an unquoted ${text} as a base-60 number (${String(value)} s), not ${seconds} s; quote it so both read it as DD:HH:MM:SS`,
    );
  }
  return seconds;
}

export function checkTemplate(text: string, path: Path, err: (p: Path, m: string) => void): void {
  try {
    for (const part of parseTemplate(text)) {
      if (typeof part === 'string') continue;
      const attrs = TEMPLATE_FIELDS[part.root];
      if (!attrs) err(path, `unknown template field {${part.root}}; known: segment, basis_state, initial_state, n_iter`);
      else if (part.attr !== undefined && !attrs.includes(part.attr))
        err(path, `{${part.root}.${part.attr}}: ${part.root} has no '${part.attr}'; known: ${attrs.join(', ')}`);
      else if (part.attr === undefined && attrs.length > 0) err(path, `{${part.root}} needs an attribute, e.g. {${part.root}.${attrs[0]}}`);
    }
  } catch (e) {
    if (e instanceof TemplateError) err(path, `bad template '${text}': ${e.message}`);
    else throw e;
  }
}

export function environ(env: Readonly<Record<string, string | number | boolean | null>> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    // PyYAML gives Python values; WESTPA's str() turns True into "True"
    out[k] = v === null ? '' : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
  }
  return out;
}
