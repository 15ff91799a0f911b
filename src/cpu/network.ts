// The float64 CPU reference: forward pass, cost J(W,b) and backpropagation,
// composed from the named steps of steps.ts in the order of the README's step
// diagram and the CS294A notes (seed 000, §2.1 "Backpropagation algorithm",
// §3 "Autoencoders and sparsity"). This file is the executable specification
// the WebGPU backend (src/gpu/plan.ts, same step names) is checked against.
//
// Indexing: weight layer k = 0 … L−2 is the notes' W(l) with l = k+1; it maps
// layer k+1 (n_{k+1} = net.layers[k] units) to layer k+2 (net.layers[k+1] units).
// Every activation matrix is m × n row-major: example i, unit j at [i·n + j].

import { paramLayout, layerViews } from '../params.js';
import { assertTrainable, SpecError, type Network } from '../spec.js';
import { checkData, checkInput, type Matrix } from '../matrix.js';
import type { CostParts, CostReport } from '../model-contract.js';
import {
  columnMeans,
  contractivePenalty,
  hiddenDelta,
  kSparseMask,
  l1Penalty,
  linearBackward,
  linearForward,
  lossTerms,
  outputDelta,
  regularizerGradients,
  sparsityDelta,
  sparsityPenalty,
  weightDecay,
  type ContractiveTerms,
} from './steps.js';
import { cpuVaeCost } from './vae.js';

export interface ForwardPass {
  /** Z[k] = z of layer k+2, m × n_{k+2}. */
  Z: Float64Array[];
  /** A[k] = a of layer k+2 = f(Z[k]), m × n_{k+2} (k-sparse layers: with all but the k largest per example zeroed). */
  A: Float64Array[];
  /** k-sparse layers: 1 where a unit was kept, 0 where zeroed (m × n); null elsewhere. */
  M: (Uint8Array | null)[];
}

function asFloat64(d: Float64Array | Float32Array): Float64Array {
  return d instanceof Float64Array ? d : Float64Array.from(d);
}

/** Forward pass without validation (callers have checked X and θ): linearForward per layer, then kSparseMask on k-sparse layers. */
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
    const { z, a } = linearForward(W, b, prev, m, nIn, nOut, net.activations[k]!); // m × nOut each
    // k-sparse autoencoder (seed 004): only the k largest hidden activations of each example survive.
    const sparseK = net.kSparse?.onLayer[k] ? net.kSparse.k : 0;
    Z.push(z);
    A.push(a);
    M.push(sparseK ? kSparseMask(a, m, nOut, sparseK) : null);
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

  // 1. Forward: Z = W·A + b ; A = f(Z) per layer.
  const { Z, A, M } = forward(net, views, input);
  const zOut = Z[out]!; // m × nL
  const aOut = A[out]!; // m × nL
  const y = T.data; // m × nL

  // 2. ρ̂ of every hidden layer k = 0 … L−3 (notes §3), always reported.
  let rhoHat: Float64Array[] = [];
  for (let k = 0; k < out; k++) rhoHat.push(columnMeans(A[k]!, m, net.layers[k + 1]!));
  if (opts.rhoHatEstimate) rhoHat = opts.rhoHatEstimate(rhoHat);

  // 3. The parts of J: data term, weight decay, contractive, sparsity, L1.
  const data = lossTerms(net.loss, zOut, aOut, y, m, nL);
  const decay = weightDecay(layout, theta, net.lambda);
  const contractiveTerms: ContractiveTerms | null = net.contractive ? contractivePenalty(views[0]!.W, A[0]!, m, net.layers[0]!, net.layers[1]!, net.contractive.weight) : null;
  const contractive = contractiveTerms ? contractiveTerms.value : 0;
  const sp = net.sparsity;
  let sparsity = 0;
  if (sp) for (let k = 0; k < out; k++) if (sp.onLayer[k]) sparsity += sparsityPenalty(rhoHat[k]!, sp.rho, sp.beta);
  const l1spec = net.l1;
  let l1 = 0;
  if (l1spec) for (let k = 0; k < out; k++) if (l1spec.onLayer[k]) l1 += l1Penalty(A[k]!, m, l1spec.weight);

  const parts: CostParts = { data, weightDecay: decay, sparsity, l1, contractive };
  const cost = data + decay + sparsity + l1 + contractive;
  if (!opts.gradient) return { cost, parts, rhoHat };

  // 4. δ(nl), m × nL.
  let delta = outputDelta(net.loss, net.activations[out]!, zOut, aOut, y);

  // 5. Backpropagation, all m examples at once: for l = nl−1 … 1, ∇W(l), ∇b(l), then δ(l).
  const grad = new Float64Array(layout.size);
  const gWs: Float64Array[] = []; // ∂J/∂W(l) of every layer as if untied
  for (let k = out; k >= 0; k--) {
    const nIn = net.layers[k]!;
    const nOut = net.layers[k + 1]!;
    const prev = k === 0 ? asFloat64(input.data) : A[k - 1]!; // a(l), m × nIn
    const { gW, gb } = linearBackward(delta, prev, m, nIn, nOut);
    gWs[k] = gW;
    grad.set(gb, layout.slots[k]!.b);
    if (k === 0) break; // no δ for the input layer
    // Layer l is hidden layer h = k−1: a(l) = A[h], z(l) = Z[h], both m × nIn.
    const h = k - 1;
    delta = hiddenDelta(views[k]!.W, delta, A[h]!, Z[h]!, net.activations[h]!, m, nIn, nOut, {
      sparsity: sp && sp.onLayer[h] ? sparsityDelta(rhoHat[h]!, sp.rho, sp.beta) : null,
      l1Weight: l1spec && l1spec.onLayer[h] ? l1spec.weight : 0,
      contractive: h === 0 && contractiveTerms ? { weight: net.contractive!.weight, rowSq: contractiveTerms.rowSq } : null,
      mask: M[h],
    });
  }

  // 6. ∇θ: ∇W plus λW, the contractive direct term, tied decoders folded into their encoders.
  regularizerGradients(net, layout, theta, gWs, grad, contractiveTerms);
  return { cost, parts, grad, rhoHat };
}
