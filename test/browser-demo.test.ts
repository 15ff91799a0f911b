// End to end in headless Chromium (SwiftShader WebGPU on a machine without a
// GPU): build the demo with Vite, serve it, train a small autoencoder on the
// embedded digits, and check what the page shows — the cost falls, the feature
// canvas (drawn by WebGPU from the weight buffer) is not blank, pausing stops
// the step counter, a single step advances it by one — and that a browser
// without WebGPU gets a clear message. Screenshots go to test-output/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveDir } from '../bench/browser/chromium.js';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../src/io/model-file.js';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';

const OUT = 'test-output';
let outDir = '';
let server: { url: string; close(): Promise<void> } | null = null;
let browser: Browser | null = null;

beforeAll(async () => {
  const { build } = await import('vite');
  outDir = mkdtempSync(join(tmpdir(), 'wgnn-demo-'));
  await build({ configFile: 'demo/vite.config.ts', logLevel: 'error', build: { outDir, emptyOutDir: true } });
  server = await serveDir(outDir);
  // CHROMIUM_FLAGS include --use-vulkan=swiftshader: without it presenting the
  // WebGPU canvas kills the page's WebGPU connection ("A valid external Instance
  // reference no longer exists" on every later mapAsync).
  browser = await launchChromium();
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
      // The page stays responsive while training (it yields between steps): a
      // script round trip through the page's main thread answers quickly.
      await page.waitForFunction(() => Number(document.getElementById('status')!.dataset.step) >= 5, { timeout: 60_000, polling: 100 });
      const t0 = Date.now();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
      expect(Date.now() - t0).toBeLessThan(2000);
      await page.waitForFunction(() => Number(document.getElementById('status')!.dataset.step) >= 60, { timeout: 60_000, polling: 100 });
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

      // Export: model.safetensors and model.json, the CLI's files; θ as trained.
      const downloads = mkdtempSync(join(tmpdir(), 'wgnn-demo-dl-'));
      const cdp = await page.createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
      await page.click('#export');
      const file = join(downloads, 'model.safetensors');
      for (let i = 0; i < 100 && !(existsSync(file) && existsSync(join(downloads, 'model.json'))); i++) await new Promise((r) => setTimeout(r, 100));
      const saved = decodeModel(new Uint8Array(readFileSync(file)), 'model.safetensors');
      expect(saved.network.layers).toEqual([784, 25, 784]);
      expect(saved.network.sparsity).toEqual(expect.objectContaining({ rho: 0.1, beta: 3 }));
      expect(JSON.parse(readFileSync(join(downloads, 'model.json'), 'utf8')).format).toBe('webgpu-nn/1');
      // …and model.onnx, written in the page by exportOnnx: it loads in onnxruntime and gives predict's output.
      const onnxFile = join(downloads, 'model.onnx');
      for (let i = 0; i < 100 && !existsSync(onnxFile); i++) await new Promise((r) => setTimeout(r, 100));
      const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(onnxFile)));
      expect([...session.outputNames].sort()).toEqual(['code', 'output']);
      const x = Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 7) / 7);
      const got = (await session.run({ input: new ort.Tensor('float32', x, [2, 784]) })).output!.data as Float32Array;
      const ref = await (await createModel(saved.network, { backend: 'cpu', parameters: saved.theta })).predict({ rows: 2, cols: 784, data: Float64Array.from(x) });
      got.forEach((v, i) => expect(Math.abs(v - ref.data[i]!)).toBeLessThan(1e-5));

      // Load it back: the page rebuilds from the file (step 0) and keeps training from it.
      const input = await page.$('#load-file');
      await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
      await page.waitForFunction(() => /Loaded model\.safetensors/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 30_000 });
      expect((await status(page)).step).toBe(0);
      for (const k of [1, 2]) {
        await page.click('#step');
        await page.waitForFunction((k) => Number(document.getElementById('status')!.dataset.step) === k, { timeout: 20_000 }, k);
      }
      // The cost is read every 2 steps: the loaded model's first reading is far below
      // a fresh initialization's (it starts where the trained one was).
      const first = Number(await page.$eval('#status', (el) => (el as HTMLElement).dataset.cost || 'NaN'));
      rmSync(downloads, { recursive: true, force: true });
      expect(first).toBeLessThan(0.7 * s.firstCost);
    } catch (e) {
      console.error(log.join('\n'));
      writeFileSync(join(OUT, 'browser-demo-failure.png'), Buffer.from(await page.screenshot({ type: 'png', fullPage: true })));
      throw e;
    } finally {
      await page.close();
    }
  }, 120_000);

  it('trains on patches of an image dropped on the page', async () => {
    // Dropping an image switches the source to it, with the patch presets (25 hidden units, λ 1e-4, ρ 0.05).
    const { page, log } = await openPage('?batch=100&patch=8&cost-every=1&gemm=unrolled-4x4');
    try {
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
      // A 96 × 96 picture of smooth random blobs (seeded), as PNG.
      const rng = new Rng(3);
      const png = new PNG({ width: 96, height: 96 });
      const blobs = Array.from({ length: 12 }, () => [rng.range(0, 96), rng.range(0, 96), rng.range(4, 14), rng.range(-1, 1)]);
      for (let y = 0; y < 96; y++)
        for (let x = 0; x < 96; x++) {
          let v = 0.5;
          for (const [bx, by, r, a] of blobs) v += 0.4 * a! * Math.exp(-((x - bx!) ** 2 + (y - by!) ** 2) / (2 * r! * r!));
          const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
          png.data.set([g, g, g, 255], 4 * (y * 96 + x));
        }
      const path = join(OUT, 'browser-demo-drop.png');
      writeFileSync(path, PNG.sync.write(png));
      const input = await page.$('#drop-file');
      await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(path);
      await page.waitForFunction(() => /Ready: 64-25-64/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 30_000 });
      expect(await page.$eval('#data-info', (e) => e.textContent ?? '')).toMatch(/8 × 8 patches of 1 dropped image/);
      await page.click('#start');
      await page.waitForFunction(() => Number(document.getElementById('status')!.dataset.step) >= 10, { timeout: 30_000, polling: 100 });
      await page.click('#pause');
      const s = await status(page);
      expect(Number.isFinite(s.cost)).toBe(true);
      expect(await page.$eval('#error', (e) => (e as HTMLElement).hidden)).toBe(true);
    } catch (e) {
      console.error(log.join('\n'));
      throw e;
    } finally {
      await page.close();
    }
  }, 90_000);

  it('trains the variants from the controls: k-sparse with tied weights, then contractive', async () => {
    for (const query of ['ksparse=4&tied=1', 'contractive=0.05&beta=0']) {
      const { page, log } = await openPage(`?data=mnist&hidden=16&batch=50&lr=0.01&cost-every=2&gemm=unrolled-4x4&${query}`);
      try {
        await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
        await page.click('#start');
        await page.waitForFunction(() => Number(document.getElementById('status')!.dataset.step) >= 30, { timeout: 60_000, polling: 100 });
        await page.click('#pause');
        await new Promise((r) => setTimeout(r, 400));
        const s = await status(page);
        expect(s.state, `${query}: ${s.text} ${log.join('\n')}`).toBe('paused');
        expect(s.firstCost, query).toBeGreaterThan(0);
        expect(s.cost, query).toBeLessThan(s.firstCost);
        expect(log.filter((l) => l.startsWith('pageerror'))).toEqual([]);
      } finally {
        await page.close();
      }
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
