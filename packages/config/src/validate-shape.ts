import { Kind, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { describeFound } from './config-error.js';

/** A shape problem at a key path (positions are added by the caller, which has the YAML). */
export interface ShapeProblem {
  readonly path: (string | number)[];
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Checks `value` against `schema`: one problem per wrong key (type, range, missing), plus unknown keys. */
export function validateShape(schema: TSchema, value: unknown): ShapeProblem[] {
  const problems = typeProblems(schema, value, []);
  unknownKeys(schema, value, [], problems);
  return problems;
}

function typeProblems(schema: TSchema, value: unknown, prefix: (string | number)[]): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const seen = new Set<string>();
  for (const err of Value.Errors(schema, value)) {
    if (err.type === ValueErrorType.ObjectAdditionalProperties) continue; // reported by unknownKeys, with suggestions
    const path = [...prefix, ...pointerToPath(err.path)];
    const member = err.type === ValueErrorType.Union ? memberOfSameKind(err.schema, err.value) : undefined;
    if (member) {
      // e.g. `we:` is "a mapping or nothing" and holds a mapping: report what is wrong inside it
      const key = path.join('.');
      if (![...seen].some((s) => key === s || key.startsWith(`${s}.`))) {
        seen.add(key);
        problems.push(...typeProblems(member, err.value, path));
      }
      continue;
    }
    const key = path.join('.');
    // one message per key; skip errors below a key that already has one
    if ([...seen].some((s) => key === s || key.startsWith(`${s}.`))) continue;
    seen.add(key);
    const message =
      err.value === undefined ? `missing; expected ${describeSchema(err.schema)}` : `expected ${describeSchema(err.schema)}, found ${describeFound(err.value)}`;
    problems.push({ path, message, severity: 'error' });
  }
  return problems;
}

/** The one member of a union that has the value's own kind (mapping, list, …), if exactly one does. */
function memberOfSameKind(union: TSchema, value: unknown): TSchema | undefined {
  const kind = Array.isArray(value) ? ['Array'] : value !== null && typeof value === 'object' ? ['Object', 'Record'] : [];
  const members = ((union as { anyOf?: TSchema[] }).anyOf ?? []).filter((m) => kind.includes(m[Kind]));
  return members.length === 1 ? members[0] : undefined;
}

/** Words for what a schema accepts, e.g. "an integer ≥ 1" or "'local' or 'bullmq'". */
export function describeSchema(schema: TSchema): string {
  const s = schema as TSchema & Record<string, unknown>;
  switch (s[Kind]) {
    case 'Integer':
    case 'Number': {
      const base = s[Kind] === 'Integer' ? 'an integer' : 'a number';
      const bounds: string[] = [];
      if (typeof s.minimum === 'number') bounds.push(`≥ ${s.minimum}`);
      if (typeof s.exclusiveMinimum === 'number') bounds.push(`> ${s.exclusiveMinimum}`);
      if (typeof s.maximum === 'number') bounds.push(`≤ ${s.maximum}`);
      return bounds.length ? `${base} ${bounds.join(' and ')}` : base;
    }
    case 'String':
      if (typeof s.pattern === 'string') return `a string matching ${s.pattern}`;
      return typeof s.minLength === 'number' && s.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'nothing (empty)';
    case 'Literal':
      return JSON.stringify(s.const).replace(/"/g, "'");
    case 'Array': {
      const lo = typeof s.minItems === 'number' ? s.minItems : undefined;
      const hi = typeof s.maxItems === 'number' ? s.maxItems : undefined;
      const count = lo !== undefined && lo === hi ? `${lo} ` : lo !== undefined && lo > 1 ? `${lo} or more ` : '';
      return `a list of ${count}${plural(describeSchema(s.items as TSchema))}`;
    }
    case 'Object':
    case 'Record':
      return 'a mapping';
    case 'Union': {
      const parts = (s.anyOf as TSchema[]).filter((t) => t[Kind] !== 'Null').map(describeSchema);
      return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}` : (parts[0] ?? 'nothing');
    }
    default:
      return 'a value';
  }
}

function plural(desc: string): string {
  return desc.replace(/^an? (\w+)/, (_, w: string) => `${w}s`);
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function unknownKeys(schema: TSchema, value: unknown, path: (string | number)[], out: ShapeProblem[]): void {
  const s = schema as TSchema & Record<string, unknown>;
  if (value === null || value === undefined) return;
  if (s[Kind] === 'Union') {
    for (const member of s.anyOf as TSchema[]) if (Value.Check(member, value)) return unknownKeys(member, value, path, out);
    const objectMember = (s.anyOf as TSchema[]).find((m) => m[Kind] === 'Object');
    if (objectMember && typeof value === 'object' && !Array.isArray(value)) unknownKeys(objectMember, value, path, out);
    return;
  }
  if (s[Kind] === 'Array' && Array.isArray(value)) {
    value.forEach((item, i) => unknownKeys(s.items as TSchema, item, [...path, i], out));
    return;
  }
  if (s[Kind] !== 'Object' || typeof value !== 'object' || Array.isArray(value)) return;
  const props = s.properties as Record<string, TSchema>;
  if (s.additionalProperties === true) return; // open by design (e.g. a bin mapper's own arguments)
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const prop = props[key];
    if (prop) {
      unknownKeys(prop, child, [...path, key], out);
      continue;
    }
    const strict = s.additionalProperties === false;
    const near = closest(key, Object.keys(props));
    const hint = near ? `; did you mean '${near}'?` : `; known keys: ${Object.keys(props).join(', ')}`;
    out.push({
      path: [...path, key],
      severity: strict ? 'error' : 'warning',
      message: strict ? `unknown key${hint}` : `unknown key, ignored${near ? hint : ''}`,
    });
  }
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
