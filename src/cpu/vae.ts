// The float64 reference of the variational autoencoder (Kingma & Welling 2013,
// "Auto-Encoding Variational Bayes"; seed 004 §3.6): the executable specification
// the VAE kernels are checked against. It composes the steps of steps.ts
// (linearForward, lossTerms, outputDelta, hiddenDelta, linearBackward, weightDecay,
// columnMeans) around its own: reparameterize, klTerm, headDelta; cpuCost calls it.
//
// Network [n, h…, d, …h, n] (net.vae.latent = c, the middle layer's index). Weight
// layers k < c−1 form the encoder trunk; layer c−1 is the head pair, computing the row
// H = [μ | log σ²] (2d values, identity) of every example; then
//   z = μ + σ ⊙ ε,  σ = exp(½ log σ²),  ε ~ N(0, I)        (reparameterization, AEVB §2.4)
// and weight layers k ≥ c form the decoder, whose first input is z.
// Cost per example i (nats):
//   rec⁽ⁱ⁾ = −log p(x|z):  Bernoulli  Σₖ [x softplus(−ζ) + (1−x) softplus(ζ)]  (ζ the output logits)
//                          Gaussian   ½ ‖x̂ − x‖²  (the constant ½ n log 2π is left out of J,
//                                     as it has no gradient; evaluation adds it: see vaeLogWeights)
//   KL⁽ⁱ⁾ = KL(q(z|x) ‖ N(0, I)) = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²)    (AEVB appendix B)
// J = (1/m) Σᵢ (rec⁽ⁱ⁾ + β KL⁽ⁱ⁾) + (λ/2) Σ W².
// Gradient with ε held fixed (exact through z = μ + σ ε), per example as everywhere in
// the engine (∇W = (1/m) Σᵢ δ aᵀ):
//   δz = W(c)ᵀ δ(c+1)                              (the decoder's first layer, no f′: z is linear)
//   δμ = δz + β μ
//   δlog σ² = ½ δz ⊙ ε ⊙ σ + ½ β (σ² − 1)
// and [δμ | δlog σ²] flows through the head's 2d × n matrix like any layer's δ.

import { softplus } from './activations.js';
import { columnMeans, hiddenDelta, linearBackward, linearForward, lossTerms, outputDelta, weightDecay } from './steps.js';
import { layerViews, paramLayout } from '../params.js';
import { assertTrainable, SpecError, type Network } from '../spec.js';
import { checkData, type Matrix } from '../matrix.js';
import { evaluationSeed, normalMatrix } from '../noise.js';
import type { CostReport } from '../model-contract.js';

function asFloat64(d: Float64Array | Float32Array): Float64Array {
  return d instanceof Float64Array ? d : Float64Array.from(d);
}

export function assertVae(net: Network): NonNullable<Network['vae']> {
  if (!net.vae) throw new SpecError('this operation needs a variational autoencoder (a spec with "vae")');
  return net.vae;
}

/** The latent size d of a VAE. */
export function latentSize(net: Network): number {
  return net.layers[assertVae(net).latent]!;
}

export interface VaeForwardPass {
  /** Z[k], A[k] of every weight layer k (m × nOut of the slot; the head's A is H = [μ | log σ²], m × 2d). */
  Z: Float64Array[];
  A: Float64Array[];
  /** ε and z = μ + σ ε, m × d. */
  eps: Float64Array;
  z: Float64Array;
}

/** The encoder: H = [μ | log σ²] (m × 2d) of input X, with the trunk's Z and A. */
function encodeTrunk(net: Network, theta: Float64Array, X: Float64Array, m: number): { Z: Float64Array[]; A: Float64Array[] } {
  const c = net.vae!.latent;
  const views = layerViews(paramLayout(net), theta);
  const Z: Float64Array[] = [];
  const A: Float64Array[] = [];
  let prev = X;
  for (let k = 0; k < c; k++) {
    const nOut = k === c - 1 ? 2 * net.layers[c]! : net.layers[k + 1]!;
    const r = linearForward(views[k]!.W, views[k]!.b, prev, m, net.layers[k]!, nOut, net.activations[k]!);
    Z.push(r.z);
    A.push(r.a);
    prev = r.a;
  }
  return { Z, A };
}

/** The decoder from z (m × d): Z and A of weight layers c … L−2 (in that order). */
function decodeFrom(net: Network, theta: Float64Array, z: Float64Array, m: number): { Z: Float64Array[]; A: Float64Array[] } {
  const c = net.vae!.latent;
  const views = layerViews(paramLayout(net), theta);
  const Z: Float64Array[] = [];
  const A: Float64Array[] = [];
  let prev = z;
  for (let k = c; k < net.layers.length - 1; k++) {
    const r = linearForward(views[k]!.W, views[k]!.b, prev, m, net.layers[k]!, net.layers[k + 1]!, net.activations[k]!);
    Z.push(r.z);
    A.push(r.a);
    prev = r.a;
  }
  return { Z, A };
}

/** z = μ + exp(½ log σ²)·ε from H = [μ | log σ²] (m × 2d) and ε (m × d). */
export function reparameterize(H: Float64Array, eps: Float64Array, m: number, d: number): Float64Array {
  const z = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) z[i * d + j] = H[i * 2 * d + j]! + Math.exp(0.5 * H[i * 2 * d + d + j]!) * eps[i * d + j]!;
  }
  return z;
}

/**
 * The KL step: KL(q(z|x) ‖ N(0, I)) = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²) of every example (m values);
 * klTerm averages it over the examples.
 */
export function klPerExample(H: Float64Array, m: number, d: number): Float64Array {
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const mu = H[i * 2 * d + j]!;
      const lv = H[i * 2 * d + d + j]!;
      s += 1 + lv - mu * mu - Math.exp(lv);
    }
    out[i] = -0.5 * s;
  }
  return out;
}

/** The mean KL over the m examples (unweighted; J adds β times it). */
export function klTerm(H: Float64Array, m: number, d: number): number {
  return klPerExample(H, m, d).reduce((a, b) => a + b, 0) / m;
}

/**
 * The head step of backpropagation: from δz (m × d) to [δμ | δlog σ²] (m × 2d),
 *   δμ = δz + β μ,  δlog σ² = ½ δz ⊙ ε ⊙ σ + ½ β (σ² − 1).
 */
export function headDelta(H: Float64Array, dz: Float64Array, eps: Float64Array, m: number, d: number, beta: number): Float64Array {
  const dH = new Float64Array(m * 2 * d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) {
      const mu = H[i * 2 * d + j]!;
      const s2 = Math.exp(H[i * 2 * d + d + j]!);
      const g = dz[i * d + j]!;
      dH[i * 2 * d + j] = g + beta * mu;
      dH[i * 2 * d + d + j] = 0.5 * g * eps[i * d + j]! * Math.sqrt(s2) + 0.5 * beta * (s2 - 1);
    }
  }
  return dH;
}

/** −log p(x|z) of every example without the Gaussian constant (see the header). */
export function reconstructionPerExample(net: Network, zOut: Float64Array, aOut: Float64Array, x: Float64Array, m: number): Float64Array {
  const n = net.layers[net.layers.length - 1]!;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = i * n; k < (i + 1) * n; k++) {
      if (net.loss === 'cross-entropy') s += x[k]! * softplus(-zOut[k]!) + (1 - x[k]!) * softplus(zOut[k]!);
      else s += 0.5 * (aOut[k]! - x[k]!) ** 2;
    }
    out[i] = s;
  }
  return out;
}

/** ½ n log 2π: the Gaussian decoder's constant per example (0 for Bernoulli). */
export function reconstructionConstant(net: Network): number {
  return net.loss === 'squared' ? 0.5 * net.layers[net.layers.length - 1]! * Math.log(2 * Math.PI) : 0;
}

/** ε of a training evaluation: m × d normals under `noiseSeed` (rows from `rowOffset`). */
export function vaeEpsilon(net: Network, noiseSeed: number, m: number, rowOffset = 0): Float64Array {
  return normalMatrix(noiseSeed, m, latentSize(net), rowOffset);
}

/** The ε seed model.cost uses when none is given: the stream's first evaluation. */
export function defaultVaeNoiseSeed(net: Network): number {
  return evaluationSeed(assertVae(net).seed, 0);
}

export interface VaeCostOptions {
  gradient: boolean;
  /** The encoder's input when it differs from X (a denoising VAE's x̃). */
  input?: Matrix;
  /** ε, m × d; default: vaeEpsilon(net, noiseSeed ?? defaultVaeNoiseSeed(net), m). */
  eps?: Float64Array;
  noiseSeed?: number;
}

export interface VaeCostReport extends CostReport {
  /** rec⁽ⁱ⁾ and KL⁽ⁱ⁾ of every example. */
  perExample: { reconstruction: Float64Array; kl: Float64Array };
}

/** J, its parts (data = mean reconstruction NLL, kl = mean KL, unweighted by β), ρ̂ and ∇J (ε fixed). */
export function cpuVaeCost(net: Network, theta: Float64Array, X: Matrix, opts: VaeCostOptions): VaeCostReport {
  assertTrainable(net);
  const { beta, latent: c } = assertVae(net);
  const T = checkData(net, X);
  const layout = paramLayout(net);
  const views = layerViews(layout, theta);
  const m = X.rows;
  const d = net.layers[c]!;
  const Lw = net.layers.length - 1;
  const input = opts.input ?? X;
  if (input.rows !== X.rows || input.cols !== X.cols) throw new SpecError(`the input is ${input.rows} × ${input.cols} but X is ${X.rows} × ${X.cols}`);
  if (input !== X) checkData(net, input);
  const eps = opts.eps ?? vaeEpsilon(net, opts.noiseSeed ?? defaultVaeNoiseSeed(net), m);
  if (eps.length !== m * d) throw new SpecError(`ε has ${eps.length} values but ${m} examples × ${d} latent units need ${m * d}`);
  const x0 = asFloat64(input.data);
  const enc = encodeTrunk(net, theta, x0, m);
  const H = enc.A[c - 1]!;
  const z = reparameterize(H, eps, m, d);
  const dec = decodeFrom(net, theta, z, m);
  const Z = [...enc.Z, ...dec.Z];
  const A = [...enc.A, ...dec.A];
  const y = asFloat64(T.data);

  // The parts: reconstruction NLL (per example, and its mean = lossTerms), KL, weight decay.
  const rec = reconstructionPerExample(net, Z[Lw - 1]!, A[Lw - 1]!, y, m);
  const kl = klPerExample(H, m, d);
  const data = lossTerms(net.loss, Z[Lw - 1]!, A[Lw - 1]!, y, m, net.layers[Lw]!);
  const klMean = klTerm(H, m, d);
  const decay = weightDecay(layout, theta, net.lambda);
  const parts = { data, weightDecay: decay, sparsity: 0, l1: 0, contractive: 0, kl: klMean };
  const cost = data + beta * klMean + decay;

  // ρ̂ of every hidden layer (columnMeans): the trunk's activations, z for the latent layer, the decoder's.
  const rhoHat: Float64Array[] = [];
  for (let k = 0; k < Lw - 1; k++) rhoHat.push(columnMeans(k === c - 1 ? z : A[k]!, m, net.layers[k + 1]!));
  const report: VaeCostReport = { cost, parts, rhoHat, perExample: { reconstruction: rec, kl } };
  if (!opts.gradient) return report;

  // δ(L) = a − x: sigmoid + Bernoulli, and identity + unit-variance Gaussian (outputDelta).
  const grad = new Float64Array(layout.size);
  let delta = outputDelta(net.loss, net.activations[Lw - 1]!, Z[Lw - 1]!, A[Lw - 1]!, y);
  for (let k = Lw - 1; k >= 0; k--) {
    const slot = layout.slots[k]!;
    const { nIn, nOut } = slot;
    const W = views[k]!.W;
    const prev = k === 0 ? x0 : k === c ? z : A[k - 1]!;
    // ∇W = (1/m) Σᵢ δ aᵀ + λW;  ∇b = (1/m) Σᵢ δ   (linearBackward)
    const { gW, gb } = linearBackward(delta, prev, m, nIn, nOut);
    for (let i = 0; i < gW.length; i++) grad[slot.w + i] = gW[i]! + net.lambda * W[i]!;
    grad.set(gb, slot.b);
    if (k === 0) break;
    if (k === c) {
      // The decoder's first layer: δz = W(c)ᵀ δ(c+1) (hiddenDelta through the identity latent
      // layer), then through z = μ + σ ε, plus β·∂KL, to the heads (headDelta).
      const dz = hiddenDelta(W, delta, z, z, net.activations[c - 1]!, m, nIn, nOut);
      delta = headDelta(H, dz, eps, m, d, beta);
    } else {
      delta = hiddenDelta(W, delta, A[k - 1]!, Z[k - 1]!, net.activations[k - 1]!, m, nIn, nOut);
    }
  }
  return { ...report, grad };
}

/** μ and log σ² (m × d each) of inputs X. */
export function cpuVaeEncode(net: Network, theta: Float64Array, X: Matrix): { mu: Matrix; logvar: Matrix } {
  const { latent: c } = assertVae(net);
  if (X.cols !== net.layers[0]) throw new SpecError(`X has ${X.cols} features per example but the input layer has ${net.layers[0]} units`);
  const d = net.layers[c]!;
  const m = X.rows;
  const H = encodeTrunk(net, theta, asFloat64(X.data), m).A[c - 1]!;
  const mu = new Float64Array(m * d);
  const logvar = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) {
      mu[i * d + j] = H[i * 2 * d + j]!;
      logvar[i * d + j] = H[i * 2 * d + d + j]!;
    }
  }
  return { mu: { rows: m, cols: d, data: mu }, logvar: { rows: m, cols: d, data: logvar } };
}

/** Decoder outputs (m × n) of latent codes Z (m × d). */
export function cpuVaeDecode(net: Network, theta: Float64Array, Zl: Matrix): Matrix {
  const d = latentSize(net);
  if (Zl.cols !== d) throw new SpecError(`Z has ${Zl.cols} values per example but the latent layer has ${d} units`);
  const { A } = decodeFrom(net, theta, asFloat64(Zl.data), Zl.rows);
  return { rows: Zl.rows, cols: net.layers[net.layers.length - 1]!, data: A[A.length - 1]! };
}

/** The latent codes `sample(n, { seed })` decodes: z = normalMatrix(seed, n, d). */
export function sampleLatent(net: Network, n: number, seed: number): Matrix {
  if (!Number.isInteger(n) || n < 1) throw new SpecError(`sample count must be a positive integer, got ${n}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SpecError(`sample seed must be an integer in [0, 2³²), got ${seed}`);
  const d = latentSize(net);
  return { rows: n, cols: d, data: normalMatrix(seed, n, d) };
}

/**
 * log wₛ⁽ⁱ⁾ = log p(x|zₛ) + log p(zₛ) − log q(zₛ|x), zₛ = μ + σ εₛ (Burda et al. 2015):
 *   = −rec(x, zₛ) − const + Σⱼ (−½ zⱼ² + ½ log σⱼ² + ½ εⱼ²)   (the ½ log 2π of p and q cancel).
 * Sample s uses ε = vaeEpsilon(net, evaluationSeed(seed, s), m, rowOffset).
 */
export function vaeLogWeights(net: Network, theta: Float64Array, X: Matrix, seed: number, s: number, rowOffset = 0): Float64Array {
  const { latent: c } = assertVae(net);
  const m = X.rows;
  const d = net.layers[c]!;
  const H = encodeTrunk(net, theta, asFloat64(X.data), m).A[c - 1]!;
  const eps = vaeEpsilon(net, evaluationSeed(seed, s), m, rowOffset);
  const z = reparameterize(H, eps, m, d);
  const dec = decodeFrom(net, theta, z, m);
  const rec = reconstructionPerExample(net, dec.Z[dec.Z.length - 1]!, dec.A[dec.A.length - 1]!, asFloat64(X.data), m);
  const k0 = reconstructionConstant(net);
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let t = 0;
    for (let j = 0; j < d; j++) t += -0.5 * z[i * d + j]! ** 2 + 0.5 * H[i * 2 * d + d + j]! + 0.5 * eps[i * d + j]! ** 2;
    out[i] = -rec[i]! - k0 + t;
  }
  return out;
}

/**
 * The importance-weighted estimate of log p(x) with k samples per example,
 * log (1/k) Σₛ wₛ, as a stable logsumexp; returns −log p(x) of every example (nats).
 */
export function cpuVaeNll(net: Network, theta: Float64Array, X: Matrix, k: number, seed: number): Float64Array {
  if (!Number.isInteger(k) || k < 1) throw new SpecError(`the number of importance samples k must be a positive integer, got ${k}`);
  const m = X.rows;
  const lw: Float64Array[] = [];
  for (let s = 0; s < k; s++) lw.push(vaeLogWeights(net, theta, X, seed, s));
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let s = 0; s < k; s++) mx = Math.max(mx, lw[s]![i]!);
    let sum = 0;
    for (let s = 0; s < k; s++) sum += Math.exp(lw[s]![i]! - mx);
    out[i] = -(mx + Math.log(sum) - Math.log(k));
  }
  return out;
}

/** The test-set −ELBO per example (β = 1, true nats: the Gaussian constant included) with one ε draw under `seed`. */
export function cpuVaeNegElbo(net: Network, theta: Float64Array, X: Matrix, seed: number): Float64Array {
  const r = cpuVaeCost(net, theta, X, { gradient: false, noiseSeed: seed });
  const k0 = reconstructionConstant(net);
  return r.perExample.reconstruction.map((v, i) => v + r.perExample.kl[i]! + k0);
}
