/// <reference lib="dom" />
/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core) against a live run: the
 * page loads with no request leaving the sim-manager, updates from the event stream as iterations finish, and
 * its plots are non-empty in a screenshot (decoded by the browser itself and counted pixel by pixel).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted } from './support/processes.js';
import { demoSimDir, runWithApi, westream } from './support/sim-dir.js';

const skip =
  skipWithoutPeer('chromium (Debian)', commandMissing('chromium', 'apt-get install chromium')) || skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

let browser: Browser | undefined;
let base = '';
afterAll(async () => {
  await browser?.close();
  reapStarted();
});

describe.skipIf(skip)('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 60'));
    const p = join(dir, 'westpa_scripts/runseg.sh');
    writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', 'set -euo pipefail\nsleep 0.05\n'));
    chmodSync(p, 0o755);
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2']).code).toBe(0);
    base = (await runWithApi(dir, [])).base;
    // Root in a container: Chromium's sandbox needs user namespaces it may not have.
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  }, 180_000);

  it('loads offline, follows the event stream, and draws non-empty plots', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 1100 } });
    const errors: string[] = [];
    const elsewhere: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => !r.url().startsWith(base) && elsewhere.push(r.url()));
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const firstIter = Number(await page.textContent('#iter'));
    const drawn = Number(await page.getAttribute('#heatmap', 'data-drawn'));
    // Live: the iteration shown and the heatmap move on without a reload.
    await page.waitForFunction((n) => Number(document.getElementById('iter')?.textContent) >= Math.max(n + 2, 8), firstIter, { timeout: 60_000 });
    await page.waitForFunction((d) => Number(document.getElementById('heatmap')?.dataset.drawn) > d, drawn, { timeout: 60_000 });
    expect(await page.textContent('#conn')).toBe('live');
    expect(['RUNNING', 'running']).toContain((await page.textContent('#state'))?.trim());

    if (process.env.WESTREAM_SCREENSHOT) await page.screenshot({ path: process.env.WESTREAM_SCREENSHOT, fullPage: true });
    // Each plot, screenshotted, must hold more than a background and a few axis colours.
    for (const id of ['heatmap', 'bins', 'rate', 'segcounts']) {
      const png = await page.locator(`#${id}`).screenshot();
      const colours = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement('canvas');
        [c.width, c.height] = [img.width, img.height];
        const ctx = c.getContext('2d') as CanvasRenderingContext2D;
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        let ink = 0;
        for (let i = 0; i < d.length; i += 4) {
          const [r, g, bl] = [d[i] as number, d[i + 1] as number, d[i + 2] as number];
          seen.add((r << 16) | (g << 8) | bl);
          if (r + g + bl < 700) ink++;
        }
        return { distinct: seen.size, inkShare: ink / (d.length / 4) };
      }, png.toString('base64'));
      expect(colours.inkShare, `${id}: share of non-white pixels`).toBeGreaterThan(id === 'heatmap' ? 0.03 : 0.01);
      expect(colours.distinct, `${id}: distinct colours`).toBeGreaterThan(id === 'heatmap' ? 40 : 4);
    }
    expect(await page.locator('#heatmap svg rect').count()).toBeGreaterThan(50);
    expect(errors).toEqual([]);
    expect(elsewhere, 'requests that left the sim-manager (a CDN?)').toEqual([]);
  }, 120_000);
});
