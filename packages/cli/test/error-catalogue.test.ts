/** The error catalogue is complete: every error class has a catalogued code, every code a meaning and an exit code, the README lists them all. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogued, ERROR_CATALOGUE } from '../src/error-catalogue.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
/** Errors that never reach a user: control flow inside one program. */
const INTERNAL_ONLY = new Map([
  ['ImdKilled', 'the toy engine unwinds its own loop with it on an IMD KILL and exits 3'],
  ['FrameError', 'the Python bridge reports bytes that are not a frame as a BridgeError (protocol) before it leaves'],
  ['WriteFailed', "the store's verified write turns it into StoreError or DiskFullError before it leaves"],
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

const errorClasses = ['packages', 'services'].flatMap((top) =>
  readdirSync(join(REPO, top)).flatMap((pkg) => {
    let files: string[];
    try {
      files = sources(join(REPO, top, pkg, 'src'));
    } catch {
      return [];
    }
    return files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/class (\w+) extends (?:codedError\('\w+', '([A-Z_]+)'\)|\w*Error\b[^{]*\{([\s\S]*?)\n\})/g)].map((m) => ({
        file: file.slice(REPO.length),
        name: m[1] as string,
        code: m[2] ?? /readonly code = '([A-Z_]+)'/.exec(m[3] ?? '')?.[1],
      }));
    });
  }),
);

describe('the error catalogue', () => {
  it('finds the error classes (the scan itself works)', () => {
    expect(errorClasses.map((c) => c.name)).toEqual(expect.arrayContaining(['ConfigError', 'StoreError', 'RunHalted', 'UsageError', 'ImdProtocolError']));
  });

  it('every error class carries a stable code that the catalogue lists', () => {
    const missing = errorClasses.filter((c) => !INTERNAL_ONLY.has(c.name) && (!c.code || !(c.code in ERROR_CATALOGUE)));
    expect(missing.map((c) => `${c.file}: ${c.name} (${c.code ?? 'no code'})`)).toEqual([]);
  });

  it('no two classes share a code, and the catalogue has no code no class uses', () => {
    const codes = errorClasses.flatMap((c) => (c.code ? [c.code] : []));
    expect(new Set(codes).size).toBe(codes.length);
    expect(Object.keys(ERROR_CATALOGUE).filter((k) => !codes.includes(k))).toEqual([]);
  });

  it('every code has a meaning and an exit code (or, for the REST API only, an HTTP status)', () => {
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      expect(e.meaning.length, code).toBeGreaterThan(20);
      if (e.exit === null) expect(e.http, code).toBeGreaterThanOrEqual(400);
      else expect([2, 3, 4], code).toContain(e.exit);
    }
  });

  it("the README's error table lists every code with its exit code", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${e.exit ?? `HTTP ${e.http}`} \\|`));
    }
  });

  it('catalogued() maps by code only: a Node error or a plain Error is not catalogued', () => {
    expect(catalogued(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBeUndefined();
    expect(catalogued(new Error('x'))).toBeUndefined();
    expect(catalogued({ code: 'CONFIG_ERR_INVALID' })?.exit).toBe(2);
  });
});
