// The library inside someone else's app (issue 6 §4): a temporary project whose
// node_modules/webgpu-nn is a symlink to this repository, so `webgpu-nn` resolves
// through package.json "exports" to the built dist/ exactly as for an installed
// package (no network). Node imports it by name; Vite bundles test/consumer-app
// (index.html + main.js), which headless Chromium runs on its own GPUDevice:
// one gradient step, W(1) rendered from the model's θ buffer, dispose().
// Needs `npm run build` first (npm test's pretest does it).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveDir } from '../bench/browser/chromium.js';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';
import type { NetworkSpec } from '../src/spec.js';
import { optimize } from '../src/optim/index.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
let app: string;

beforeAll(() => {
  if (!existsSync(join(repo, 'dist/index.js')) || !existsSync(join(repo, 'dist/node.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it)');
  }
  app = mkdtempSync(join(tmpdir(), 'wgnn-consumer-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(repo, join(app, 'node_modules', 'webgpu-nn'), 'dir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
  cpSync(join(repo, 'test/consumer-app'), app, { recursive: true });
});

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('webgpu-nn as a dependency', () => {
  it('resolves `webgpu-nn` and `webgpu-nn/node` through the package exports in Node', async () => {
    const code = `
      const lib = await import('webgpu-nn');
      const node = await import('webgpu-nn/node');
      const worker = await import('webgpu-nn/worker');
      console.log(JSON.stringify({
        main: import.meta.resolve('webgpu-nn'), node: import.meta.resolve('webgpu-nn/node'), worker: import.meta.resolve('webgpu-nn/worker'),
        createModel: typeof lib.createModel, GpuObjective: typeof lib.GpuObjective, nodeCreateModel: typeof node.createModel,
        WorkerTrainer: typeof lib.WorkerTrainer, serveTrainer: typeof worker.serveTrainer,
      }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: app });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string>;
    expect(r.main).toMatch(/\/dist\/index\.js$/);
    expect(r.node).toMatch(/\/dist\/node\.js$/);
    expect(r.createModel).toBe('function');
    expect(r.GpuObjective).toBe('function');
    expect(r.nodeCreateModel).toBe('function');
    // The training worker's module (imported outside a worker it serves nothing) and its page-side client.
    expect(r.worker).toMatch(/\/dist\/worker\/entry\.js$/);
    expect(r.WorkerTrainer).toBe('function');
    expect(r.serveTrainer).toBe('function');
    expect(existsSync(join(repo, 'dist/worker/entry.d.ts'))).toBe(true);
    expect(existsSync(join(repo, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(repo, 'dist/node.d.ts'))).toBe(true);
  });

  it('a Vite-built WebGPU app trains a step on its own device in headless Chromium', async () => {
    const { build } = await import('vite');
    const out = join(app, 'dist');
    await build({ root: app, base: './', configFile: false, logLevel: 'error', build: { outDir: out, emptyOutDir: true, target: 'es2022' } });

    const server = await serveDir(out);
    const browser = await launchChromium();
    const logs: string[] = [];
    let result: Record<string, unknown>;
    try {
      const page = await browser.newPage();
      page.on('console', (m) => logs.push(m.text()));
      page.on('pageerror', (e) => logs.push(`page error: ${(e as Error).message}`));
      await page.goto(`${server.url}index.html`);
      await page.waitForFunction('window.__result !== undefined', { polling: 250, timeout: 90_000 });
      result = (await page.evaluate('window.__result')) as Record<string, unknown>;
    } finally {
      await browser.close();
      await server.close();
    }
    if (process.env.WGNN_TEST_VERBOSE) console.log(JSON.stringify(result), logs);
    expect(result.ok, `${String(result.error ?? '')}\n${logs.join('\n')}`).toBe(true);

    // The float64 reference here, from the same seeds (the page computes it too).
    const spec: NetworkSpec = { layers: [16, 8, 16], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
    const rng = new Rng(11);
    const X = { rows: 32, cols: 16, data: Float32Array.from({ length: 32 * 16 }, () => rng.uniform()) };
    const cpu = await createModel(spec, { backend: 'cpu', seed: 2 });
    const before = (await cpu.cost(X, undefined, { gradient: false })).cost;
    const reference = cpuNetworkObjective(cpu.network, await cpu.readParameters(), X);
    await optimize(reference, { method: 'gd', learningRate: 0.5, iterations: 1 });
    cpu.setParameters(reference.theta);
    const after = (await cpu.cost(X, undefined, { gradient: false })).cost;

    const cost = result.cost as number;
    expect(Number.isFinite(cost)).toBe(true);
    expect(Math.abs((result.before as number) - before) / before).toBeLessThan(1e-5);
    expect(Math.abs(cost - after) / after).toBeLessThan(1e-5);
    expect(Math.abs((result.cpuCost as number) - after) / after).toBeLessThan(1e-12);
    expect(cost).toBeLessThan(result.before as number);
    // W(1) drawn by the app's own render pipeline from model.thetaBuffer matches θ (±1 of 255).
    expect(result.render).toMatchObject({ width: 16, height: 8 });
    expect((result.render as { maxPixelDiff: number }).maxPixelDiff).toBeLessThanOrEqual(1);
    // The README's drawing of the same buffer into a WebGPU canvas raises no validation error.
    expect(result.canvasError).toBeNull();
    // dispose() left the app's device alone.
    expect(result.deviceUsable).toBe(true);
    expect(result.lost).toBeNull();
  });
});
