// Pipelines from one configuration, end to end on a few hundred digits:
// stacked autoencoders (features handed from stage to stage on the GPU, no
// readback), fine-tuning, self-taught learning, and accuracy smoke tests that
// fail if labels and features were misaligned.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { train } from '../src/train/run.js';
import { checkConfig, type TrainConfig } from '../src/train/config.js';
import { GpuModel } from '../src/gpu/model.js';
import { loadMnist } from '../src/data/mnist.js';
import { encodeIdx } from '../src/data/idx.js';
import { Rng } from '../src/prng.js';

const base = mkdtempSync(join(tmpdir(), 'wgnn-stacked-'));

const sparse = { activation: 'sigmoid', lambda: 3e-3, sparsity: { rho: 0.1, beta: 3 } } as const;

const tinyStacked = (out: string, backend: 'cpu' | 'webgpu', data: TrainConfig['data'] = { source: 'mnist', limit: 300 }): TrainConfig => ({
  name: 'tiny-stacked',
  seed: 1,
  backend,
  output: out,
  data,
  stacked: {
    autoencoders: [
      { hidden: 24, network: sparse, optimizer: { method: 'lbfgs', maxIterations: 8 } },
      { hidden: 16, network: { activation: 'sigmoid', lambda: 3e-3 }, optimizer: { method: 'lbfgs', maxIterations: 6 } },
    ],
    softmax: { lambda: 1e-4, optimizer: { method: 'lbfgs', maxIterations: 20 } },
    fineTune: { lambda: 1e-4, optimizer: { method: 'lbfgs', maxIterations: 15 } },
  },
});

/** Records every GpuModel.encode call that reads back a hidden layer (predict reads the output layer: allowed). */
function spyHiddenReadbacks(): number[][] {
  const hidden: number[][] = [];
  const original = GpuModel.prototype.encode;
  vi.spyOn(GpuModel.prototype, 'encode').mockImplementation(async function (this: GpuModel, X, layer = 2) {
    if (layer < this.network.layers.length) hidden.push([...this.network.layers, layer]);
    return original.call(this, X, layer);
  });
  return hidden;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('stacked autoencoders', () => {
  let gpuSummary: Awaited<ReturnType<typeof train>>['summary'];

  it('webgpu: pretraining, softmax and fine-tuning; features go from stage to stage on the GPU', async () => {
    const hidden = spyHiddenReadbacks();
    const encodeDataset = vi.spyOn(GpuModel.prototype, 'encodeDataset');
    const dir = join(base, 'gpu');
    const { summary } = await train(tinyStacked(dir, 'webgpu'));
    gpuSummary = summary;
    // No features were read back to the CPU: every stage after the first trained on a GPU data set.
    expect(hidden).toEqual([]);
    expect(encodeDataset).toHaveBeenCalledTimes(2);
    expect(summary.stages!.map((s) => [s.name, s.input])).toEqual([
      ['ae1', 'gpu'],
      ['ae2', 'gpu'],
      ['softmax', 'gpu'],
      ['fine-tune', 'gpu'],
    ]);
    expect(summary.stages!.map((s) => s.layers)).toEqual([[784, 24, 784], [24, 16, 24], [16, 10], [784, 24, 16, 10]]);
    const before = summary.testAccuracyBeforeFineTuning!;
    const after = summary.testAccuracy!;
    expect(after).toBeGreaterThan(0.5); // chance is 0.1
    expect(after).toBeGreaterThanOrEqual(before - 0.02);
    expect(summary.trainAccuracy).toBeGreaterThan(0.6);
    const cm = summary.confusionMatrix!;
    expect(cm).toHaveLength(10);
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(2000);
    for (const f of ['model.safetensors', 'model.json', 'features.png', 'loss.svg', 'summary.json', 'config.json', 'stages/ae1/features.png', 'stages/ae1/model.safetensors', 'stages/ae2/loss.svg', 'stages/softmax/loss.svg', 'stages/fine-tune/loss.svg']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const saved = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(saved.testAccuracy).toBe(after);
    expect(saved.testAccuracyBeforeFineTuning).toBe(before);
  });

  it('cpu: the same pipeline on matrices; the first stage agrees with the GPU run', async () => {
    const { summary } = await train(tinyStacked(join(base, 'cpu'), 'cpu'));
    expect(summary.stages!.map((s) => s.input)).toEqual(['cpu', 'cpu', 'cpu', 'cpu']);
    expect(summary.testAccuracy).toBeGreaterThan(0.5);
    expect(summary.testAccuracy!).toBeGreaterThanOrEqual(summary.testAccuracyBeforeFineTuning! - 0.02);
    if (gpuSummary) {
      const g = gpuSummary.stages![0]!.finalCost;
      const c = summary.stages![0]!.finalCost;
      expect(Math.abs(g - c) / c).toBeLessThan(1e-3);
    }
  });

  it('fails to learn when the labels are shuffled against the images (alignment smoke test)', async () => {
    // The same 300 digits as IDX files, once with their labels and once with the labels permuted.
    const { train: tr, test } = loadMnist({ seed: 1 });
    const n = 300;
    const bytes = (X: Float32Array | Float64Array, rows: number): Uint8Array => Uint8Array.from(X.subarray(0, rows * 784), (v) => Math.round(v * 255));
    const dir = join(base, 'idx');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'train-images'), encodeIdx([n, 28, 28], bytes(tr.X.data, n)));
    writeFileSync(join(dir, 'test-images'), encodeIdx([500, 28, 28], bytes(test.X.data, 500)));
    writeFileSync(join(dir, 'test-labels'), encodeIdx([500], test.labels.subarray(0, 500)));
    const labels = tr.labels.slice(0, n);
    writeFileSync(join(dir, 'train-labels'), encodeIdx([n], labels));
    const shuffled = labels.slice();
    new Rng(7).shuffle(shuffled);
    writeFileSync(join(dir, 'train-labels-shuffled'), encodeIdx([n], shuffled));
    const data = (labelFile: string): TrainConfig['data'] => ({
      source: 'idx', images: join(dir, 'train-images'), labels: join(dir, labelFile), testImages: join(dir, 'test-images'), testLabels: join(dir, 'test-labels'),
    });
    const right = await train(tinyStacked(join(base, 'aligned'), 'cpu', data('train-labels')));
    const wrong = await train(tinyStacked(join(base, 'shuffled'), 'cpu', data('train-labels-shuffled')));
    expect(right.summary.testAccuracy).toBeGreaterThan(0.5);
    expect(wrong.summary.testAccuracy).toBeLessThan(0.25);
  });
});

describe('self-taught learning', () => {
  const selfTaught = (out: string, backend: 'cpu' | 'webgpu'): TrainConfig => ({
    name: 'tiny-self-taught',
    seed: 1,
    backend,
    output: out,
    data: { source: 'mnist', limit: 400 },
    selfTaught: {
      unlabeledClasses: [5, 6, 7, 8, 9],
      labeledClasses: [0, 1, 2, 3, 4],
      autoencoder: { hidden: 32, network: sparse, optimizer: { method: 'lbfgs', maxIterations: 12 } },
      softmax: { lambda: 1e-4, optimizer: { method: 'lbfgs', maxIterations: 40 } },
      // The raw-pixel softmax runs on the CPU backend only (it is the same code path as any classifier on the GPU).
      compareRawPixels: backend === 'cpu',
    },
  });

  for (const backend of ['webgpu', 'cpu'] as const) {
    it(`${backend}: autoencoder on digits 5–9, softmax on its features of digits 0–4${backend === 'cpu' ? ', beside raw pixels' : ''}`, async () => {
      const hidden = spyHiddenReadbacks();
      const dir = join(base, `self-taught-${backend}`);
      const { summary } = await train(selfTaught(dir, backend));
      expect(hidden).toEqual([]);
      const [ae, soft, raw] = summary.stages!;
      expect(ae!.name).toBe('autoencoder');
      // The autoencoder saw only the unlabeled classes, the classifiers only the labeled ones (≈ half of 400 each).
      expect(ae!.examples + soft!.examples).toBe(400);
      expect(ae!.examples).toBeGreaterThan(120);
      expect(soft!.layers).toEqual([32, 5]);
      if (backend === 'cpu') {
        expect(raw!.name).toBe('raw-pixels');
        expect(raw!.examples).toBe(soft!.examples);
        expect(summary.rawPixelTestAccuracy).toBeGreaterThan(0.85);
      } else {
        expect(raw).toBeUndefined();
        expect(summary.stages!.map((s) => s.input)).toEqual(['gpu', 'gpu']);
      }
      expect(summary.confusionMatrix).toHaveLength(5);
      // Five classes: chance is 0.2.
      // (12 L-BFGS iterations of the autoencoder: 0.759 on the CPU, 0.766 on the GPU; raw pixels 0.939.)
      expect(summary.testAccuracy).toBeGreaterThan(0.6);
      expect(existsSync(join(dir, 'stages', 'autoencoder', 'features.png'))).toBe(true);
    });
  }
});

describe('pipeline configuration', () => {
  const ok = tinyStacked('x', 'cpu');
  it('errors name the offending key and value', () => {
    expect(() => checkConfig({ ...ok, network: { layers: [784, 10], activation: 'softmax' } })).toThrow(/"network" does not go with "stacked"/);
    expect(() => checkConfig({ ...ok, stacked: { ...ok.stacked!, autoencoders: [] } })).toThrow(/stacked\.autoencoders must be a non-empty list, got \[\]/);
    expect(() => checkConfig({ ...ok, stacked: { ...ok.stacked!, autoencoders: [{ hidden: 0, optimizer: { method: 'adam' } }] } })).toThrow(/stacked\.autoencoders\[0\]\.hidden must be a positive integer, got 0/);
    expect(() => checkConfig({ ...ok, stacked: { ...ok.stacked!, softmax: { optimizer: { method: 'newton' } } } } as never)).toThrow(/stacked\.softmax\.optimizer\.method must be one of .*, got "newton"/);
    expect(() => checkConfig({ ...ok, stacked: { ...ok.stacked!, autoencoders: [{ hidden: 5, network: { sparsity: { rho: 2, beta: 3 } }, optimizer: { method: 'adam' } }] } })).toThrow(/stacked\.autoencoders\[0\]\.network: .*rho/);
    expect(() => checkConfig({ ...ok, stacked: { ...ok.stacked!, autoencoders: [{ hidden: 5, network: { kSparse: { k: 2 } }, optimizer: { method: 'adam' } }] } })).toThrow(/stacked\.autoencoders\[0\]\.network: kSparse autoencoders cannot be stacked/);
    expect(() => checkConfig({ ...ok, data: { source: 'natural', patches: { count: 10, size: 8 } } })).toThrow(/needs labeled data .*"natural"/);
    const st = { unlabeledClasses: [5, 6], labeledClasses: [0, 5], autoencoder: { hidden: 4, optimizer: { method: 'lbfgs' } }, softmax: { optimizer: { method: 'lbfgs' } } };
    expect(() => checkConfig({ name: 'st', data: { source: 'mnist' }, selfTaught: st } as never)).toThrow(/class 5 is both labeled and unlabeled/);
    expect(() => checkConfig({ name: 'st', data: { source: 'mnist' } })).toThrow(/needs "network"/);
  });
});
