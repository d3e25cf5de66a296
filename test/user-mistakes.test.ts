/**
 * A corpus of user mistakes, as a user makes them with the real `westream` command: each ends with exit code 2
 * and a message that names what to fix, never "internal error" or a stack trace. The config corpus (the same
 * cases packages/config tests for their messages) is checked against the error catalogue in-process.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '@westream/config';
import { catalogued } from '../packages/cli/src/error-catalogue.js';
import { cases, minimal } from '../packages/config/test/fixtures/malformed-cases.js';
import { demoSimDir, westream, type CliResult } from './support/sim-dir.js';

const STACK = /internal error|\n\s+at .+:\d+:\d+\)?\n/;

function expectUserError(r: CliResult, message: RegExp, exit = 2): void {
  expect(r.stderr, 'no stack trace').not.toMatch(STACK);
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr).toMatch(message);
}

describe('config mistakes: every case is a catalogued error with exit code 2', () => {
  it.each(cases)('$name', ({ edit }) => {
    let thrown: unknown;
    try {
      loadConfigText(edit(minimal), 'west.yaml');
    } catch (e) {
      thrown = e;
    }
    expect(catalogued(thrown)?.exit, String(thrown)).toBe(2);
  });
});

describe('mistakes at the command line', () => {
  const init = ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2'];

  it('a target-state file with a bad line names the file and line', () => {
    const dir = demoSimDir();
    writeFileSync(join(dir, 'tstates.txt'), 'right 1.0\nleft one\n');
    expectUserError(westream(dir, init), /tstates\.txt.*2/);
  });

  it('a basis state whose pcoord lies outside the bins names the state and the bins', () => {
    // The bins start at -0.5; the basis state sits in the left well at x = -1.
    const dir = demoSimDir((y) => y.replace("['-inf', -1.1, -1.0, -0.9, -0.8, -0.7, -0.6, ", '[').replace('- [-0.5', '- [-0.5'));
    expectUserError(westream(dir, init), /outside/i);
  });

  it('a get_pcoord script that does not exist names the key and the path', () => {
    const dir = demoSimDir((y) => y.replace('westpa_scripts/get_pcoord.sh', 'westpa_scripts/no-such-script.sh'));
    expectUserError(westream(dir, init), /no-such-script\.sh/);
  });

  it('a get_pcoord script that is not executable says so', () => {
    const dir = demoSimDir();
    chmodSync(join(dir, 'westpa_scripts/get_pcoord.sh'), 0o644);
    expectUserError(westream(dir, init), /get_pcoord\.sh/);
  });

  it('a malformed --redis URL is a usage error', () => {
    const dir = demoSimDir();
    expect(westream(dir, init).code).toBe(0);
    expectUserError(westream(dir, ['run', '--work-manager', 'bullmq', '--redis', 'not a url']), /redis/i);
  });

  it("a busy API port for 'westream serve' names the address and what to pass instead", async () => {
    const dir = demoSimDir();
    expect(westream(dir, init).code).toBe(0);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    try {
      expectUserError(westream(dir, ['serve', '--api', `127.0.0.1:${port}`]), new RegExp(`127\\.0\\.0\\.1:${port} is in use.*--api`));
    } finally {
      blocker.close();
    }
  });

  it('a config whose pcoord shape no longer matches west.h5 is exit 2 (your input), not 3 (failed segments)', () => {
    const dir = demoSimDir();
    expect(westream(dir, init).code).toBe(0);
    writeFileSync(join(dir, 'west.yaml'), readFileSync(join(dir, 'west.yaml'), 'utf8').replace('pcoord_len: 11', 'pcoord_len: 6'));
    expectUserError(westream(dir, ['run']), /pcoord_len 6.*westream init --force/);
  });
});
