// The float64 CPU reference: forward pass, cost J(W,b) and backpropagation,
// written as plain loops that follow the CS294A notes (seed 000, §2.1
// "Backpropagation algorithm", §3 "Autoencoders and sparsity") step by step.
// This file is the executable specification the WebGPU backend is checked against.
//
// Indexing: weight layer k = 0 … L−2 is the notes' W(l) with l = k+1; it maps
// layer k+1 (n_{k+1} = net.layers[k] units) to layer k+2 (net.layers[k+1] units).
// Every activation matrix is m × n row-major: example i, unit j at [i·n + j].

import { activate, activationDerivative, softplus } from './activations.js';
import { paramLayout, layerViews, storedWeights } from '../params.js';
import { assertTrainable, checkData, SpecError, type Matrix, type Network } from '../spec.js';
import type { CostParts, CostReport } from '../model.js';
import { cpuVaeCost } from './vae.js';

export interface ForwardPass {
  /** Z[k] = z of layer k+2, m × n_{k+2}. */
  Z: Float64Array[];
  /** A[k] = a of layer k+2 = f(Z[k]), m × n_{k+2} (k-sparse layers: with all but the k largest per example zeroed). */
  A: Float64Array[];
  /** k-sparse layers: 1 where a unit was kept, 0 where zeroed (m × n); null elsewhere. */
  M: (Uint8Array | null)[];
}

/**
 * Keeps the k largest of row a[off … off+n) and zeroes the rest; mask gets 1
 * for the kept units. Rank of j = #{j′ : a_j′ > a_j, or a_j′ = a_j and j′ < j}
 * (ties go to the lower index, as on the GPU).
 */
export function keepTopK(a: Float64Array, mask: Uint8Array, off: number, n: number, k: number): void {
  const idx = Array.from({ length: n }, (_, j) => j);
  idx.sort((x, y) => a[off + y]! - a[off + x]! || x - y);
  mask.fill(0, off, off + n);
  for (let r = 0; r < k; r++) mask[off + idx[r]!] = 1;
  for (let j = 0; j < n; j++) if (!mask[off + j]) a[off + j] = 0;
}

/** The X half of checkData: inference needs no targets. */
function checkInput(net: Network, X: Matrix): void {
  const n1 = net.layers[0]!;
  if (X.rows === 0) throw new SpecError('the data set is empty (0 examples)');
  if (X.cols !== n1) throw new SpecError(`X has ${X.cols} features per example but the input layer has ${n1} units`);
  if (X.data.length !== X.rows * X.cols) throw new SpecError(`X says ${X.rows} × ${X.cols} but holds ${X.data.length} values`);
  for (let i = 0; i < X.data.length; i++) {
    const v = X.data[i]!;
    if (!Number.isFinite(v)) {
      const r = Math.floor(i / X.cols);
      throw new SpecError(`X contains ${v} at example ${r}, feature ${i - r * X.cols}`);
    }
  }
}

/** Softmax of row z[off … off+n) into a[off … off+n), stable: e^(z − max z) / Σ e^(z − max z). */
export function softmaxRow(z: Float64Array, a: Float64Array, off: number, n: number): void {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, z[off + j]!);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(z[off + j]! - max);
    a[off + j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) a[off + j] = a[off + j]! / sum;
}

/** log Σⱼ e^(zⱼ) over row z[off … off+n), computed as max + log Σ e^(z − max). */
function logSumExp(z: Float64Array, off: number, n: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, z[off + j]!);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(z[off + j]! - max);
  return max + Math.log(sum);
}

function asFloat64(d: Float64Array | Float32Array): Float64Array {
  return d instanceof Float64Array ? d : Float64Array.from(d);
}

/** Forward pass without validation (callers have checked X and θ). */
function forward(net: Network, views: { W: Float64Array; b: Float64Array }[], X: Matrix): ForwardPass {
  const m = X.rows;
  const Z: Float64Array[] = [];
  const A: Float64Array[] = [];
  const M: (Uint8Array | null)[] = [];
  let prev = asFloat64(X.data); // a(1) = x, m × n1
  for (let k = 0; k < net.layers.length - 1; k++) {
    const nIn = net.layers[k]!;
    const nOut = net.layers[k + 1]!;
    const { W, b } = views[k]!; // W: nOut × nIn, b: nOut
    const act = net.activations[k]!;
    const z = new Float64Array(m * nOut); // m × nOut
    const a = new Float64Array(m * nOut); // m × nOut
    for (let i = 0; i < m; i++) {
      // z(l+1) = W(l) a(l) + b(l)   (notes §2, forward propagation)
      for (let r = 0; r < nOut; r++) {
        let s = b[r]!;
        for (let j = 0; j < nIn; j++) s += W[r * nIn + j]! * prev[i * nIn + j]!;
        z[i * nOut + r] = s;
      }
      // a(l+1) = f(z(l+1)); softmax acts on the whole output row
      if (act.name === 'softmax') softmaxRow(z, a, i * nOut, nOut);
      else for (let r = 0; r < nOut; r++) a[i * nOut + r] = activate(act, z[i * nOut + r]!);
    }
    // k-sparse autoencoder (seed 004): only the k largest hidden activations of each example survive.
    const sparseK = net.kSparse?.onLayer[k] ? net.kSparse.k : 0;
    const mask = sparseK ? new Uint8Array(m * nOut) : null;
    if (mask) for (let i = 0; i < m; i++) keepTopK(a, mask, i * nOut, nOut, sparseK);
    Z.push(z);
    A.push(a);
    M.push(mask);
    prev = a;
  }
  return { Z, A, M };
}

/** Batched forward pass: Z[k], A[k] (m × n_{k+2}) for every weight layer k. */
export function cpuForward(net: Network, theta: Float64Array, X: Matrix): ForwardPass {
  checkInput(net, X);
  return forward(net, layerViews(paramLayout(net), theta), X);
}

/** Output-layer activations h_{W,b}(x), m × nL. */
export function cpuPredict(net: Network, theta: Float64Array, X: Matrix): Matrix {
  const { A } = cpuForward(net, theta, X);
  return { rows: X.rows, cols: net.layers[net.layers.length - 1]!, data: A[A.length - 1]! };
}

/** ρ̂ⱼ = (1/m) Σᵢ aⱼ⁽ⁱ⁾: the column means of an m × n activation matrix. */
function columnMeans(a: Float64Array, m: number, n: number): Float64Array {
  const mean = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) mean[j] = mean[j]! + a[i * n + j]!;
  for (let j = 0; j < n; j++) mean[j] = mean[j]! / m;
  return mean;
}

/** KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂))   (notes §3). */
function kl(rho: number, rhoHat: number): number {
  return rho * Math.log(rho / rhoHat) + (1 - rho) * Math.log((1 - rho) / (1 - rhoHat));
}

/**
 * J(W,b) on examples X (m × n1) and targets Y (m × nL; omitted for an
 * autoencoder, which uses y = x), its parts, ρ̂ of every hidden layer and, when
 * opts.gradient, ∇J in θ order.
 */
export interface CpuCostOptions {
  gradient: boolean;
  /**
   * The input fed forward, when it differs from X (a denoising autoencoder's
   * corrupted x̃); the loss still compares the output with X (or Y).
   */
  input?: Matrix;
  /**
   * Replaces the examples' ρ̂ (one array per hidden layer) by an estimate, e.g. a
   * running average over mini-batches; the sparsity term and its δ then use it.
   */
  rhoHatEstimate?: (rhoHat: Float64Array[]) => Float64Array[];
  /** VAE: the seed of ε (default: the first evaluation's of the network's ε stream; see src/cpu/vae.ts). */
  noiseSeed?: number;
}

export function cpuCost(net: Network, theta: Float64Array, X: Matrix, Y: Matrix | undefined, opts: CpuCostOptions): CostReport {
  // The VAE objective is its own composition (encoder, reparameterization, decoder, KL).
  if (net.vae) {
    if (Y && Y !== X) throw new SpecError('a VAE is an autoencoder and takes no targets (y = x); pass Y = undefined');
    const { perExample: _, ...r } = cpuVaeCost(net, theta, X, { gradient: opts.gradient, input: opts.input, noiseSeed: opts.noiseSeed });
    return r;
  }
  assertTrainable(net);
  const T = checkData(net, X, Y); // targets: m × nL (X itself for an autoencoder)
  const layout = paramLayout(net);
  const views = layerViews(layout, theta);
  const m = X.rows;
  const nLayers = net.layers.length - 1; // weight layers k = 0 … L−2
  const out = nLayers - 1; // the output layer's index
  const nL = net.layers[nLayers]!;
  const input = opts.input ?? X;
  if (input !== X) {
    if (input.rows !== X.rows || input.cols !== X.cols) throw new SpecError(`the input is ${input.rows} × ${input.cols} but X is ${X.rows} × ${X.cols}`);
    checkInput(net, input);
  }
  const { Z, A, M } = forward(net, views, input);
  const zOut = Z[out]!; // m × nL
  const aOut = A[out]!; // m × nL
  const y = T.data; // m × nL

  // Data term, averaged over the m examples.
  let dataSum = 0;
  for (let i = 0; i < m; i++) {
    const off = i * nL;
    if (net.loss === 'squared') {
      // J(W,b; x,y) = ½‖h(x) − y‖²   (notes §2.1)
      for (let j = 0; j < nL; j++) {
        const d = aOut[off + j]! - y[off + j]!;
        dataSum += 0.5 * d * d;
      }
    } else if (net.loss === 'cross-entropy') {
      // −[y log a + (1−y) log(1−a)] with log a = −softplus(−z), log(1−a) = −softplus(z)
      for (let j = 0; j < nL; j++) {
        const z = zOut[off + j]!;
        const t = y[off + j]!;
        dataSum += t * softplus(-z) + (1 - t) * softplus(z);
      }
    } else {
      // −Σₖ yₖ log softmax(z)ₖ = −Σₖ yₖ (zₖ − log Σⱼ e^(zⱼ))
      const lse = logSumExp(zOut, off, nL);
      for (let j = 0; j < nL; j++) dataSum -= y[off + j]! * (zOut[off + j]! - lse);
    }
  }
  const data = dataSum / m;

  // Weight decay (λ/2) Σₗ Σᵢⱼ (W(l)ᵢⱼ)², biases excluded   (notes §2.1)
  // (each stored matrix once: tied decoder weights are the encoder's)
  let sumW2 = 0;
  for (const s of storedWeights(layout)) for (let i = 0; i < s.nOut * s.nIn; i++) sumW2 += theta[s.w + i]! * theta[s.w + i]!;
  const weightDecay = (net.lambda / 2) * sumW2;

  // Contractive penalty (seed 004): λ_c (1/m) Σᵢ Σⱼ (hⱼ(1−hⱼ))² Sⱼ with Sⱼ = Σₖ W(1)ⱼₖ²,
  // the squared Frobenius norm of the sigmoid encoder's Jacobian ∂h/∂x, averaged over examples.
  const n1 = net.layers[0]!;
  const n2 = net.layers[1]!;
  let contractive = 0;
  const rowSq = new Float64Array(n2); // Sⱼ
  const slopeSq = new Float64Array(n2); // qⱼ = (1/m) Σᵢ (hⱼ(1−hⱼ))²
  if (net.contractive) {
    const W1 = views[0]!.W;
    for (let j = 0; j < n2; j++) for (let k = 0; k < n1; k++) rowSq[j] = rowSq[j]! + W1[j * n1 + k]! ** 2;
    const H = A[0]!;
    for (let i = 0; i < m; i++) for (let j = 0; j < n2; j++) slopeSq[j] = slopeSq[j]! + (H[i * n2 + j]! * (1 - H[i * n2 + j]!)) ** 2 / m;
    for (let j = 0; j < n2; j++) contractive += net.contractive.weight * slopeSq[j]! * rowSq[j]!;
  }

  // ρ̂ of every hidden layer k = 0 … L−3 (notes §3), always reported.
  let rhoHat: Float64Array[] = [];
  for (let k = 0; k < out; k++) rhoHat.push(columnMeans(A[k]!, m, net.layers[k + 1]!));
  if (opts.rhoHatEstimate) rhoHat = opts.rhoHatEstimate(rhoHat);

  // Sparsity β Σⱼ KL(ρ‖ρ̂ⱼ) on each sparse layer   (notes §3, J_sparse)
  let sparsity = 0;
  const sp = net.sparsity;
  if (sp) {
    for (let k = 0; k < out; k++) {
      if (!sp.onLayer[k]) continue;
      let s = 0;
      for (const r of rhoHat[k]!) s += kl(sp.rho, r);
      sparsity += sp.beta * s;
    }
  }

  // L1 activation penalty weight·(1/m) Σᵢ Σⱼ |aⱼ⁽ⁱ⁾| on each L1 layer
  let l1 = 0;
  const l1spec = net.l1;
  if (l1spec) {
    for (let k = 0; k < out; k++) {
      if (!l1spec.onLayer[k]) continue;
      let s = 0;
      for (const v of A[k]!) s += Math.abs(v);
      l1 += (l1spec.weight * s) / m;
    }
  }

  const parts: CostParts = { data, weightDecay, sparsity, l1, contractive };
  const cost = data + weightDecay + sparsity + l1 + contractive;
  if (!opts.gradient) return { cost, parts, rhoHat };

  // Backpropagation (notes §2.1, vectorised form), all m examples at once.
  // δ(L), m × nL:
  //   squared:                          δ(L) = −(y − a(L)) • f′(z(L))
  //   sigmoid + cross-entropy,
  //   softmax + softmax-cross-entropy:  δ(L) = a(L) − y
  let delta = new Float64Array(m * nL);
  const outAct = net.activations[out]!;
  for (let i = 0; i < m * nL; i++) {
    const d = aOut[i]! - y[i]!;
    delta[i] = net.loss === 'squared' ? d * activationDerivative(outAct, zOut[i]!, aOut[i]!) : d;
  }

  const grad = new Float64Array(layout.size);
  // ∂J/∂W(l) of every layer as if untied; folded into θ's stored matrices below.
  const gWs: Float64Array[] = [];
  for (let k = out; k >= 0; k--) {
    const nIn = net.layers[k]!;
    const nOut = net.layers[k + 1]!;
    const { W } = views[k]!; // nOut × nIn
    const slot = layout.slots[k]!;
    const gW = new Float64Array(nOut * nIn);
    gWs[k] = gW;
    const prev = k === 0 ? asFloat64(input.data) : A[k - 1]!; // a(l), m × nIn

    // ∇W(l) = (1/m) Σᵢ δ(l+1) a(l)ᵀ;  ∇b(l) = (1/m) Σᵢ δ(l+1)   (notes §2.2; λW(l) added below)
    for (let r = 0; r < nOut; r++) {
      let sb = 0;
      for (let i = 0; i < m; i++) sb += delta[i * nOut + r]!;
      grad[slot.b + r] = sb / m;
      for (let j = 0; j < nIn; j++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += delta[i * nOut + r]! * prev[i * nIn + j]!;
        gW[r * nIn + j] = s / m;
      }
    }
    if (k === 0) break; // no δ for the input layer

    // δ(l) = ((W(l))ᵀ δ(l+1) + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + weight·sign(a(l))) • f′(z(l))   (notes §2.1, §3)
    // Here layer l is hidden layer k−1: a(l) = A[k−1], z(l) = Z[k−1], both m × nIn.
    const h = k - 1;
    const aH = A[h]!;
    const zH = Z[h]!;
    const actH = net.activations[h]!;
    const klTerm = new Float64Array(nIn); // β(−ρ/ρ̂ⱼ + (1−ρ)/(1−ρ̂ⱼ)), zero off sparse layers
    if (sp && sp.onLayer[h]) {
      for (let j = 0; j < nIn; j++) {
        const r = rhoHat[h]![j]!;
        klTerm[j] = sp.beta * (-sp.rho / r + (1 - sp.rho) / (1 - r));
      }
    }
    const l1Weight = l1spec && l1spec.onLayer[h] ? l1spec.weight : 0;
    const lc = h === 0 && net.contractive ? net.contractive.weight : 0;
    const mask = M[h];
    const next = new Float64Array(m * nIn); // δ(l), m × nIn
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < nIn; j++) {
        let s = 0;
        for (let r = 0; r < nOut; r++) s += W[r * nIn + j]! * delta[i * nOut + r]!;
        const a = aH[i * nIn + j]!;
        s += klTerm[j]! + l1Weight * Math.sign(a);
        let d = s * activationDerivative(actH, zH[i * nIn + j]!, a);
        // Contractive: ∂/∂zⱼ of λ_c (hⱼ(1−hⱼ))² Sⱼ = 2λ_c (h(1−h))² (1 − 2h) Sⱼ   (h = σ(z), h′ = h(1−h))
        if (lc) d += 2 * lc * (a * (1 - a)) ** 2 * (1 - 2 * a) * rowSq[j]!;
        // k-sparse: the zeroed units pass no gradient.
        next[i * nIn + j] = mask ? d * mask[i * nIn + j]! : d;
      }
    }
    delta = next;
  }

  // Assemble ∇θ: stored matrices get their own ∂J/∂W plus λW (and the contractive
  // penalty's direct term 2λ_c qⱼ W(1)ⱼₖ); a tied decoder's ∂J/∂W(l), transposed,
  // adds to the encoder matrix it mirrors (W(l) = W(mirror)ᵀ).
  layout.slots.forEach((slot, k) => {
    if (slot.transposed) return;
    const gW = gWs[k]!;
    for (let i = 0; i < gW.length; i++) grad[slot.w + i] = gW[i]! + net.lambda * theta[slot.w + i]!;
  });
  if (net.contractive) {
    const lc = net.contractive.weight;
    const w0 = layout.slots[0]!.w;
    for (let j = 0; j < n2; j++) for (let k = 0; k < n1; k++) grad[w0 + j * n1 + k] = grad[w0 + j * n1 + k]! + 2 * lc * slopeSq[j]! * theta[w0 + j * n1 + k]!;
  }
  layout.slots.forEach((slot, k) => {
    if (!slot.transposed) return;
    const gW = gWs[k]!; // nOut × nIn; the stored matrix is nIn × nOut
    for (let r = 0; r < slot.nOut; r++) {
      for (let j = 0; j < slot.nIn; j++) grad[slot.w + j * slot.nOut + r] = grad[slot.w + j * slot.nOut + r]! + gW[r * slot.nIn + j]!;
    }
  });
  return { cost, parts, grad, rhoHat };
}
