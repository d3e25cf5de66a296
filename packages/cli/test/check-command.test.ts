/** `westream check` and `westream schema` as a user runs them: the built binary, a real process. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/westream.js', import.meta.url));
const tutorial = fileURLToPath(new URL('../../config/test/fixtures/westpa-tutorial-nacl.cfg', import.meta.url));
const westream = (args: string[], cwd?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });

describe('westream check', () => {
  it('prints the normalized tutorial config as JSON (inf spelt as WESTPA does)', () => {
    const r = westream(['check', '--config', tutorial, '--json']);
    expect(r.status).toBe(0);
    const cfg = JSON.parse(r.stdout) as { system: { nbins: number; bins: { boundaries: unknown[][] } }; propagation: { maxRunWallclock: number } };
    expect(cfg.system.nbins).toBe(22);
    expect(cfg.system.bins.boundaries[0]?.at(-1)).toBe('inf');
    expect(cfg.propagation.maxRunWallclock).toBe(259200);
  });

  it('finds west.cfg in the sim root (cwd) like w_run does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-check-'));
    writeFileSync(join(dir, 'west.cfg'), readFileSync(tutorial));
    const r = westream(['check'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^west\.cfg: OK\n\s+pcoord\s+51 points × 1 dim, float32/);
  });

  it('a broken config: exit 2, every problem located, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-check-'));
    const broken = readFileSync(tutorial, 'utf8').replace('pcoord_len: 51', 'pcoord_len: fifty').replace('max_total_iterations: 2', 'max_total_iterations: 0');
    writeFileSync(join(dir, 'west.cfg'), broken);
    const r = westream(['check', '--config', 'west.cfg'], dir);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('west.cfg:8:7: west.system.system_options.pcoord_len: expected an integer ≥ 1, found "fifty" (string)');
    expect(r.stderr).toContain('west.cfg:18:5: west.propagation.max_total_iterations: expected an integer ≥ 1, found 0 (integer)');
    expect(r.stderr).toContain('2 problem(s); nothing was run.');
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('unknown flags and commands are usage errors (exit 2)', () => {
    const a = westream(['check', '--confg', 'x']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/westream check: Unknown option '--confg'/);
    const b = westream(['frobnicate']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('westream schema', () => {
  it('config/west.schema.json is generated from the schema and up to date', () => {
    const committed = fileURLToPath(new URL('../../../config/west.schema.json', import.meta.url));
    const r = westream(['schema', '--check', committed]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const schema = JSON.parse(readFileSync(committed, 'utf8')) as { properties: { west: { required: string[] } } };
    expect(schema.properties.west.required).toEqual(['system', 'propagation', 'data']);
  });

  it('config/REFERENCE.md is rendered from the same schema: every key the loader knows, with its description', () => {
    const committed = fileURLToPath(new URL('../../../config/REFERENCE.md', import.meta.url));
    const r = westream(['schema', '--markdown', '--check', committed]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const md = readFileSync(committed, 'utf8');
    for (const section of ['system', 'propagation', 'we', 'data', 'executable', 'westream']) expect(md).toContain(`## \`west.${section}\``);
    expect(md).toMatch(/^\| `system_options\.pcoord_len` \| integer 1… \| Points per segment, including the initial point\. \|$/m);
    expect(md).toMatch(/^\| `stream_trajectory\.port_discovery` \| `"engine"` or `"reserve"` \| engine \(default\)/m);
    expect(md).toMatch(/^\| `datasets\[\]\.scaleoffset` \|/m);
    expect(md).toMatch(/^\| `get_pcoord` \| mapping \| .*Its keys are those of `propagator`\. \|$/m);
    // Every key row has a description: a key nobody explained is a gap in the schema.
    const blank = md.split('\n').filter((l) => /^\| `[^`]+` \| [^|]+ \|\s*\|$/.test(l));
    expect(blank).toEqual([]);
  });

  it('--check fails on a stale file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-schema-'));
    writeFileSync(join(dir, 's.json'), '{}\n');
    const r = westream(['schema', '--check', join(dir, 's.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/out of date with the config schema; run: npm run schema/);
  });
});
