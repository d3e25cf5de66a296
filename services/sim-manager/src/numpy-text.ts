/**
 * numpy's printing of float32 values under its default print options (numpy 2), so that text files written in
 * WESTPA's layout (binbounds.log) read the same as WESTPA's: `str(array)` (maxprec 8, padded columns, lines
 * wrapped at 75), `repr(np.float32(x))` and `repr(array)`. Scientific notation is used for arrays when numpy
 * would (values ≥ 1e8, or below 1e-4, or spanning more than 1e3) in a simplified form.
 */

/** Shortest decimal digits that read back as the same float32. */
function shortest(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return s;
  }
  return v.toPrecision(9);
}

/** Positional digits, unique (shortest) but at most `precision` fractional digits, as `intpart` and `frac`. */
function positional(v: number, precision = 8): [string, string] {
  let s = Number(shortest(v)).toString();
  if (/e/.test(s)) s = Math.abs(v) < 1 ? v.toFixed(20).replace(/0+$/, '') : BigInt(Math.round(v)).toString();
  let [int, frac = ''] = s.split('.') as [string, string?];
  if (frac.length > precision) [int, frac = ''] = v.toFixed(precision).replace(/0+$/, '').split('.') as [string, string?];
  return [int, frac];
}

const special = (v: number): string | undefined => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : undefined);

/** `repr(np.float32(v))` without the `np.float32(...)` wrapper: `-1.0`, `0.5`, `1e-05`. */
export function float32Repr(v: number): string {
  const sp = special(v);
  if (sp) return sp;
  const a = Math.abs(v);
  if (a === 0 || (a >= 1e-4 && a < 1e16)) {
    const [int, frac] = positional(v, 64);
    return `${int}.${frac || '0'}`;
  }
  const [m, e] = Number(shortest(v)).toExponential().split('e') as [string, string];
  const exp = Number(e);
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** The formatted elements of a float32 array, padded to one width (numpy's FloatingFormat). */
function formatElements(xs: readonly number[]): string[] {
  const finite = xs.filter((x) => Number.isFinite(x));
  const abs = finite.map(Math.abs).filter((x) => x > 0);
  const max = abs.length ? Math.max(...abs) : 0;
  const min = abs.length ? Math.min(...abs) : 0;
  if (abs.length && (max >= 1e8 || min < 1e-4 || max / min > 1e3)) {
    const parts = xs.map((x) => special(x) ?? Number(shortest(x)).toExponential());
    const fracLen = Math.max(...parts.map((p) => (/\.(\d+)e/.exec(p)?.[1] ?? '').length));
    return parts.map((p, i) => {
      if (!Number.isFinite(xs[i])) return p;
      const [mant, e] = p.split('e') as [string, string];
      const [int, frac = ''] = mant.split('.') as [string, string?];
      const exp = Number(e);
      return `${int.padStart(2)}.${frac.padEnd(fracLen, '0')}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    });
  }
  const parts = finite.map((x) => positional(x));
  const padLeft = Math.max(0, ...parts.map(([i]) => i.length));
  const padRight = Math.max(0, ...parts.map(([, f]) => f.length));
  return xs.map((x) => {
    const sp = special(x);
    if (sp) return sp.padStart(padLeft + padRight + 1);
    const [int, frac] = positional(x);
    return `${int.padStart(padLeft)}.${frac.padEnd(padRight)}`;
  });
}

/** numpy's `_formatArray` for one dimension: words joined by `sep`, wrapped before column `width`. */
function wrap(words: readonly string[], sep: string, indent: string, width = 75): string {
  const elemWidth = width - Math.max(sep.trimEnd().length, 1);
  let s = '';
  let line = indent;
  words.forEach((w, i) => {
    if (line.length + w.length > elemWidth && line.length > indent.length) {
      s += `${line.trimEnd()}\n`;
      line = indent;
    }
    line += w;
    if (i < words.length - 1) line += sep;
  });
  return `${s}${line}`;
}

/** `str(np.array(xs, dtype=np.float32))`. */
export function float32ArrayStr(xs: readonly number[]): string {
  return `[${wrap(formatElements(xs), ' ', ' ').slice(1)}]`;
}

/** `repr(np.array(xs, dtype=np.float32))`. */
export function float32ArrayRepr(xs: readonly number[]): string {
  const indent = ' '.repeat('array(['.length);
  return `array([${wrap(formatElements(xs), ', ', indent).slice(indent.length)}], dtype=float32)`;
}

/** `repr([np.float32(x), ...])`. */
export function float32ListRepr(xs: readonly number[]): string {
  return `[${xs.map((x) => `np.float32(${float32Repr(x)})`).join(', ')}]`;
}
