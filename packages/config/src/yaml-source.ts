import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** A Python name written with PyYAML's `!!python/name:` tag, e.g. `numpy.float32`. */
export class PythonName {
  constructor(readonly name: string) {}
  toJSON(): string {
    return `!!python/name:${this.name}`;
  }
}

const PYTHON_NAME = 'tag:yaml.org,2002:python/name:';

/** A parsed YAML file that can say where any key path sits in the source. */
export class YamlSource {
  readonly value: unknown;
  readonly syntaxErrors: { line: number; col: number; message: string }[] = [];
  readonly tagErrors: { path: (string | number)[]; tag: string }[] = [];
  /** Keys given twice in one mapping: PyYAML (WESTPA) keeps the last, and so does this; each is warned about. */
  readonly duplicateKeys: { path: (string | number)[]; firstLine: number; line: number }[] = [];
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    // YAML 1.1, like PyYAML (WESTPA's loader): `72:00:00` is base 60, `yes`/`no` are booleans.
    this.doc = parseDocument(text, { version: '1.1', lineCounter: this.lines, prettyErrors: false, uniqueKeys: false });
    for (const e of this.doc.errors.slice(0, 1)) {
      // later errors mostly cascade from the first
      const pos = this.lines.linePos(e.pos[0]);
      this.syntaxErrors.push({ line: pos.line, col: pos.col, message: e.message.split('\n')[0] ?? e.message });
    }
    if (!this.syntaxErrors.length) this.dropDuplicates(this.doc.contents, []);
    this.value = this.syntaxErrors.length ? undefined : this.convert(this.doc.contents, []);
  }

  /** 1-based line and column of the key at `path`; for a missing key, of its nearest existing parent's key. */
  locate(path: readonly (string | number)[]): { line: number; col: number } {
    let n = path.length;
    while (n > 0 && this.doc.getIn(path.slice(0, n), true) === undefined && !this.keyNode(path.slice(0, n))) n--;
    if (n === 0) {
      const root = this.doc.contents;
      return root?.range ? this.lines.linePos(root.range[0]) : { line: 1, col: 1 };
    }
    const prefix = path.slice(0, n);
    const node = this.keyNode(prefix) ?? (this.doc.getIn(prefix, true) as Node | undefined);
    return node?.range ? this.lines.linePos(node.range[0]) : { line: 1, col: 1 };
  }

  /** The literal source text of a scalar (e.g. `3:00:00:00` before YAML 1.1 reads it as base 60). */
  sourceOf(path: readonly (string | number)[]): { text: string; quoted: boolean } | undefined {
    const node = this.doc.getIn(path, true);
    if (!isScalar(node) || typeof node.source !== 'string') return undefined;
    return { text: node.source, quoted: node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' };
  }

  private keyNode(path: readonly (string | number)[]): Node | undefined {
    const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    const last = path[path.length - 1];
    if (isMap(parent)) {
      for (const pair of parent.items) {
        if (isScalar(pair.key) && String(pair.key.value) === String(last)) return pair.key;
      }
    }
    return undefined;
  }

  /** Removes every earlier pair of a key given twice, so lookups, source text and values all see the last. */
  private dropDuplicates(node: unknown, path: (string | number)[]): void {
    if (isMap(node)) {
      const seen = new Map<string, number>();
      const keep: typeof node.items = [];
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const at = seen.get(key);
        if (at !== undefined) {
          const first = keep[at];
          const line = (n: unknown): number => ((n as Node | null)?.range ? this.lines.linePos((n as Node).range![0]).line : 0);
          this.duplicateKeys.push({ path: [...path, key], firstLine: line(first?.key), line: line(pair.key) });
          keep.splice(at, 1);
          for (const [k, i] of seen) if (i > at) seen.set(k, i - 1);
        }
        seen.set(key, keep.length);
        keep.push(pair);
      }
      node.items = keep;
      for (const pair of keep) this.dropDuplicates(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)]);
    } else if (isSeq(node)) node.items.forEach((item, i) => this.dropDuplicates(item, [...path, i]));
  }

  private convert(node: unknown, path: (string | number)[]): unknown {
    if (node === null || node === undefined) return null;
    const tag = (node as { tag?: string }).tag;
    if (tag?.startsWith('tag:yaml.org,2002:python/') && !(isScalar(node) && tag.startsWith(PYTHON_NAME))) {
      this.tagErrors.push({ path, tag });
      return null;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        out[key] = this.convert(pair.value, [...path, key]);
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, i) => this.convert(item, [...path, i]));
    if (isScalar(node)) {
      if (tag?.startsWith(PYTHON_NAME)) return new PythonName(tag.slice(PYTHON_NAME.length));
      return node.value;
    }
    return null;
  }
}
