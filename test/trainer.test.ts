// End-to-end training runs: every output file, the CLI, and Ctrl-C + --resume
// reaching exactly the cost of an uninterrupted run.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { decodeModel } from '../src/io/model-file.js';
import { readPng } from '../src/viz/png-node.js';
import { train } from '../src/train/run.js';
import { MAIN_JOB } from '../src/train/defaults.js';
import type { TrainConfig } from '../src/train/config.js';
import { capture } from './helpers/io.js';

const tiny = (out: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  ...MAIN_JOB,
  name: 'tiny',
  network: { ...MAIN_JOB.network!, layers: [784, 9, 784] },
  data: { source: 'mnist', limit: 40 },
  optimizer: { method: 'lbfgs', maxIterations: 6 },
  checkpointEvery: 2,
  output: out,
  ...extra,
});

describe('wgnn train', () => {
  it('writes every output file; the last line is the output folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wgnn-')), 'run');
    const cfgPath = join(dir, '..', 'cfg.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cfgPath, JSON.stringify(tiny(dir)));
    const c = capture();
    const code = await main(['train', '--config', cfgPath, '--json'], c.io);
    expect(code, c.err.join('')).toBe(0);
    const lines = c.out.join('').trim().split('\n');
    expect(lines[lines.length - 1]).toBe(dir);
    for (const f of ['config.json', 'model.safetensors', 'model.json', 'features.png', 'reconstructions.png', 'loss.svg', 'summary.json', 'checkpoint/optimizer.json', 'checkpoint/model.safetensors']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    for (const k of ['finalCost', 'costParts', 'iterations', 'seconds', 'samplesPerSecond', 'rhoHatMean', 'rhoHatMax', 'adapter', 'backend', 'config']) expect(summary, k).toHaveProperty(k);
    expect(summary.backend).toBe('webgpu');
    expect(summary.iterations).toBe(6);
    expect(summary.finalCost).toBeGreaterThan(0);
    const model = decodeModel(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    expect(model.network.layers).toEqual([784, 9, 784]);
    const features = readPng(join(dir, 'features.png'));
    expect(features.width).toBeGreaterThan(28);
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toContain('<svg');
  });

  it('rejects bad flags with one line', async () => {
    const c = capture();
    expect(await main(['train', '--rho', '1.5', '--quiet'], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/^wgnn: .*rho.*1\.5.*\n$/);
    const d = capture();
    expect(await main(['train', '--layers', '784,x'], d.io)).toBe(1);
    expect(d.err.join('')).toMatch(/--layers/);
  });

  const cases = [
    { name: '', extra: {} },
    { name: ', denoising with L-BFGS', extra: { corruption: { kind: 'mask' as const, level: 0.3 } } },
    { name: ', denoising with Adam', extra: { corruption: { kind: 'mask' as const, level: 0.3 } }, optimizer: { method: 'adam' as const, batchSize: 10, iterations: 6, seed: 2 } },
  ];
  for (const c of cases) it(`interrupted and resumed reaches the same cost as an uninterrupted run (CPU backend, same seed${c.name})`, async () => {
    const base = mkdtempSync(join(tmpdir(), 'wgnn-'));
    const cfg = (out: string): TrainConfig => tiny(out, { backend: 'cpu', network: { ...MAIN_JOB.network!, layers: [784, 5, 784], ...c.extra }, data: { source: 'mnist', limit: 25 }, ...(c.optimizer ? { optimizer: c.optimizer } : {}) });
    const whole = await train(cfg(join(base, 'whole')));
    const abort = new AbortController();
    const first = await train(cfg(join(base, 'parts')), {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.iteration === 3) abort.abort();
      },
    });
    expect(first.summary.stopReason).toBe('interrupted');
    expect(first.summary.iterations).toBe(3);
    const resumed = await train(cfg(join(base, 'parts')), { resume: true });
    expect(resumed.summary.iterations).toBe(whole.summary.iterations);
    expect(resumed.summary.finalCost).toBe(whole.summary.finalCost);
    expect(Array.from(decodeModel(new Uint8Array(readFileSync(join(base, 'parts', 'model.safetensors')))).theta)).toEqual(
      Array.from(decodeModel(new Uint8Array(readFileSync(join(base, 'whole', 'model.safetensors')))).theta),
    );
  });
});
