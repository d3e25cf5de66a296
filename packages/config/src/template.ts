/**
 * WESTPA's path templates: Python `str.format` fields such as `{segment.n_iter:06d}`, followed by
 * `$VAR`/`${VAR}` and `~` expansion (like `os.path.expandvars`/`expanduser`: unknown variables stay).
 */

export interface TemplateField {
  readonly root: string;
  readonly attr: string | undefined;
  readonly spec: string;
}
export type TemplatePart = string | TemplateField;

export class TemplateError extends Error {
  readonly code = 'CONFIG_ERR_TEMPLATE';
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Splits a template into literal text and `{root.attr:spec}` fields; `{{` and `}}` are literal braces. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' && text[i + 1] === '{') {
      lit += '{';
      i++;
    } else if (c === '}' && text[i + 1] === '}') {
      lit += '}';
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) throw new TemplateError(`unclosed '{' at column ${i + 1}`, i + 1);
      const body = text.slice(i + 1, end);
      const colon = body.indexOf(':');
      const name = colon < 0 ? body : body.slice(0, colon);
      const spec = colon < 0 ? '' : body.slice(colon + 1);
      const m = /^([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?$/.exec(name);
      if (!m) throw new TemplateError(`'{${body}}' is not a field like {segment.seg_id:06d}`, i + 1);
      if (spec && !SPEC.test(spec)) throw new TemplateError(`format spec ':${spec}' is not supported (use e.g. 06d, d, s, .3f)`, i + 1);
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ root: m[1] as string, attr: m[2], spec });
      i = end;
    } else if (c === '}') {
      throw new TemplateError(`single '}' at column ${i + 1} (write '}}' for a literal brace)`, i + 1);
    } else {
      lit += c;
    }
  }
  if (lit) parts.push(lit);
  return parts;
}

// [[fill]align][sign][0][width][.precision][type]
const SPEC = /^(?:(.)?([<>^=]))?([+\- ])?(0)?(\d+)?(?:\.(\d+))?([dsfeEgGxX%])?$/;

/** Formats one value with a Python format spec (the subset templates use). */
export function formatValue(value: unknown, spec: string): string {
  const m = SPEC.exec(spec);
  if (!m) throw new TemplateError(`format spec ':${spec}' is not supported`, 0);
  const [, fillCh, align, sign, zero, widthS, precS, type] = m;
  let body: string;
  const num = typeof value === 'number' || typeof value === 'bigint' ? Number(value) : undefined;
  if (type === 'd' || type === 'x' || type === 'X') {
    if (num === undefined || !Number.isInteger(num)) throw new TemplateError(`'${spec}' needs an integer, got ${String(value)}`, 0);
    body = Math.abs(num).toString(type === 'd' ? 10 : 16);
    if (type === 'X') body = body.toUpperCase();
  } else if (type === 'f' || type === '%') {
    if (num === undefined) throw new TemplateError(`'${spec}' needs a number, got ${String(value)}`, 0);
    body = (Math.abs(num) * (type === '%' ? 100 : 1)).toFixed(precS ? Number(precS) : 6) + (type === '%' ? '%' : '');
  } else if (type === 'e' || type === 'E') {
    if (num === undefined) throw new TemplateError(`'${spec}' needs a number, got ${String(value)}`, 0);
    body = Math.abs(num)
      .toExponential(precS ? Number(precS) : 6)
      .replace(/e([+-])(\d)$/, 'e$10$2');
    if (type === 'E') body = body.toUpperCase();
  } else if (type === 'g' || type === 'G' || (type === undefined && num !== undefined && typeof value !== 'string')) {
    body = num === undefined ? String(value) : precS ? String(Number(Math.abs(num).toPrecision(Number(precS)))) : String(Math.abs(num));
  } else {
    body = String(value);
    if (precS) body = body.slice(0, Number(precS));
  }
  const negative = num !== undefined && typeof value !== 'string' && num < 0 && type !== 's';
  const signStr = negative ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '';
  const width = widthS ? Number(widthS) : 0;
  const fill = fillCh ?? (zero ? '0' : ' ');
  const al = align ?? (zero ? '=' : num !== undefined && typeof value !== 'string' ? '>' : '<');
  const pad = Math.max(0, width - signStr.length - body.length);
  switch (al) {
    case '=':
      return signStr + fill.repeat(pad) + body;
    case '<':
      return signStr + body + fill.repeat(pad);
    case '^':
      return fill.repeat(Math.floor(pad / 2)) + signStr + body + fill.repeat(Math.ceil(pad / 2));
    default:
      return fill.repeat(pad) + signStr + body;
  }
}

/** Renders a parsed template; a field whose value is missing is an error naming it. */
export function renderTemplate(parts: readonly TemplatePart[], values: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    let v: unknown = values[p.root];
    if (p.attr !== undefined) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p.attr] : undefined;
    if (v === undefined) throw new TemplateError(`{${p.root}${p.attr ? `.${p.attr}` : ''}} has no value here`, 0);
    out += formatValue(v, p.spec);
  }
  return out;
}

/** `$VAR`, `${VAR}` and a leading `~`, like Python's `expandvars(expanduser(...))`; unknown variables stay. */
export function expandPath(text: string, env: Readonly<Record<string, string | undefined>>, home?: string): string {
  let out = text.replace(/\$(\w+)|\$\{([^}]+)\}/g, (whole, a: string | undefined, b: string | undefined) => {
    const v = env[(a ?? b) as string];
    return v === undefined ? whole : v;
  });
  if (out === '~' || out.startsWith('~/')) {
    const h = home ?? env.HOME;
    if (h) out = h + out.slice(1);
  }
  return out;
}
