// Whole-network parity, one table: cost parts, ρ̂ and ∇θ on WebGPU (float32)
// against the float64 CPU reference (cpuCost), for every activation, every loss,
// weight decay, KL sparsity, L1, 1–3 hidden layers, the autoencoder options
// (tied weights, contractive, k-sparse, denoising with the GPU's own corruption),
// the variational autoencoder (its ε drawn on the GPU, from the reference's uniforms)
// and data cut into chunks. One harness, one tolerance table.
import { describe, expect, it } from 'vitest';
import { cpuCost } from '../src/cpu/network.js';
import { createGpuModel } from '../src/gpu/model.js';
import type { GemmVariant } from '../src/gpu/kernels.js';
import { corruptMatrix } from '../src/noise.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { gpu, randomArray, recordDispatchLabels, relNormDiff } from './helpers/gpu.js';

/** Relative to the CPU: each cost part and J (by |J|), ρ̂ and ∇θ (‖Δ‖/‖·‖). */
const TOL = { cost: 1e-5, rhoHat: 1e-5, grad: 1e-4 } as const;
const PARTS = ['data', 'weightDecay', 'sparsity', 'l1', 'contractive'] as const;

interface Case {
  name: string;
  spec: NetworkSpec;
  /** Examples. */
  m: number;
  /** Seeds θ (Glorot), X and Y. */
  seed: number;
  /** Examples per chunk (default: one chunk). */
  chunk?: number;
  /** Denoising: the evaluation's noise seed. */
  noiseSeed?: number;
  /** VAE: the evaluation's ε seed. */
  epsSeed?: number;
  /** Force a GEMM variant (default: the autotuner's choice). */
  gemmVariant?: GemmVariant;
}

const HIDDEN_ACTIVATIONS = ['sigmoid', 'tanh', 'identity', 'relu', 'prelu', 'elu', 'softplus', 'softsign', 'hardtanh'] as const;
const sae = { activation: 'sigmoid', autoencoder: true, lambda: 1e-3 } as const;
const klTwoLayersL1: NetworkSpec = {
  layers: [5, 6, 7, 6, 5], activation: ['sigmoid', 'tanh', 'sigmoid', 'identity'], autoencoder: true, lambda: 1e-3,
  sparsity: { rho: 0.2, beta: 0.5, layers: [2, 4] }, l1: { weight: 0.1, layers: [3] },
};

const CASES: Case[] = [
  // Activations and losses.
  ...HIDDEN_ACTIVATIONS.map((act) => ({ name: `hidden ${act}, squared error, weight decay`, spec: { layers: [7, 9, 5], activation: [act, 'sigmoid'], loss: 'squared', lambda: 1e-3 } as NetworkSpec, m: 13, seed: 1 })),
  ...HIDDEN_ACTIVATIONS.map((act) => ({ name: `output ${act}, squared error`, spec: { layers: [6, 5, 4], activation: ['tanh', act], loss: 'squared' } as NetworkSpec, m: 9, seed: 2 })),
  { name: 'binary cross-entropy (sigmoid output), 2 hidden layers', spec: { layers: [8, 6, 7, 3], activation: ['relu', 'tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 1e-2 }, m: 17, seed: 3 },
  { name: 'softmax cross-entropy, 3 hidden layers', spec: { layers: [10, 9, 8, 7, 4], activation: ['elu', 'softplus', 'sigmoid', 'softmax'], loss: 'softmax-cross-entropy', lambda: 3e-3 }, m: 21, seed: 4 },
  // Regularizers.
  { name: 'sparse autoencoder 64-25-64 (ρ = 0.01, β = 3, λ = 1e-4), batch 20', spec: { layers: [64, 25, 64], activation: 'sigmoid', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } }, m: 20, seed: 1 },
  { name: 'KL sparsity on two hidden layers and L1 on another, batch 1', spec: klTwoLayersL1, m: 1, seed: 5 },
  { name: 'KL sparsity on two hidden layers and L1 on another, batch 33', spec: klTwoLayersL1, m: 33, seed: 5 },
  // Chunked data: ∇θ accumulates exactly, ρ̂ over all chunks first.
  { name: 'chunked (7 per chunk), KL sparsity', spec: { layers: [9, 6, 9], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } }, m: 30, seed: 6, chunk: 7 },
  { name: 'chunked (8 per chunk), softmax', spec: { layers: [9, 6, 4], activation: ['tanh', 'softmax'], loss: 'softmax-cross-entropy' }, m: 30, seed: 6, chunk: 8 },
  // Autoencoder options.
  { name: 'tied weights, one hidden layer, KL sparsity', spec: { ...sae, layers: [13, 6, 13], tied: true, sparsity: { rho: 0.1, beta: 3 } }, m: 23, seed: 1 },
  { name: 'tied weights, one hidden layer, KL sparsity, chunked', spec: { ...sae, layers: [13, 6, 13], tied: true, sparsity: { rho: 0.1, beta: 3 } }, m: 23, seed: 1, chunk: 10 },
  { name: 'tied weights, three hidden layers', spec: { ...sae, layers: [13, 7, 4, 7, 13], tied: true }, m: 19, seed: 1 },
  { name: 'contractive', spec: { ...sae, layers: [11, 6, 11], contractive: { weight: 0.2 } }, m: 21, seed: 1 },
  { name: 'contractive, chunked', spec: { ...sae, layers: [11, 6, 11], contractive: { weight: 0.2 } }, m: 21, seed: 1, chunk: 8 },
  { name: 'contractive, tied', spec: { ...sae, layers: [11, 6, 11], contractive: { weight: 0.2 }, tied: true }, m: 21, seed: 1 },
  { name: 'k-sparse, linear units', spec: { layers: [12, 9, 12], activation: ['identity', 'sigmoid'], autoencoder: true, lambda: 1e-3, kSparse: { k: 3 } }, m: 17, seed: 1 },
  { name: 'k-sparse, sigmoid units, chunked', spec: { ...sae, layers: [12, 9, 12], kSparse: { k: 4 } }, m: 17, seed: 1, chunk: 6 },
  ...(['mask', 'gaussian', 'salt-pepper'] as const).map((kind) => ({
    name: `denoising, ${kind} noise: the GPU corrupts exactly as the reference, chunked`,
    spec: { ...sae, layers: [14, 5, 14], corruption: { kind, level: kind === 'gaussian' ? 0.2 : 0.3, seed: 9 } } as NetworkSpec,
    m: 25, seed: 1, chunk: 11, noiseSeed: 1234,
  })),
  // Split-K GEMMs (real GPUs only in the autotuner, forced here): each chunk's ∇W (7 × 20 × 300,
  // 19 k-tiles) in 2 K slices, the two chunks sharing one scratch and accumulating into ∇θ.
  { name: 'split-K GEMMs (tiled-128-splitk), KL sparsity, two chunks of 300', spec: { ...sae, layers: [20, 7, 20], sparsity: { rho: 0.1, beta: 3 } }, m: 600, seed: 7, chunk: 300, gemmVariant: 'tiled-128-splitk' },
  // Variational autoencoder: cost = rec + β·KL (+ weight decay); ε from the same counter-based uniforms.
  { name: 'VAE, Bernoulli, tanh, β = 2, weight decay', spec: { layers: [13, 9, 3, 9, 13], activation: ['tanh', 'identity', 'tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 1e-3, vae: { beta: 2 } }, m: 19, seed: 1, epsSeed: 77 },
  { name: 'VAE, Gaussian, relu/softplus, 7 layers, chunked', spec: { layers: [10, 8, 6, 3, 6, 8, 10], activation: ['relu', 'softplus', 'identity', 'elu', 'relu', 'identity'], loss: 'squared', vae: { beta: 0.5 } }, m: 23, seed: 3, chunk: 9, epsSeed: 5 },
  { name: 'VAE, denoising (gaussian) and one weight layer each side, chunked', spec: { layers: [12, 2, 12], activation: ['identity', 'sigmoid'], loss: 'cross-entropy', corruption: { kind: 'gaussian', level: 0.2, seed: 3 }, vae: {} }, m: 17, seed: 4, chunk: 7, noiseSeed: 31, epsSeed: 32 },
];

function uniform(rng: Rng, rows: number, cols: number): Matrix {
  return { rows, cols, data: Float64Array.from(Float32Array.from(randomArray(rng, rows * cols, 0, 1))) };
}

function oneHot(rng: Rng, rows: number, cols: number): Matrix {
  const d = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols + rng.int(cols)] = 1;
  return { rows, cols, data: d };
}

async function parity(c: Case): Promise<void> {
  const net = resolveSpec(c.spec);
  const rng = new Rng(c.seed + 10);
  const nL = net.layers[net.layers.length - 1]!;
  // θ and X rounded to float32, so both backends start from the same numbers.
  const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed: c.seed })));
  const X = uniform(rng, c.m, net.layers[0]!);
  const Y = net.autoencoder ? undefined : net.loss === 'softmax-cross-entropy' ? oneHot(rng, c.m, nL) : uniform(rng, c.m, nL);
  const input = c.noiseSeed === undefined ? undefined : { rows: X.rows, cols: X.cols, data: corruptMatrix(X, net.corruption!, c.noiseSeed) };
  const want = cpuCost(net, theta, X, Y, { gradient: true, input, noiseSeed: c.epsSeed });

  const ctx = await gpu();
  const model = await createGpuModel(net, theta, ctx.device, { maxChunkRows: c.chunk, gemmVariant: c.gemmVariant });
  const ds = model.upload(X, Y);
  try {
    if (c.chunk) expect(ds.chunks.length, 'chunks').toBe(Math.ceil(c.m / c.chunk));
    const rec = recordDispatchLabels(ctx.device);
    await model.evaluate(ds, { noiseSeed: c.noiseSeed, epsSeed: c.epsSeed });
    rec.stop();
    // Split-K really split: both ∇W GEMMs of each chunk (K = 300 rows), nothing else.
    if (c.gemmVariant === 'tiled-128-splitk') expect(rec.labels.filter((l) => / split 2$/.test(l))).toEqual(['gemm TN 20x7x300 split 2', 'gemm TN 7x20x300 split 2', 'gemm TN 20x7x300 split 2', 'gemm TN 7x20x300 split 2']);
    const [got, rhoHat, grad] = [await model.readCost(), await model.readRhoHat(), await model.readGradient()];
    const parts = net.vae ? [...PARTS, 'kl' as const] : PARTS;
    expect(PARTS.reduce((s, p) => s + got.parts[p], 0) + (net.vae ? net.vae.beta * got.parts.kl! : 0)).toBeCloseTo(got.cost, 5);
    for (const part of parts) expect(Math.abs(got.parts[part]! - want.parts[part]!) / (1e-12 + Math.abs(want.cost)), part).toBeLessThan(TOL.cost);
    expect(Math.abs(got.cost - want.cost) / Math.abs(want.cost), 'cost').toBeLessThan(TOL.cost);
    expect(rhoHat.length).toBe(want.rhoHat.length);
    want.rhoHat.forEach((r, k) => expect(relNormDiff(rhoHat[k]!, r), `rhoHat ${k}`).toBeLessThan(TOL.rhoHat));
    expect(relNormDiff(grad, want.grad!), '∇θ').toBeLessThan(TOL.grad);
  } finally {
    model.release(ds);
    model.dispose();
  }
}

describe('GPU cost parts, ρ̂ and ∇θ equal the CPU reference', () => {
  for (const c of CASES) it(c.name, () => parity(c));
});
