/**
 * The config reference in Markdown, rendered from the JSON Schema (config/REFERENCE.md): one table per section
 * of `west`, every key with its type and the schema's description, so the reference cannot drift from what
 * the loader accepts.
 */
import { westJsonSchema } from './json-schema.js';

interface Node {
  readonly type?: string;
  readonly description?: string;
  readonly anyOf?: readonly Node[];
  readonly properties?: Readonly<Record<string, Node>>;
  readonly additionalProperties?: boolean | Node;
  readonly items?: Node;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly description: string;
}

/** The branches of a node that say something (a `null` branch only makes a key optional). */
function branches(n: Node): Node[] {
  if (!n.anyOf) return [n];
  return n.anyOf.flatMap((b) => (b.type === 'null' ? [] : branches(b.description || !n.description ? b : { ...b, description: n.description })));
}

function describe(n: Node): string {
  return n.description ?? branches(n).find((b) => b.description)?.description ?? '';
}

function typeOf(n: Node): string {
  const parts = branches(n).map((b) => {
    if (b.const !== undefined) return `\`${JSON.stringify(b.const)}\``;
    if (b.enum) return b.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
    if (b.type === 'array') return `list of ${b.items ? typeOf(b.items) : 'any'}`;
    if (b.type === 'object') return b.properties ? 'mapping' : 'mapping of any';
    const range = b.minimum !== undefined || b.maximum !== undefined ? ` ${b.minimum ?? ''}…${b.maximum ?? ''}` : '';
    return `${b.type ?? 'any'}${range}`;
  });
  return [...new Set(parts)].join(' or ');
}

/**
 * Rows for `n`'s keys (and theirs), depth first; a list of mappings continues with `key[].`. A mapping met
 * before in the same section (the five programs of west.executable) points to its first appearance.
 */
function rows(n: Node, prefix: string, out: Row[], seen: Map<string, string>): void {
  for (const b of branches(n)) {
    const target = b.type === 'array' && b.items ? branches(b.items).find((i) => i.properties) : b;
    if (!target?.properties) continue;
    const base = b.type === 'array' ? `${prefix.replace(/\.$/, '')}[].` : prefix;
    for (const [key, child] of Object.entries(target.properties)) {
      const path = `${base}${key}`;
      const shape = JSON.stringify(branches(child).find((c) => c.properties) ?? null);
      const first = shape !== 'null' ? seen.get(shape) : undefined;
      out.push({ key: path, type: typeOf(child), description: `${describe(child)}${first ? ` Its keys are those of \`${first}\`.` : ''}` });
      if (first) continue;
      if (shape !== 'null') seen.set(shape, path);
      rows(child, `${path}.`, out, seen);
    }
    return; // the first branch with keys is the mapping form
  }
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function configReference(): string {
  const schema = westJsonSchema() as Node;
  const west = branches(schema).find((b) => b.properties)?.properties?.west;
  const sections = west ? (branches(west).find((b) => b.properties)?.properties ?? {}) : {};
  const lines = [
    '# west.cfg / west.yaml reference',
    '',
    '<!-- Generated from the config schema by `npm run schema`; do not edit. The test suite checks it is current. -->',
    '',
    `${describe(schema)}`,
    '',
    "An unknown key in WESTPA's sections is ignored with a warning that names the closest known key (WESTPA ignores",
    'it too); in `west.westream` it is an error. Keys WESTPA defines but westream does not apply say so below.',
    '',
  ];
  for (const [name, node] of Object.entries(sections)) {
    const table: Row[] = [];
    rows(node, '', table, new Map());
    lines.push(`## \`west.${name}\``, '');
    const d = describe(node);
    if (d) lines.push(d, '');
    if (table.length === 0) {
      lines.push(`Type: ${typeOf(node)}.`, '');
      continue;
    }
    lines.push('| key | type | meaning |', '| --- | --- | --- |');
    for (const r of table) lines.push(`| \`${r.key}\` | ${cell(r.type)} | ${cell(r.description)} |`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
