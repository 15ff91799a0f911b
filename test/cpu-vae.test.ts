// The variational autoencoder in the float64 reference (src/cpu/vae.ts): the spec's
// rules, θ layout and tensor names, the gradient with ε fixed against central
// differences for every combination that is allowed, the closed-form KL against a
// Monte-Carlo estimate, and the statistics of ε.
import { describe, expect, it } from 'vitest';
import { cpuCost } from '../src/cpu/network.js';
import { cpuVaeCost, cpuVaeDecode, cpuVaeEncode, cpuVaeNegElbo, cpuVaeNll, klPerExample, sampleLatent, vaeEpsilon } from '../src/cpu/vae.js';
import { gradientCheck } from '../src/gradcheck.js';
import { latentScatter, manifoldCodes, normalQuantile } from '../src/viz/latent.js';
import { decodeModel, encodeModel, modelJson } from '../src/io/model-file.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { evaluationSeed, noiseNormal, noiseUniform, NORMAL_STREAM } from '../src/noise.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, SpecError, type Network, type NetworkSpec } from '../src/spec.js';
import { matrix, type Matrix } from '../src/matrix.js';

function setup(spec: NetworkSpec, m = 6, seed = 1): { net: Network; theta: Float64Array; X: Matrix } {
  const net = resolveSpec(spec);
  const rng = new Rng(seed);
  const theta = Float64Array.from({ length: paramLayout(net).size }, () => rng.range(-0.5, 0.5));
  const X = matrix(m, net.layers[0]!, Array.from({ length: m * net.layers[0]! }, () => rng.uniform()));
  return { net, theta, X };
}

/** relDiff of the gradient with ε fixed (one noise seed for every evaluation). */
function relDiff(net: Network, theta: Float64Array, X: Matrix, input?: Matrix): number {
  const noiseSeed = 12345;
  return gradientCheck((t) => {
    const r = cpuCost(net, t, X, undefined, { gradient: true, input, noiseSeed });
    return { cost: r.cost, grad: r.grad! };
  }, theta, { epsilon: 1e-5, cost: (t) => cpuCost(net, t, X, undefined, { gradient: false, input, noiseSeed }).cost }).relDiff;
}

const bernoulli = { layers: [7, 5, 3, 5, 7], activation: ['tanh', 'identity', 'tanh', 'sigmoid'], loss: 'cross-entropy', vae: {} } as NetworkSpec;

describe('VAE spec', () => {
  it('implies an autoencoder, defaults β = 1 and seed 1, and round-trips through networkToSpec', () => {
    const net = resolveSpec(bernoulli);
    expect(net.autoencoder).toBe(true);
    expect(net.vae).toEqual({ beta: 1, seed: 1, latent: 2 });
    expect(resolveSpec({ ...bernoulli, vae: { beta: 0.5, seed: 7 } }).vae).toEqual({ beta: 0.5, seed: 7, latent: 2 });
  });

  it('refuses what does not combine, naming the value', () => {
    const bad: [Partial<NetworkSpec>, RegExp][] = [
      [{ layers: [7, 5, 3, 4, 7] }, /mirror-image layers with an odd count/],
      [{ layers: [7, 3, 3, 7], activation: ['tanh', 'identity', 'sigmoid'] }, /mirror-image layers with an odd count/],
      [{ activation: ['tanh', 'relu', 'tanh', 'sigmoid'] }, /latent layer 3 must use the identity activation.*relu/],
      [{ activation: ['tanh', 'identity', 'tanh', 'tanh'] }, /needs a sigmoid output layer/],
      [{ activation: 'identity', loss: 'cross-entropy' }, /latent|sigmoid/],
      [{ loss: 'squared' }, /Gaussian VAE.*identity output layer, got sigmoid/],
      [{ tied: true }, /cannot tie weights/],
      [{ l1: { weight: 0.1 } }, /does not combine with l1/],
      [{ kSparse: { k: 2 } }, /does not combine with kSparse/],
      [{ autoencoder: false }, /a VAE is an autoencoder/],
      [{ vae: { beta: -1 } }, /vae beta must be a finite number ≥ 0, got -1/],
      [{ vae: { seed: 1.5 } }, /vae seed must be an integer/],
      [{ vae: { betta: 1 } as never }, /network.vae.betta is not a known key \(did you mean network.vae.beta\?\)/],
    ];
    for (const [patch, msg] of bad) expect(() => resolveSpec({ ...bernoulli, ...patch } as NetworkSpec), JSON.stringify(patch)).toThrow(msg);
    expect(() => resolveSpec({ ...bernoulli, activation: ['sigmoid', 'identity', 'sigmoid', 'sigmoid'], sparsity: { rho: 0.1, beta: 1, layers: [2] } })).toThrow(SpecError);
  });

  it('θ: the head pair W_mu; W_logvar (2d × n) then b_mu; b_logvar, named apart in the model file', () => {
    const net = resolveSpec(bernoulli);
    const layout = paramLayout(net);
    expect(layout.slots.map((s) => [s.nOut, s.nIn, s.heads])).toEqual([[5, 7, 1], [6, 5, 2], [5, 3, 1], [7, 5, 1]]);
    expect(layout.size).toBe(5 * 7 + 5 + 6 * 5 + 6 + 5 * 3 + 5 + 7 * 5 + 7);
    const theta = initParameters(net, { seed: 2 });
    const bytes = encodeModel(net, theta, null, 'F64');
    const { tensors } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual(['W1', 'W2_logvar', 'W2_mu', 'W3', 'W4', 'b1', 'b2_logvar', 'b2_mu', 'b3', 'b4']);
    const h = layout.slots[1]!;
    expect(Array.from(tensors.W2_mu!.data)).toEqual(Array.from(theta.subarray(h.w, h.w + 15)));
    expect(Array.from(tensors.W2_logvar!.data)).toEqual(Array.from(theta.subarray(h.w + 15, h.w + 30)));
    expect(Array.from(tensors.b2_logvar!.data)).toEqual(Array.from(theta.subarray(h.b + 3, h.b + 6)));
    expect(tensors.W2_mu!.shape).toEqual([3, 5]);
    const back = decodeModel(bytes);
    expect(Array.from(back.theta)).toEqual(Array.from(theta));
    expect(back.network.vae).toEqual(net.vae);
    expect(modelJson(net).layout).toMatch(/W2_mu \[3×5\], W2_logvar \[3×5\], b2_mu \[3\], b2_logvar \[3\]/);
  });
});

describe('VAE cost and gradient (ε fixed)', () => {
  it('the cost is the mean of rec + β·KL plus weight decay; parts reported', () => {
    const { net, theta, X } = setup({ ...bernoulli, lambda: 1e-2, vae: { beta: 2 } });
    const r = cpuVaeCost(net, theta, X, { gradient: false, noiseSeed: 5 });
    const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(r.parts.data).toBeCloseTo(mean(r.perExample.reconstruction), 14);
    expect(r.parts.kl).toBeCloseTo(mean(r.perExample.kl), 14);
    expect(r.cost).toBeCloseTo(r.parts.data + 2 * r.parts.kl! + r.parts.weightDecay, 12);
    expect(r.parts.weightDecay).toBeGreaterThan(0);
    // Another ε gives another cost; the same seed the same one.
    expect(cpuVaeCost(net, theta, X, { gradient: false, noiseSeed: 6 }).cost).not.toBe(r.cost);
    expect(cpuVaeCost(net, theta, X, { gradient: false, noiseSeed: 5 }).cost).toBe(r.cost);
  });

  const cases: [string, NetworkSpec][] = [
    ['Bernoulli, deep, tanh', bernoulli],
    ['Bernoulli, one weight layer each side, β = 0.3', { layers: [6, 2, 6], activation: ['identity', 'sigmoid'], loss: 'cross-entropy', vae: { beta: 0.3 } }],
    ['Gaussian, deep, softplus/elu, weight decay', { layers: [5, 4, 2, 4, 5], activation: ['softplus', 'identity', { name: 'elu', alpha: 0.7 }, 'identity'], loss: 'squared', lambda: 3e-3, vae: {} }],
    ['Bernoulli, 7 layers, sigmoid/prelu/softsign, β = 4', { layers: [6, 5, 4, 2, 4, 5, 6], activation: ['sigmoid', { name: 'prelu', alpha: 0.2 }, 'identity', 'softsign', 'tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 1e-3, vae: { beta: 4 } }],
    ['Gaussian, relu', { layers: [5, 6, 3, 6, 5], activation: ['relu', 'identity', 'relu', 'identity'], loss: 'squared', vae: {} }],
    ['Bernoulli, hardtanh, β = 0', { layers: [5, 6, 3, 6, 5], activation: ['hardtanh', 'identity', 'hardtanh', 'sigmoid'], loss: 'cross-entropy', vae: { beta: 0 } }],
  ];
  for (const [name, spec] of cases) {
    it(`gradient check < 1e-9: ${name}`, () => {
      const { net, theta, X } = setup(spec);
      expect(relDiff(net, theta, X)).toBeLessThan(1e-9);
    });
  }

  it('gradient check < 1e-9: a denoising VAE (corrupted input, clean target)', () => {
    const { net, theta, X } = setup({ ...bernoulli, corruption: { kind: 'gaussian', level: 0.3 }, lambda: 1e-3 });
    const rng = new Rng(9);
    const noisy = matrix(X.rows, X.cols, Array.from(X.data, (v) => v + 0.3 * rng.normal()));
    expect(relDiff(net, theta, X, noisy)).toBeLessThan(1e-9);
    // The input changes the cost; the clean X stays the target.
    expect(cpuCost(net, theta, X, undefined, { gradient: false, input: noisy, noiseSeed: 1 }).cost).not.toBe(cpuCost(net, theta, X, undefined, { gradient: false, noiseSeed: 1 }).cost);
  });

  it('with ε = 0 and β = 0, the cost is the plain autoencoder through μ', () => {
    const { net, theta, X } = setup({ ...bernoulli, vae: { beta: 0 } });
    const r = cpuVaeCost(net, theta, X, { gradient: false, eps: new Float64Array(X.rows * 3) });
    const { mu } = cpuVaeEncode(net, theta, X);
    const out = cpuVaeDecode(net, theta, mu);
    let s = 0;
    for (let i = 0; i < X.data.length; i++) {
      const a = out.data[i]!;
      const x = X.data[i]!;
      s -= x * Math.log(a) + (1 - x) * Math.log(1 - a);
    }
    expect(r.cost).toBeCloseTo(s / X.rows, 10);
  });
});

describe('KL term', () => {
  it('matches a Monte-Carlo estimate of E_q[log q(z|x) − log p(z)]', () => {
    const d = 4;
    const mu = [0.3, -1.2, 0, 2];
    const lv = [0, -0.7, 1.1, -2];
    const H = Float64Array.from([...mu, ...lv]);
    const closed = klPerExample(H, 1, d)[0]!;
    const N = 200_000;
    let sum = 0;
    let sum2 = 0;
    for (let s = 0; s < N; s++) {
      let t = 0;
      for (let j = 0; j < d; j++) {
        const e = noiseNormal(77, s * d + j);
        const z = mu[j]! + Math.exp(0.5 * lv[j]!) * e;
        // log q − log p = −½ lv − ½ ε² + ½ z²  (the ½ log 2π cancel)
        t += -0.5 * lv[j]! - 0.5 * e * e + 0.5 * z * z;
      }
      sum += t;
      sum2 += t * t;
    }
    const mean = sum / N;
    const se = Math.sqrt((sum2 / N - mean * mean) / N);
    expect(Math.abs(mean - closed)).toBeLessThan(4 * se);
    expect(se).toBeLessThan(0.02);
  });
});

describe('ε: a Gaussian transform of the counter-based noise', () => {
  it('has mean 0, variance 1, normal tails, and is independent across evaluations and examples', () => {
    const N = 100_000;
    const a = Array.from({ length: N }, (_, i) => noiseNormal(evaluationSeed(1, 0), i));
    const b = Array.from({ length: N }, (_, i) => noiseNormal(evaluationSeed(1, 1), i));
    const mean = a.reduce((s, v) => s + v, 0) / N;
    const v = a.reduce((s, x) => s + (x - mean) ** 2, 0) / N;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(N));
    expect(Math.abs(v - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
    const tail = a.filter((x) => Math.abs(x) > 1.96).length / N; // 5% for N(0, 1)
    expect(Math.abs(tail - 0.05)).toBeLessThan(4 * Math.sqrt(0.05 * 0.95 / N));
    const corr = (x: number[], y: number[]): number => x.reduce((s, xi, i) => s + xi * y[i]!, 0) / N;
    expect(Math.abs(corr(a, b))).toBeLessThan(4 / Math.sqrt(N)); // across evaluations
    expect(Math.abs(corr(a.slice(1), a.slice(0, -1)))).toBeLessThan(4 / Math.sqrt(N)); // neighbouring elements
    // Its uniforms are the corruption noise's, on streams 2 and 3.
    const u0 = noiseUniform(9, 3, NORMAL_STREAM);
    const u1 = noiseUniform(9, 3, NORMAL_STREAM + 1);
    expect(noiseNormal(9, 3)).toBe(Math.sqrt(-2 * Math.log(1 - u0)) * Math.cos(2 * Math.PI * u1));
  });

  it('vaeEpsilon indexes examples by global row, so chunks agree with the whole', () => {
    const net = resolveSpec(bernoulli);
    const all = vaeEpsilon(net, 3, 10);
    expect(Array.from(vaeEpsilon(net, 3, 4, 6))).toEqual(Array.from(all.subarray(18)));
  });
});

describe('evaluation', () => {
  it('the importance-weighted NLL lies below the −ELBO and tightens with k; k = 1 matches the single-sample bound', () => {
    const { net, theta, X } = setup(bernoulli, 5, 3);
    const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    const nll1 = mean(cpuVaeNll(net, theta, X, 1, 4));
    const nll200 = mean(cpuVaeNll(net, theta, X, 200, 4));
    // k = 1: −log w with the first sample's ε is rec + log q − log p, whose mean over ε is the −ELBO.
    const elbo = Array.from({ length: 400 }, (_, s) => mean(cpuVaeNegElbo(net, theta, X, evaluationSeed(11, s))));
    const negElbo = elbo.reduce((s, v) => s + v, 0) / elbo.length;
    expect(nll200).toBeLessThan(negElbo);
    expect(nll200).toBeLessThan(nll1 + 1e-9 + 1); // not looser than one sample by more than noise
    expect(Number.isFinite(nll200)).toBe(true);
  });

  it('sample draws z ~ N(0, I) from the seed alone', () => {
    const net = resolveSpec(bernoulli);
    expect(Array.from(sampleLatent(net, 3, 8).data)).toEqual(Array.from(sampleLatent(net, 3, 8).data));
    expect(Array.from(sampleLatent(net, 3, 8).data)).not.toEqual(Array.from(sampleLatent(net, 3, 9).data));
    expect(() => sampleLatent(net, 0, 1)).toThrow(/positive integer, got 0/);
  });
});

describe('latent-space pictures', () => {
  it('normalQuantile inverts Φ; manifold codes are equal-mass quantiles, z₂ upwards; the scatter has its size', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 8);
    expect(normalQuantile(0.5)).toBe(0);
    expect(() => normalQuantile(1)).toThrow(/p in \(0, 1\), got 1/);
    const g = manifoldCodes(3);
    expect([g.rows, g.cols]).toEqual([9, 2]);
    expect(Array.from(g.data.subarray(8, 10))).toEqual([0, 0]); // the centre tile
    expect(g.data[0]).toBeCloseTo(normalQuantile(1 / 6), 12); // top-left: smallest z₁, largest z₂
    expect(g.data[1]).toBeCloseTo(normalQuantile(5 / 6), 12);
    const img = latentScatter({ rows: 3, cols: 2, data: Float64Array.of(0, 0, 1, -1, -2, 2) }, Uint8Array.of(0, 1, 2), { size: 50 });
    expect([img.width, img.height, img.rgba.length]).toEqual([50, 64, 50 * 64 * 4]);
  });
});
