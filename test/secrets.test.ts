/**
 * issue 14 item 3: the API token never reaches a segment, a hook or a stream program, and never the command
 * line. The attack: WESTPA's SEG_DEBUG idiom (`env | sort` in runseg.sh) put WESTREAM_API_TOKEN in the segment's
 * log, which `GET …/segments/0/log` serves without the token.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWestreamSecret } from '@westream/propagator';
import { reapStarted, until } from './support/processes.js';
import { demoSimDir, runWithApi, westream } from './support/sim-dir.js';

afterAll(reapStarted);

const SECRET = 'tok-3b1e-must-not-leak';
const REDIS_PASSWORD = 'redis-pw-9c2d';

/** The demo, its runseg.sh and a pre_iteration hook printing their whole environment first (SEG_DEBUG's `env | sort`). */
function debugSimDir(iterations = 3): string {
  const dir = demoSimDir((y) =>
    y
      .replace('max_total_iterations: 40', `max_total_iterations: ${iterations}`)
      .replace(
        '    get_pcoord:\n',
        '    pre_iteration:\n      executable: $WEST_SIM_ROOT/westpa_scripts/pre.sh\n      stdout: $WEST_SIM_ROOT/seg_logs/pre-{n_iter}.log\n      stderr: stdout\n    get_pcoord:\n',
      ),
  );
  const p = join(dir, 'westpa_scripts/runseg.sh');
  writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', 'set -euo pipefail\nenv | sort\nsleep 0.3\n'));
  chmodSync(p, 0o755);
  writeFileSync(join(dir, 'westpa_scripts/pre.sh'), '#!/bin/bash\nenv | sort\n');
  chmodSync(join(dir, 'westpa_scripts/pre.sh'), 0o755);
  expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '1']).code).toBe(0);
  return dir;
}

describe('issue14-3 the API token never leaks to children or the command line', () => {
  it('issue14-3 --api-token on the command line is refused, saying to use WESTREAM_API_TOKEN or --api-token-file', () => {
    const dir = demoSimDir();
    const r = westream(dir, ['run', '--api-token', SECRET]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--api-token is not accepted: .*\/proc\/PID\/cmdline.*WESTREAM_API_TOKEN.*--api-token-file FILE/s);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(westream(dir, ['run', '--help']).stdout).toMatch(/--api-token-file FILE\b.*never the token itself on the command line/);
  });

  it('issue14-3 env | sort in runseg.sh and a hook: the log served without the token holds no westream secret', async () => {
    const dir = debugSimDir();
    const run = await runWithApi(dir, [], {
      WESTREAM_API_TOKEN: SECRET,
      WESTREAM_REDIS: `redis://:${REDIS_PASSWORD}@127.0.0.1:6379`,
      WESTREAM_DEPLOY_KEY: 'k-77',
    });
    const log = async (): Promise<string> => {
      const r = await fetch(`${run.base}/iterations/1/segments/0/log?tail=1000`); // no Authorization header
      return r.status === 200 ? ((await r.json()) as { text: string }).text : '';
    };
    let text = '';
    await until('segment 0 of iteration 1 to have written its environment', async () => /WEST_CURRENT_SEG_ID=0/.test((text = await log())), {
      context: run.out,
    });
    // Positive control: the environment is there (WESTPA's variables, the user's environ) ...
    expect(text).toMatch(/WEST_SIM_ROOT=/);
    expect(text).toMatch(/PROPAGATION_DEBUG=1/);
    expect(text).toMatch(/WESTREAM_OWNER=/);
    // ... but no secret of westream's.
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(REDIS_PASSWORD);
    expect(text).not.toContain('k-77');
    expect(await run.closed).toBe(0);
    const hook = readFileSync(join(dir, 'seg_logs/pre-2.log'), 'utf8');
    expect(hook).toMatch(/WEST_CURRENT_ITER=2/);
    expect(hook).not.toContain(SECRET);
    // The token itself works: it was read from the environment (the run says where from).
    expect(run.out()).toMatch(/the token to pause or stop the run is from WESTREAM_API_TOKEN/);
  }, 120_000);

  it('issue14-3 --api-token-file: the token from a file guards the changes', async () => {
    // Enough iterations that the stop lands before the run ends by itself, however loaded the machine.
    const dir = debugSimDir(40);
    const file = join(dir, 'my-token');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const run = await runWithApi(dir, ['--api-token-file', file]);
    expect(run.out()).toMatch(new RegExp(`the token to pause or stop the run is from ${file}`));
    expect((await fetch(`${run.base}/run/stop`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${run.base}/run/stop`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` } })).status).toBe(200);
    expect(await run.closed).toBe(130);
    const empty = join(dir, 'empty-token');
    writeFileSync(empty, '\n');
    const r = westream(dir, ['run', '--api-token-file', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--api-token-file .*empty-token: expected one token on one line \(no spaces\), found nothing/);
  }, 120_000);

  it('issue14-3 which variables count as secrets', () => {
    expect(isWestreamSecret('WESTREAM_API_TOKEN', 'x')).toBe(true);
    expect(isWestreamSecret('WESTREAM_REDIS', 'redis://:pw@host:6379')).toBe(true);
    expect(isWestreamSecret('WESTREAM_REDIS', 'redis://host:6379')).toBe(false);
    expect(isWestreamSecret('WESTREAM_API', '127.0.0.1:0')).toBe(false);
    expect(isWestreamSecret('WESTREAM_OWNER', 'abc')).toBe(false);
    expect(isWestreamSecret('MY_TOKEN', 'x')).toBe(false); // the user's own variables are the user's
  });
});
