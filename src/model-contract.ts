// The Model contract: what every backend implements (the float64 CPU reference
// in src/cpu/model.ts, WebGPU in src/gpu/model.ts), the cost report they return,
// and the θ and layer checks they share. No implementation imports: backends
// import this module, and only the factory (src/model.ts) imports the backends.

import type { ParamLayout } from './params.js';
import { SpecError, type Network } from './spec.js';
import { type Matrix } from './matrix.js';
import type { Objective, ObjectiveReport } from './optim/types.js';
import type { DataPrecision } from './f16.js';

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
  /**
   * VAE only: the mean KL(q(z|x) ‖ N(0, I)), unweighted; J adds β·kl. (`data` is then
   * the mean reconstruction NLL, summed over output units.)
   */
  kl?: number;
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
  /** VAE: the seed of ε (default: defaultVaeNoiseSeed, the first evaluation of the network's ε stream). */
  noiseSeed?: number;
}

/**
 * Examples (and targets) prepared for one backend: resident on the GPU for a
 * WebGPU model (uploaded once, in chunks), float64 matrices for the CPU model.
 * A WebGPU data set over `maxDataBytes` (DatasetOptions) stays in host memory
 * (location 'host') and streams to the GPU (by mini-batches, or chunk by chunk).
 * Made by `model.dataset(X, Y)` or `model.encodeDataset(...)`; a data set made
 * by one model can train another model of the same backend (stacked pipelines).
 */
export interface Dataset {
  /** Examples. */
  readonly rows: number;
  /** Features per example. */
  readonly cols: number;
  /** Where the examples live ('host': a WebGPU data set kept in host memory, streamed to the GPU). */
  readonly location: 'gpu' | 'cpu' | 'host';
  /** 'host' data sets: the bytes of the examples (and targets) as float32, and the maxDataBytes they exceed. */
  readonly streamed?: { bytes: number; cap: number };
  /** WebGPU data sets: how the GPU buffers hold the values ('f16': halves, DatasetOptions.dataPrecision). */
  readonly precision?: DataPrecision;
}

/** The optimizers that evaluate mini-batches (a streamed set streams by batches; the others stream it whole, chunk by chunk, in every evaluation). */
export const MINI_BATCH_METHODS: readonly string[] = ['sgd', 'momentum', 'adam'];

/** How `model.dataset` prepares examples. */
export interface DatasetOptions {
  /**
   * WebGPU: examples (and targets) over this many bytes as float32 are not
   * uploaded; they stay in host memory and stream to the GPU: by mini-batches
   * (SGD, momentum, Adam), or whole, in chunks of at most this many bytes, in
   * every full-batch evaluation (L-BFGS, CG, GD). The CPU backend ignores it
   * (its data live in host memory).
   */
  maxDataBytes?: number;
  /**
   * 'f16': the examples (and targets) are stored as half floats, two per u32
   * word, halving their GPU memory and upload; every kernel unpacks them to
   * float32 and computes in float32 (README, "Half-precision data"). Values are
   * rounded to the nearest half (ties to even); one that overflows (|x| ≥ 65520)
   * is refused. Resident data sets only (not with maxDataBytes streaming).
   * The CPU backend rounds the values to halves in float64, so it computes the
   * same objective. Default 'f32'.
   */
  dataPrecision?: DataPrecision;
}

/** Checks a `maxDataBytes` cap: a positive integer number of bytes (or absent). */
export function checkMaxDataBytes(v: unknown, key = 'maxDataBytes'): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new SpecError(`${key} must be a positive integer number of bytes, got ${JSON.stringify(v)}`);
  return v;
}

/** Bytes the examples X (m × n1) and targets T (X itself for an autoencoder) take as float32 (half that as f16). */
export function float32Bytes(X: Matrix, T: Matrix): number {
  return 4 * X.rows * (X.cols + (T === X ? 0 : T.cols));
}

/** What training needs of an objective beyond J and ∇J (see Model.objective). */
export interface ObjectiveOptions {
  /**
   * Mini-batches: ρ̂ ← decay·ρ̂ + (1 − decay)·ρ̂_batch (a running estimate; 0 or
   * omitted: each batch's own ρ̂). Full evaluations always use the exact ρ̂.
   */
  rhoHatDecay?: number;
  /**
   * Denoising networks: 'fresh' corrupts the inputs anew at every evaluation
   * (first-order methods, the default); 'fixed' keeps one corruption for the
   * whole run, so the objective is deterministic as L-BFGS and CG line searches need.
   */
  noise?: 'fresh' | 'fixed';
  /** Evaluations already done (a resumed run), so a fresh noise stream continues where it stopped. */
  presentationsBefore?: number;
  /**
   * Checked between the chunks of a long evaluation by objectives that evaluate
   * in chunks on the host (the CPU backend): true stops the evaluation with
   * EvaluationInterrupted (so Ctrl-C does not wait for a whole pass over the data).
   */
  stop?: () => boolean;
}

/** J(θ) over all examples at the current θ, its parts and the first hidden layer's mean ρ̂. */
export interface FullCost extends ObjectiveReport {
  cost: number;
}

/** An Objective over a model's data set: what `optimize` needs, and what a training loop needs around it. */
export interface ModelObjective<V = unknown> extends Objective<V> {
  /**
   * The full-data cost at the current θ (a forward pass, no gradient), after
   * the optimizer's pending work: what a run reports after its last step.
   */
  fullCost(): Promise<FullCost>;
  /** Makes the model's θ the objective's θ (the CPU objective trains a copy; on the GPU, runs pending updates). */
  commit(): Promise<void>;
  /** Frees what the objective allocated (batches, optimizer vectors); not the data set or the model. */
  dispose(): void;
  /** True when `ObjectiveOptions.stop` can end an evaluation early (see there). */
  readonly interruptible?: boolean;
}

export interface Model {
  readonly backend: BackendName;
  readonly network: Network;
  readonly layout: ParamLayout;
  /** The WebGPU adapter's description ("vendor architecture (backend)"); null on the CPU. */
  readonly deviceLabel: string | null;
  /** Replaces θ (length layout.size, order documented in params.ts). */
  setParameters(theta: ArrayLike<number>): void;
  readParameters(): Promise<Float64Array>;
  /** J(θ; X, Y), its parts, ρ̂ and ∇J. Y is omitted for an autoencoder. */
  cost(X: Matrix, Y?: Matrix, opts?: CostOptions): Promise<CostReport>;
  /** Output-layer activations, m × nL. */
  predict(X: Matrix): Promise<Matrix>;
  /**
   * Activations of layer `layer` (notes' numbering, default 2: the first hidden layer), m × n_layer.
   * A VAE: the latent layer by default (or the output layer), giving μ (m × d) with log σ² beside it as `logvar`.
   */
  encode(X: Matrix, layer?: number): Promise<Encoding>;
  /** VAE: the decoder's outputs (m × n) for latent codes Z (m × d). */
  decode(Z: Matrix): Promise<Matrix>;
  /** VAE: n codes z ~ N(0, I) (z = normalMatrix(seed, n, d), default seed 1), decoded: n × n_out. */
  sample(n: number, opts?: { seed?: number }): Promise<Matrix>;
  /**
   * VAE: the −ELBO (β = 1, one ε draw under `seed`) and the importance-weighted −log p(x) with
   * `samples` draws per example (Burda et al. 2015; sample s uses ε seed evaluationSeed(seed, s)),
   * both in nats per example, means over X; the Gaussian decoder's ½ n log 2π included.
   */
  evaluateVae(X: Matrix, opts?: VaeEvalOptions): Promise<VaeEvaluation>;
  /** Examples X (m × n1) and targets Y (m × nL; omitted for an autoencoder) prepared for training this model. */
  dataset(X: Matrix, Y?: Matrix | null, opts?: DatasetOptions): Dataset;
  /**
   * Layer `layer`'s activations over `ds` as a new data set of this backend
   * (on the GPU: no readback), with `targets` (e.g. one-hot labels) as its Y:
   * the next stage's input in a stacked pipeline. Free it with `release`.
   */
  encodeDataset(ds: Dataset, layer?: number, opts?: { targets?: Matrix }): Promise<Dataset>;
  /** The training objective J(θ) over `ds`, starting from this model's θ. */
  objective(ds: Dataset, opts?: ObjectiveOptions): ModelObjective;
  /** Frees what this model holds for `ds` (its buffers too, if this model made it). */
  release(ds: Dataset): void;
  dispose(): void;
}

/** A layer's activations; a VAE's latent encoding carries log σ² beside μ. */
export interface Encoding extends Matrix {
  logvar?: Matrix;
}

export interface VaeEvalOptions {
  /** Importance samples k per example (default 1000; 0 skips the estimate). */
  samples?: number;
  /** Seed of the evaluation's ε (default 1). */
  seed?: number;
}

export interface VaeEvaluation {
  negElbo: number;
  /** −log p(x) estimated with `samples` importance samples (null when samples = 0). */
  nll: number | null;
  samples: number;
}

export function checkVaeEval(opts: VaeEvalOptions): { samples: number; seed: number } {
  const samples = opts.samples ?? 1000;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(samples) || samples < 0) throw new SpecError(`importance samples must be an integer ≥ 0, got ${samples}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SpecError(`evaluation seed must be an integer in [0, 2³²), got ${seed}`);
  return { samples, seed };
}

/** A VAE's encode layers: the latent one (default) or the output. */
export function checkVaeLayer(net: Network, layer: number | undefined): number {
  if (!net.vae) throw new SpecError('this operation needs a variational autoencoder (a spec with "vae")');
  const latent = net.vae.latent + 1;
  if (layer === undefined) return latent;
  if (layer !== latent && layer !== net.layers.length) throw new SpecError(`a VAE encodes to its latent layer ${latent} (μ and log σ²) or its output layer ${net.layers.length}, not layer ${layer}`);
  return layer;
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
