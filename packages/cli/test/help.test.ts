/** Help and option errors as a user meets them: the built binary, checked against the one command table. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nearestOption } from '../src/command-table.js';
import { commands } from '../src/commands.js';
import { WESTREAM_VERSION } from '@westream/store';

const bin = fileURLToPath(new URL('../bin/westream.js', import.meta.url));
const westream = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('westream help', () => {
  it('--help lists every command with its summary, exit 0', () => {
    const r = westream(['--help']);
    expect(r.status).toBe(0);
    for (const [name, c] of Object.entries(commands)) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    }
  });

  it.each(Object.keys(commands))('%s --help lists every option of its table, with its default', (name) => {
    const c = commands[name];
    if (!c) throw new Error(name);
    // 'help NAME' and '-h' for one command: they reach the same printer.
    for (const args of name === 'run'
      ? [
          [name, '--help'],
          ['help', name],
          [name, '-h'],
        ]
      : [[name, '--help']]) {
      const r = westream(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`usage: westream ${name}`);
      for (const [opt, o] of Object.entries(c.options)) {
        expect(r.stdout, `--${opt}`).toContain(`--${opt}`);
        if (o.default !== undefined) expect(r.stdout, `default of --${opt}`).toContain(`default: ${o.default}`);
      }
    }
  });

  it('a mistyped option is exit 2 and suggests the nearest one', () => {
    const r = westream(['run', '--slot', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--slot'\. Did you mean --slots\?/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const w = westream(['worker', '--nodeid', 'a']);
    expect(w.status).toBe(2);
    expect(w.stderr).toContain('Did you mean --node-id?');
  });

  it('a mistyped command suggests the nearest one; an unrelated word suggests none', () => {
    const r = westream(['trunacte', '-n', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("did you mean 'truncate'?");
    const h = westream(['help', 'frobnicate']);
    expect(h.status).toBe(2);
    expect(h.stderr).not.toContain('did you mean');
  });

  it('--version and -V print the version west.h5 records, exit 0', () => {
    for (const flag of ['--version', '-V']) {
      const r = westream([flag]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`westream ${WESTREAM_VERSION}\n`);
    }
    expect(westream(['--help']).stdout).toContain('westream --version');
    // One version: the package's is the one the files record.
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
    expect(pkg.version).toBe(WESTREAM_VERSION);
  });

  it('nearestOption: edit distance and prefixes, nothing for a far word', () => {
    expect(nearestOption('--segs-per-stat', ['segs-per-state', 'force'])).toBe('segs-per-state');
    expect(nearestOption('--work', ['work-manager', 'slots'])).toBe('work-manager');
    expect(nearestOption('--zzz', ['work-manager', 'slots'])).toBeUndefined();
  });
});
