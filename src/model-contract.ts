// The Model contract: what every backend implements (the float64 CPU reference
// in src/cpu/model.ts, WebGPU in src/gpu/model.ts), the cost report they return,
// and the θ and layer checks they share. No implementation imports: backends
// import this module, and only the factory (src/model.ts) imports the backends.

import type { ParamLayout } from './params.js';
import { SpecError, type Network } from './spec.js';
import { type Matrix } from './matrix.js';

export type BackendName = 'cpu' | 'webgpu';

/** The parts of J; `cost` is their sum. */
export interface CostParts {
  /** Data term: squared error or cross-entropy, averaged over examples. */
  data: number;
  /** (λ/2) Σ W². */
  weightDecay: number;
  /** β Σⱼ KL(ρ‖ρ̂ⱼ) summed over sparse layers. */
  sparsity: number;
  /** L1 activation penalty. */
  l1: number;
  /** Contractive penalty λ_c·(1/m) Σᵢ ‖J_f(x⁽ⁱ⁾)‖²_F (0 without one). */
  contractive: number;
}

export interface CostReport {
  cost: number;
  parts: CostParts;
  /** ∇J in θ order (omitted when the caller asked for the cost only). */
  grad?: Float64Array;
  /** ρ̂ (mean activation over the examples) of each hidden layer k = 0 … L−3. */
  rhoHat: Float64Array[];
}

export interface CostOptions {
  /** Compute and return ∇J (default true). */
  gradient?: boolean;
}

export interface Model {
  readonly backend: BackendName;
  readonly network: Network;
  readonly layout: ParamLayout;
  /** Replaces θ (length layout.size, order documented in params.ts). */
  setParameters(theta: ArrayLike<number>): void;
  readParameters(): Promise<Float64Array>;
  /** J(θ; X, Y), its parts, ρ̂ and ∇J. Y is omitted for an autoencoder. */
  cost(X: Matrix, Y?: Matrix, opts?: CostOptions): Promise<CostReport>;
  /** Output-layer activations, m × nL. */
  predict(X: Matrix): Promise<Matrix>;
  /** Activations of layer `layer` (notes' numbering, default 2: the first hidden layer), m × n_layer. */
  encode(X: Matrix, layer?: number): Promise<Matrix>;
  dispose(): void;
}

export function checkTheta(layout: ParamLayout, theta: ArrayLike<number>): void {
  if (theta.length !== layout.size) throw new SpecError(`θ has ${theta.length} values but the network needs ${layout.size}`);
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i]!)) throw new SpecError(`θ[${i}] is ${theta[i]}`);
  }
}

export function checkLayer(net: Network, layer: number): void {
  if (!Number.isInteger(layer) || layer < 2 || layer > net.layers.length) {
    throw new SpecError(`layer ${layer} does not exist; layers are numbered 2 … ${net.layers.length} (1 is the input)`);
  }
}
