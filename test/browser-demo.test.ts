// End to end in headless Chromium (SwiftShader WebGPU on a machine without a
// GPU): build the demo with Vite, serve it, train a small autoencoder on the
// embedded digits, and check what the page shows — the cost falls, the feature
// canvas (drawn by WebGPU from the weight buffer) is not blank, pausing stops
// the step counter, a single step advances it by one — and that a browser
// without WebGPU gets a clear message. Screenshots go to test-output/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveDir } from '../bench/browser/chromium.js';

const OUT = 'test-output';
let outDir = '';
let server: { url: string; close(): Promise<void> } | null = null;
let browser: Browser | null = null;

beforeAll(async () => {
  const { build } = await import('vite');
  outDir = mkdtempSync(join(tmpdir(), 'wgnn-demo-'));
  await build({ configFile: 'demo/vite.config.ts', logLevel: 'error', build: { outDir, emptyOutDir: true } });
  server = await serveDir(outDir);
  // --use-vulkan=swiftshader: without it the GPU process has no Vulkan for the
  // WebGPU canvas's shared images (vkCreateInstance fails), presenting the
  // canvas kills the WebGPU connection, and every later mapAsync rejects with
  // "A valid external Instance reference no longer exists".
  browser = await launchChromium(['--use-vulkan=swiftshader']);
  mkdirSync(OUT, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function openPage(query: string, noGpu = false): Promise<{ page: Page; log: string[] }> {
  const page = await browser!.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${(e as Error).message}`));
  await page.setViewport({ width: 1280, height: 900 });
  if (noGpu) {
    await page.evaluateOnNewDocument(() => {
      try {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      } catch {
        /* not configurable: shadowed below */
      }
      Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
    });
  }
  await page.goto(server!.url + query);
  return { page, log };
}

const status = (page: Page): Promise<{ state: string; step: number; cost: number; firstCost: number; text: string }> =>
  page.$eval('#status', (el) => {
    const d = (el as HTMLElement).dataset;
    return { state: d.state ?? '', step: Number(d.step), cost: Number(d.cost), firstCost: Number(d.firstCost), text: el.textContent ?? '' };
  });

describe('browser demo', () => {
  it('trains on the embedded digits: cost falls, features drawn from the GPU, pause and step work', async () => {
    // 784-25-784 sigmoid sparse autoencoder, Adam, batch 50; the GEMM variant is
    // forced so the page does not spend time timing variants.
    const { page, log } = await openPage('?data=mnist&hidden=25&batch=50&lr=0.01&cost-every=2&gemm=unrolled-4x4');
    try {
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
      await page.click('#start');
      await page.waitForFunction(() => Number(document.getElementById('status')!.dataset.step) >= 80, { timeout: 60_000, polling: 100 });
      await page.click('#pause');
      await new Promise((r) => setTimeout(r, 400));
      const paused = await status(page);
      expect(paused.state).toBe('paused');
      await new Promise((r) => setTimeout(r, 1200));
      const later = await status(page);
      expect(later.step).toBe(paused.step);

      // One step, exactly.
      await page.click('#step');
      await page.waitForFunction((s) => Number(document.getElementById('status')!.dataset.step) > s, { timeout: 20_000 }, paused.step);
      await new Promise((r) => setTimeout(r, 500));
      expect((await status(page)).step).toBe(paused.step + 1);

      // The displayed cost (mini-batch J, read every 2 steps) fell well below its first reading.
      const s = await status(page);
      expect(s.firstCost).toBeGreaterThan(0);
      expect(s.cost).toBeLessThan(0.7 * s.firstCost);
      expect(s.text).toMatch(/step \d+/);

      // The feature canvas (WebGPU render pass over θ) is not blank.
      const canvas = await page.$('#features');
      const png = PNG.sync.read(Buffer.from(await canvas!.screenshot({ type: 'png' })));
      let sum = 0;
      let sq = 0;
      const n = png.width * png.height;
      for (let p = 0; p < n; p++) {
        const g = (png.data[4 * p]! + png.data[4 * p + 1]! + png.data[4 * p + 2]!) / 3;
        sum += g;
        sq += g * g;
      }
      const variance = sq / n - (sum / n) ** 2;
      expect(png.width).toBeGreaterThan(100);
      expect(variance).toBeGreaterThan(100);
      writeFileSync(join(OUT, 'browser-demo-features.png'), PNG.sync.write(png));
      writeFileSync(join(OUT, 'browser-demo.png'), Buffer.from(await page.screenshot({ type: 'png', fullPage: true })));
      expect(await page.$eval('#error', (e) => (e as HTMLElement).hidden)).toBe(true);
    } catch (e) {
      console.error(log.join('\n'));
      writeFileSync(join(OUT, 'browser-demo-failure.png'), Buffer.from(await page.screenshot({ type: 'png', fullPage: true })));
      throw e;
    } finally {
      await page.close();
    }
  }, 120_000);

  it('tells a browser without WebGPU so, instead of a blank page', async () => {
    const { page } = await openPage('', true);
    try {
      await page.waitForSelector('#status[data-state="no-webgpu"]', { timeout: 20_000 });
      const visible = await page.$eval('#no-webgpu', (e) => !(e as HTMLElement).hidden);
      expect(visible).toBe(true);
      const text = await page.$eval('#no-webgpu', (e) => e.textContent ?? '');
      expect(text).toMatch(/no WebGPU/i);
      expect(await page.$eval('#app', (e) => (e as HTMLElement).hidden)).toBe(true);
    } finally {
      await page.close();
    }
  });
});
