/**
 * issue 14 item 10: a hung segment, with no segment_timeout (WESTPA's default too), stalled the run without a
 * word. It is not killed (a slow trajectory may be honest), but named: in /status, `westream status --url`,
 * the dashboard and a log line, once it has run straggler_seconds and 5× its iteration's completed median.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { findStragglers, STRAGGLER_FACTOR, type TimedSegment } from '@westream/sim-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { commandMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, until } from './support/processes.js';
import { demoSimDir, runWithApi, westream } from './support/sim-dir.js';

afterAll(reapStarted);

describe('issue14-10 stragglers: the rule', () => {
  const at = (status: string, walltime: number | null, startedAt: number | null = null): TimedSegment => ({ status, walltime, startedAt });
  const now = 1_000_000;

  it('issue14-10 named past max(straggler_seconds, 5 × the median of the completed ones); not before; not without 3 completed', () => {
    const segs = new Map<number, TimedSegment>([
      [0, at('complete', 10)],
      [1, at('complete', 12)],
      [2, at('complete', 11)],
      [3, at('running', null, now - 56_000)], // 56 s > 5 × 11 s
      [4, at('running', null, now - 54_000)], // 54 s < 55 s: not yet (negative control)
      [5, at('pending', null)],
    ]);
    expect(STRAGGLER_FACTOR).toBe(5);
    expect(findStragglers(7, segs, 30, now)).toEqual([{ nIter: 7, segId: 3, runningFor: 56, medianWalltime: 11, completed: 3 }]);
    // The seconds floor: short iterations (median 11 s) do not name a segment before straggler_seconds.
    expect(findStragglers(7, segs, 60, now)).toEqual([]);
    // Two completed are too few for a median that means something.
    segs.delete(2);
    expect(findStragglers(7, segs, 30, now)).toEqual([]);
  });
});

const skipChromium = skipWithoutPeer('chromium (Debian)', commandMissing('chromium', 'apt-get install chromium'));

describe('issue14-10 stragglers in a live run', () => {
  it('issue14-10 a hung segment is named in /status, status --url, a log line and the dashboard; it is not killed', async () => {
    const dir = demoSimDir((y) =>
      y
        .replace('max_total_iterations: 40', 'max_total_iterations: 1')
        .replace('bin_target_counts: 3', 'bin_target_counts: 5')
        .replace('    seed: 20261121', '    seed: 20261121\n    straggler_seconds: 3'),
    );
    const p = join(dir, 'westpa_scripts/runseg.sh');
    // Segment 0 of iteration 1 hangs until the test releases it; the others take ~0.3 s.
    const hang =
      'if [ "$WEST_CURRENT_ITER" = 1 ] && [ "$WEST_CURRENT_SEG_ID" = 0 ]; then while [ ! -f "$WEST_SIM_ROOT/release" ]; do sleep 0.1; done; fi\nsleep 0.3\n';
    writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', `set -euo pipefail\n${hang}`));
    chmodSync(p, 0o755);
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '5']).code).toBe(0);
    const run = await runWithApi(dir, ['--slots', '2']);
    type S = {
      stragglers: { nIter: number; segId: number; runningFor: number; medianWalltime: number; completed: number }[];
      segments: { complete: number; running: number };
    };
    let s: S | undefined;
    await until(
      'segment 0 to be named a straggler in /status',
      async () => {
        s = (await (await fetch(`${run.base}/status`)).json()) as S;
        return s.stragglers.length > 0;
      },
      { ms: 90_000, context: run.out },
    );
    expect(s?.stragglers.map((g) => [g.nIter, g.segId])).toEqual([[1, 0]]);
    expect(s?.stragglers[0]?.medianWalltime).toBeGreaterThan(0);
    expect(s?.stragglers[0]?.runningFor).toBeGreaterThan(3);
    expect(s?.stragglers[0]?.completed).toBeGreaterThanOrEqual(3);
    // The others, finished, are not named (negative control within the run).
    expect(s?.segments.running).toBe(1);
    await until(
      'the log line',
      () =>
        /straggler: segment 0 of iteration 1 has been running [\d.]+ s, over 5× the median [\d.]+ s of the \d+ completed segments of its iteration; no segment_timeout is set/.test(
          run.out(),
        ),
      { ms: 30_000, context: run.out },
    );
    expect(run.out().match(/straggler: segment 0/g)?.length).toBe(1); // once, not every check
    const cli = westream(dir, ['status', '--url', run.base]);
    expect(cli.stdout).toMatch(/STRAGGLER\s+segment 0 of iteration 1: running \d+ s, median of \d+ completed [\d.]+ s/);
    if (!skipChromium) {
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage();
        await page.goto(run.base);
        await page.waitForFunction(() => !(document.getElementById('stragglers') as HTMLElement).hidden, undefined, { timeout: 30_000 });
        expect(await page.textContent('#stragglers')).toMatch(/^Straggler: segment 0 running 0:00:\d\d \(median of \d+ completed: [\d.]+ s\)$/);
      } finally {
        await browser.close();
      }
    }
    // Released, it completes: a straggler is reported, never killed.
    writeFileSync(join(dir, 'release'), '');
    expect(await run.closed, run.out()).toBe(0);
  }, 180_000);
});
