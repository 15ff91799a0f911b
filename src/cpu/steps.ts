// The float64 reference's training step as named steps, one per line of the
// README's step diagram ("How the GPU engine works") and of the CS294A notes
// (seed 000, §2.1 "Backpropagation algorithm", §3 "Autoencoders and sparsity";
// seed 004 for the autoencoder regularizers). `cpuCost` (network.ts) composes them
// in this order:
//
//   linearForward (+ kSparseMask)  per layer          Z = W·A + b ; A = f(Z)
//   columnMeans                     per hidden layer   ρ̂ = (1/m) Σᵢ a⁽ⁱ⁾
//   lossTerms, weightDecay, contractivePenalty, sparsityPenalty, l1Penalty   the parts of J
//   outputDelta                                        δ(nl) = −(y − a)•f′(z) or a − y
//   for l = nl−1 … 1: linearBackward                   ∇W = δ(l+1) a(l)ᵀ/m ; ∇b = Σᵢ δ(l+1)/m
//                     sparsityDelta, hiddenDelta       δ(l) = (Wᵀδ(l+1) + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + λ₁ sign a)•f′(z)
//   regularizerGradients                               + λW, + 2λ_c qⱼ W(1), tied decoders folded in
//
// Every matrix is row-major, one example per row: an m × n activation holds
// example i, unit j at [i·n + j]; a weight matrix W is nOut × nIn.
// These functions do no validation (cpuCost and cpuForward check their inputs).

import { activate, activationDerivative, softplus } from './activations.js';
import { storedWeights, type ParamLayout } from '../params.js';
import type { Activation, LossName, Network } from '../spec.js';

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
export function logSumExp(z: Float64Array, off: number, n: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, z[off + j]!);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(z[off + j]! - max);
  return max + Math.log(sum);
}

/**
 * One layer forward: z(l+1) = W(l) a(l) + b(l), a(l+1) = f(z(l+1))   (notes §2).
 * W: nOut × nIn, b: nOut, prev = a(l): m × nIn → z, a: m × nOut. Softmax acts on whole rows.
 */
export function linearForward(W: Float64Array, b: Float64Array, prev: Float64Array, m: number, nIn: number, nOut: number, act: Activation): { z: Float64Array; a: Float64Array } {
  const z = new Float64Array(m * nOut);
  const a = new Float64Array(m * nOut);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < nOut; r++) {
      let s = b[r]!;
      for (let j = 0; j < nIn; j++) s += W[r * nIn + j]! * prev[i * nIn + j]!;
      z[i * nOut + r] = s;
    }
    if (act.name === 'softmax') softmaxRow(z, a, i * nOut, nOut);
    else for (let r = 0; r < nOut; r++) a[i * nOut + r] = activate(act, z[i * nOut + r]!);
  }
  return { z, a };
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

/** k-sparse layer (seed 004): keeps the k largest of each example's row of a (m × n, in place); returns the m × n keep mask. */
export function kSparseMask(a: Float64Array, m: number, n: number, k: number): Uint8Array {
  const mask = new Uint8Array(m * n);
  for (let i = 0; i < m; i++) keepTopK(a, mask, i * n, n, k);
  return mask;
}

/** ρ̂ⱼ = (1/m) Σᵢ aⱼ⁽ⁱ⁾: the column means of an m × n activation matrix → n (one implementation, in linalg.ts). */
export { columnMeans } from '../linalg.js';

/**
 * The data term of J, averaged over the m examples. zOut, aOut, y: m × nL.
 *   squared:               ½‖h(x) − y‖²   (notes §2.1)
 *   cross-entropy:         −[y log a + (1−y) log(1−a)], log a = −softplus(−z), log(1−a) = −softplus(z)
 *   softmax-cross-entropy: −Σₖ yₖ (zₖ − log Σⱼ e^(zⱼ))
 */
export function lossTerms(loss: LossName, zOut: Float64Array, aOut: Float64Array, y: ArrayLike<number>, m: number, nL: number): number {
  let dataSum = 0;
  for (let i = 0; i < m; i++) {
    const off = i * nL;
    if (loss === 'squared') {
      for (let j = 0; j < nL; j++) {
        const d = aOut[off + j]! - y[off + j]!;
        dataSum += 0.5 * d * d;
      }
    } else if (loss === 'cross-entropy') {
      for (let j = 0; j < nL; j++) {
        const z = zOut[off + j]!;
        const t = y[off + j]!;
        dataSum += t * softplus(-z) + (1 - t) * softplus(z);
      }
    } else {
      const lse = logSumExp(zOut, off, nL);
      for (let j = 0; j < nL; j++) dataSum -= y[off + j]! * (zOut[off + j]! - lse);
    }
  }
  return dataSum / m;
}

/** Weight decay (λ/2) Σₗ Σᵢⱼ (W(l)ᵢⱼ)², biases excluded, each stored matrix once (tied decoders are their encoder)   (notes §2.1). */
export function weightDecay(layout: ParamLayout, theta: Float64Array, lambda: number): number {
  let sumW2 = 0;
  for (const s of storedWeights(layout)) for (let i = 0; i < s.nOut * s.nIn; i++) sumW2 += theta[s.w + i]! * theta[s.w + i]!;
  return (lambda / 2) * sumW2;
}

export interface ContractiveTerms {
  /** λ_c (1/m) Σᵢ Σⱼ (hⱼ(1−hⱼ))² Sⱼ. */
  value: number;
  /** Sⱼ = Σₖ W(1)ⱼₖ², n2. */
  rowSq: Float64Array;
  /** qⱼ = (1/m) Σᵢ (hⱼ(1−hⱼ))², n2. */
  slopeSq: Float64Array;
}

/**
 * Contractive penalty (seed 004): λ_c (1/m) Σᵢ ‖∂h/∂x⁽ⁱ⁾‖²_F for a sigmoid first hidden
 * layer, in closed form Σⱼ qⱼ Sⱼ. W1: n2 × n1, H = a(2): m × n2.
 */
export function contractivePenalty(W1: Float64Array, H: Float64Array, m: number, n1: number, n2: number, weight: number): ContractiveTerms {
  const rowSq = new Float64Array(n2);
  const slopeSq = new Float64Array(n2);
  for (let j = 0; j < n2; j++) for (let k = 0; k < n1; k++) rowSq[j] = rowSq[j]! + W1[j * n1 + k]! ** 2;
  for (let i = 0; i < m; i++) for (let j = 0; j < n2; j++) slopeSq[j] = slopeSq[j]! + (H[i * n2 + j]! * (1 - H[i * n2 + j]!)) ** 2 / m;
  let value = 0;
  for (let j = 0; j < n2; j++) value += weight * slopeSq[j]! * rowSq[j]!;
  return { value, rowSq, slopeSq };
}

/** KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂))   (notes §3). */
export function kl(rho: number, rhoHat: number): number {
  return rho * Math.log(rho / rhoHat) + (1 - rho) * Math.log((1 - rho) / (1 - rhoHat));
}

/** Sparsity β Σⱼ KL(ρ‖ρ̂ⱼ) of one layer's ρ̂   (notes §3, J_sparse). */
export function sparsityPenalty(rhoHat: ArrayLike<number>, rho: number, beta: number): number {
  let s = 0;
  for (let j = 0; j < rhoHat.length; j++) s += kl(rho, rhoHat[j]!);
  return beta * s;
}

/** L1 activation penalty weight·(1/m) Σᵢ Σⱼ |aⱼ⁽ⁱ⁾| of one layer's activations a (m × n). */
export function l1Penalty(a: Float64Array, m: number, weight: number): number {
  let s = 0;
  for (const v of a) s += Math.abs(v);
  return (weight * s) / m;
}

/**
 * δ(nl), m × nL (notes §2.1):
 *   squared:                                          δ = −(y − a)•f′(z)
 *   sigmoid + cross-entropy, softmax + its cross-entropy:  δ = a − y
 */
export function outputDelta(loss: LossName, act: Activation, zOut: Float64Array, aOut: Float64Array, y: ArrayLike<number>): Float64Array {
  const delta = new Float64Array(aOut.length);
  for (let i = 0; i < aOut.length; i++) {
    const d = aOut[i]! - y[i]!;
    delta[i] = loss === 'squared' ? d * activationDerivative(act, zOut[i]!, aOut[i]!) : d;
  }
  return delta;
}

/** The sparsity term of δ(l): β(−ρ/ρ̂ⱼ + (1−ρ)/(1−ρ̂ⱼ)) for each unit j   (notes §3). */
export function sparsityDelta(rhoHat: ArrayLike<number>, rho: number, beta: number): Float64Array {
  const out = new Float64Array(rhoHat.length);
  for (let j = 0; j < rhoHat.length; j++) {
    const r = rhoHat[j]!;
    out[j] = beta * (-rho / r + (1 - rho) / (1 - r));
  }
  return out;
}

/** What a hidden layer adds to Wᵀδ before f′, and what it does after. */
export interface HiddenDeltaTerms {
  /** β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) per unit (sparsityDelta), or null off sparse layers. */
  sparsity?: Float64Array | null;
  /** L1 weight λ₁ (adds λ₁ sign a); 0 or absent off L1 layers. */
  l1Weight?: number;
  /** Contractive (first hidden layer only): adds 2λ_c (h(1−h))²(1−2h) Sⱼ after f′. */
  contractive?: { weight: number; rowSq: Float64Array } | null;
  /** k-sparse: the zeroed units pass no gradient (δ • mask). */
  mask?: Uint8Array | null;
}

/**
 * δ(l) = ((W(l))ᵀ δ(l+1) + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + λ₁ sign a(l)) • f′(z(l))   (notes §2.1, §3),
 * plus the contractive term, times the k-sparse mask.
 * W = W(l): nOut × nIn; deltaNext = δ(l+1): m × nOut; a, z = a(l), z(l): m × nIn → δ(l): m × nIn.
 */
export function hiddenDelta(W: Float64Array, deltaNext: Float64Array, a: Float64Array, z: Float64Array, act: Activation, m: number, nIn: number, nOut: number, terms: HiddenDeltaTerms = {}): Float64Array {
  const klTerm = terms.sparsity ?? null;
  const l1Weight = terms.l1Weight ?? 0;
  const lc = terms.contractive?.weight ?? 0;
  const rowSq = terms.contractive?.rowSq;
  const mask = terms.mask ?? null;
  const next = new Float64Array(m * nIn);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < nIn; j++) {
      let s = 0;
      for (let r = 0; r < nOut; r++) s += W[r * nIn + j]! * deltaNext[i * nOut + r]!;
      const aij = a[i * nIn + j]!;
      s += (klTerm ? klTerm[j]! : 0) + l1Weight * Math.sign(aij);
      let d = s * activationDerivative(act, z[i * nIn + j]!, aij);
      // Contractive: ∂/∂zⱼ of λ_c (hⱼ(1−hⱼ))² Sⱼ = 2λ_c (h(1−h))² (1 − 2h) Sⱼ   (h = σ(z), h′ = h(1−h))
      if (lc) d += 2 * lc * (aij * (1 - aij)) ** 2 * (1 - 2 * aij) * rowSq![j]!;
      next[i * nIn + j] = mask ? d * mask[i * nIn + j]! : d;
    }
  }
  return next;
}

/**
 * ∇W(l) = (1/m) Σᵢ δ(l+1) a(l)ᵀ (nOut × nIn); ∇b(l) = (1/m) Σᵢ δ(l+1) (nOut)   (notes §2.2; λW added by regularizerGradients).
 * delta = δ(l+1): m × nOut; prev = a(l): m × nIn.
 */
export function linearBackward(delta: Float64Array, prev: ArrayLike<number>, m: number, nIn: number, nOut: number): { gW: Float64Array; gb: Float64Array } {
  const gW = new Float64Array(nOut * nIn);
  const gb = new Float64Array(nOut);
  for (let r = 0; r < nOut; r++) {
    let sb = 0;
    for (let i = 0; i < m; i++) sb += delta[i * nOut + r]!;
    gb[r] = sb / m;
    for (let j = 0; j < nIn; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += delta[i * nOut + r]! * prev[i * nIn + j]!;
      gW[r * nIn + j] = s / m;
    }
  }
  return { gW, gb };
}

/**
 * Writes ∇W into θ order (grad already holds the ∇b): stored matrices get their own
 * ∂J/∂W plus λW and the contractive penalty's direct term 2λ_c qⱼ W(1)ⱼₖ; a tied
 * decoder's ∂J/∂W(l), transposed, adds to the encoder matrix it mirrors (W(l) = W(mirror)ᵀ).
 * gWs[k]: ∂J/∂W of weight layer k as if untied (nOut × nIn).
 */
export function regularizerGradients(net: Network, layout: ParamLayout, theta: Float64Array, gWs: Float64Array[], grad: Float64Array, contractive: ContractiveTerms | null): void {
  layout.slots.forEach((slot, k) => {
    if (slot.transposed) return;
    const gW = gWs[k]!;
    for (let i = 0; i < gW.length; i++) grad[slot.w + i] = gW[i]! + net.lambda * theta[slot.w + i]!;
  });
  if (net.contractive && contractive) {
    const lc = net.contractive.weight;
    const n1 = net.layers[0]!;
    const n2 = net.layers[1]!;
    const w0 = layout.slots[0]!.w;
    const slopeSq = contractive.slopeSq;
    for (let j = 0; j < n2; j++) for (let k = 0; k < n1; k++) grad[w0 + j * n1 + k] = grad[w0 + j * n1 + k]! + 2 * lc * slopeSq[j]! * theta[w0 + j * n1 + k]!;
  }
  layout.slots.forEach((slot, k) => {
    if (!slot.transposed) return;
    const gW = gWs[k]!; // nOut × nIn; the stored matrix is nIn × nOut
    for (let r = 0; r < slot.nOut; r++) {
      for (let j = 0; j < slot.nIn; j++) grad[slot.w + j * slot.nOut + r] = grad[slot.w + j * slot.nOut + r]! + gW[r * slot.nIn + j]!;
    }
  });
}
