// PyTorch export: the exported model.py's cost and autograd gradient equal the
// engine's float64 CPU reference to 1e-10 for every loss, regularizer and option;
// model files and state_dicts round-trip between the two.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuCost } from '../src/cpu/network.js';
import { corruptMatrix } from '../src/noise.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type Matrix, type NetworkSpec } from '../src/spec.js';
import { oneHot } from '../src/data/labels.js';
import { main } from '../src/cli/main.js';
import { float64Bytes } from '../src/cli/io.js';
import { runPython, torchPython } from './helpers/torch.js';

const HERE = new URL('.', import.meta.url).pathname;

interface Case {
  name: string;
  spec: NetworkSpec;
  /** Corrupt the input with this noise seed (denoising specs). */
  corruptSeed?: number;
}

const CASES: Case[] = [
  { name: 'squared loss, sigmoid, weight decay', spec: { layers: [5, 4, 3], activation: 'sigmoid', lambda: 0.01 } },
  { name: 'cross-entropy (sigmoid output), tanh hidden', spec: { layers: [5, 6, 3], activation: ['tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 0.003 } },
  { name: 'softmax cross-entropy, relu hidden', spec: { layers: [5, 6, 4], activation: ['relu', 'softmax'], loss: 'softmax-cross-entropy', lambda: 0.02 } },
  { name: 'sparse autoencoder (KL on ρ̂ of the batch)', spec: { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, sparsity: { rho: 0.1, beta: 3 }, lambda: 1e-3 } },
  { name: 'L1 activation penalty, softplus hidden', spec: { layers: [6, 5, 6], activation: ['softplus', 'identity'], autoencoder: true, l1: { weight: 0.05 } } },
  { name: 'contractive autoencoder', spec: { layers: [6, 4, 6], activation: ['sigmoid', 'identity'], autoencoder: true, contractive: { weight: 0.2 }, lambda: 1e-3 } },
  { name: 'tied weights', spec: { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, tied: true, lambda: 0.01 } },
  { name: 'k-sparse, tied', spec: { layers: [8, 6, 8], activation: ['relu', 'identity'], autoencoder: true, tied: true, kSparse: { k: 3 } } },
  { name: 'denoising: mask', spec: { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, corruption: { kind: 'mask', level: 0.3 } }, corruptSeed: 12345 },
  { name: 'denoising: gaussian', spec: { layers: [6, 4, 6], activation: ['elu', 'identity'], autoencoder: true, corruption: { kind: 'gaussian', level: 0.4 } }, corruptSeed: 777 },
  { name: 'denoising: salt-pepper, cross-entropy', spec: { layers: [6, 4, 6], activation: 'sigmoid', loss: 'cross-entropy', autoencoder: true, corruption: { kind: 'salt-pepper', level: 0.25, low: -0.5, high: 1.5 } }, corruptSeed: 99 },
  {
    name: 'deeper tied stack: elu, prelu, hardtanh, softsign; sparsity, L1, k-sparse on separate layers',
    spec: {
      layers: [6, 5, 3, 5, 6],
      activation: ['sigmoid', { name: 'prelu', alpha: 0.2 }, { name: 'elu', alpha: 0.7 }, 'softsign'],
      autoencoder: true,
      tied: true,
      lambda: 0.004,
      sparsity: { rho: 0.2, beta: 0.5, layers: [2] },
      l1: { weight: 0.03, layers: [4] },
      kSparse: { k: 2, layers: [3] },
    },
  },
  { name: 'hardtanh and tanh, 3 weight layers, targets', spec: { layers: [4, 7, 5, 3], activation: ['hardtanh', 'tanh', 'identity'], lambda: 0.001 } },
];

const M = 12;

function randomMatrix(rng: Rng, rows: number, cols: number, lo: number, hi: number): Matrix {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => rng.range(lo, hi)) };
}

function targets(rng: Rng, spec: NetworkSpec): Matrix | undefined {
  const net = resolveSpec(spec);
  if (net.autoencoder) return undefined;
  const nL = net.layers[net.layers.length - 1]!;
  if (net.loss === 'softmax-cross-entropy') return oneHot(Uint8Array.from({ length: M }, () => rng.int(nL)), nL);
  return randomMatrix(rng, M, nL, net.loss === 'cross-entropy' ? 0 : -1, 1);
}

function expectClose(got: number, want: number, tol: number, what: string): void {
  const err = Math.abs(got - want) / Math.max(1, Math.abs(want));
  expect(err, `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(tol);
}

let work: string;
let pkg: string;

beforeAll(async () => {
  torchPython(); // fails loudly, with the fix, when python3-torch is missing
  work = mkdtempSync(join(tmpdir(), 'wgnn-torch-'));
  pkg = join(work, 'pkg');
  // The package comes from the CLI, as a user gets it.
  const first = join(work, 'first.safetensors');
  const net = resolveSpec(CASES[0]!.spec);
  writeFileSync(first, encodeModel(net, initParameters(net, { seed: 1 }), null, 'F64'));
  const out: string[] = [];
  const status = await main(['export', '--model', first, '--format', 'pytorch', '--out', pkg], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
  expect(status, out.join('')).toBe(0);
  for (const f of ['model.py', 'train_ddp.py', 'model.safetensors', 'README.md']) expect(existsSync(join(pkg, f)), f).toBe(true);
});

describe('PyTorch export: exact objective', () => {
  it('cost, parts, ρ̂ and ∇J equal the CPU float64 reference to 1e-10 for every loss, regularizer and option', () => {
    const rng = new Rng(2026);
    const manifest: { dir: string; m: number; targets: boolean; corruptSeed: number | null }[] = [];
    const expected = CASES.map((c, i) => {
      const net = resolveSpec(c.spec);
      const theta = initParameters(net, { seed: 10 + i, init: 'glorot' }).map((v) => 1.5 * v);
      for (const s of paramLayout(net).slots) for (let j = 0; j < s.nOut; j++) theta[s.b + j] = rng.range(-0.5, 0.5);
      const X = randomMatrix(rng, M, net.layers[0]!, 0, 1);
      const Y = targets(rng, c.spec);
      const input = c.corruptSeed !== undefined ? { rows: M, cols: X.cols, data: corruptMatrix(X, c.spec.corruption!, c.corruptSeed) } : undefined;
      const report = cpuCost(net, theta, X, Y, { gradient: true, input });
      // One folder per case: the model file and X (and Y) as raw float64, as the driver reads them.
      const dir = join(work, `case${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.safetensors'), encodeModel(net, theta, null, 'F64'));
      writeFileSync(join(dir, 'X.bin'), float64Bytes(X.data));
      if (Y) writeFileSync(join(dir, 'Y.bin'), float64Bytes(Y.data));
      manifest.push({ dir, m: M, targets: !!Y, corruptSeed: c.corruptSeed ?? null });
      return { c, theta, report, input };
    });
    writeFileSync(join(work, 'cases.json'), JSON.stringify(manifest));
    runPython([join(HERE, 'helpers', 'torch_cost.py'), pkg, join(work, 'cases.json'), join(work, 'torch.json')]);
    const got = JSON.parse(readFileSync(join(work, 'torch.json'), 'utf8')) as {
      cost: number;
      parts: Record<string, number>;
      rhoHat: number[][];
      grad: number[];
      theta: number[];
      predict: number[];
      input: number[] | null;
    }[];
    expect(got.length).toBe(CASES.length);
    expected.forEach(({ c, theta, report, input }, i) => {
      const t = got[i]!;
      // θ read through load() is the engine's θ, in the same order.
      expect(t.theta, c.name).toEqual(Array.from(theta));
      // The corruption is the engine's noise: the same elements picked, bit for bit; Gaussian
      // noise to 1e-14 (√, ln and cos of two libms may differ in the last bit).
      if (input && c.spec.corruption!.kind === 'gaussian') input.data.forEach((v, j) => expect(Math.abs(t.input![j]! - v)).toBeLessThan(1e-14));
      else if (input) expect(t.input, `${c.name}: corrupted input`).toEqual(Array.from(input.data));
      expectClose(t.cost, report.cost, 1e-10, `${c.name}: J`);
      for (const [k, v] of Object.entries(report.parts)) expectClose(t.parts[k]!, v, 1e-10, `${c.name}: ${k}`);
      expect(t.rhoHat.length).toBe(report.rhoHat.length);
      report.rhoHat.forEach((r, k) => r.forEach((v, j) => expectClose(t.rhoHat[k]![j]!, v, 1e-10, `${c.name}: ρ̂[${k}][${j}]`)));
      expect(t.grad.length, c.name).toBe(report.grad!.length);
      report.grad!.forEach((g, j) => expectClose(t.grad[j]!, g, 1e-10, `${c.name}: ∂J/∂θ[${j}]`));
      // Every option must actually contribute, or the case tests nothing.
      const parts = report.parts;
      if (c.spec.sparsity) expect(parts.sparsity).toBeGreaterThan(0);
      if (c.spec.l1) expect(parts.l1).toBeGreaterThan(0);
      if (c.spec.contractive) expect(parts.contractive).toBeGreaterThan(0);
      if (c.spec.lambda) expect(parts.weightDecay).toBeGreaterThan(0);
    });
  });
});
