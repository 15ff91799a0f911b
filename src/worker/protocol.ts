// The messages between a page and the training worker (src/worker/host.ts).
// Everything here is structured-clone-able; matrices travel as Float32Array
// (transferred, not copied, where the sender gives them up).

import type { GemmVariant } from '../gpu/kernels.js';
import type { NetworkSpec } from '../spec.js';
import type { Matrix } from '../matrix.js';

/**
 * What the worker trains: 'autoencoder' (features, ρ̂, reconstructions) or 'vae'
 * (a variational autoencoder, spec with `vae`: also samples decoded from fixed
 * seeds and, for a 2-D latent space, the manifold and the held-out codes μ).
 */
export type TrainerMode = 'autoencoder' | 'vae';

/** VAE mode: what the worker draws from the GPU with each set of held-out pictures. */
export interface VaePictureOptions {
  /** How many samples x ~ p(x | z), z ~ N(0, I) from `sampleSeed` (the same z every time, so the change is the training's). */
  samples: number;
  sampleSeed: number;
  /** 2-D latent space only: the decoder over an n × n grid of z = Φ⁻¹(p) (0: none). */
  manifold: number;
}

/**
 * The optimizers the worker runs: mini-batch Adam, SGD and momentum, and
 * full-batch L-BFGS (optimize()'s 'lbfgs': a line search over all examples,
 * with a fixed corruption when denoising; batch size, learning rate and
 * cost-every do not apply to it).
 */
export type WorkerMethod = 'adam' | 'sgd' | 'momentum' | 'lbfgs';

/** Optimizer settings; every one of them may change while training (the model and its θ stay). */
export interface TrainSettings {
  method: WorkerMethod;
  learningRate: number;
  /** Examples per update (capped at the number of examples). */
  batchSize: number;
  /** Read the mini-batch cost every this many steps (≥ 1). */
  costEvery: number;
  /** Evaluate the held-out cost at most this often, in milliseconds (and whenever paused or stepped). */
  heldOutEveryMs: number;
}

export interface BuildRequest {
  mode: TrainerMode;
  spec: NetworkSpec;
  /** Training examples, one per row. */
  X: Matrix;
  /** Held-out examples: the held-out cost, ρ̂ and the inputs that excite a unit most. */
  heldOut: Matrix;
  /** How many of the first held-out rows are shown with their reconstructions. */
  shown: number;
  /** Initial θ (a loaded model); default: initialization `init` with `seed`. */
  parameters?: ArrayLike<number>;
  /** Steps already taken (a loaded model): the step count goes on from here. */
  steps?: number;
  seed?: number;
  init?: 'ufldl' | 'glorot' | 'he' | 'normal';
  /** A GEMM variant, or 'auto' to time the variants (slow on a first visit); default 'unrolled-4x4'. */
  gemm?: GemmVariant | 'auto';
  settings: TrainSettings;
  /** VAE mode only (defaults: 64 samples from seed 7, a 12 × 12 manifold). */
  vae?: VaePictureOptions;
}

export type TrainerState = 'idle' | 'running' | 'paused' | 'diverged';

/** Page → worker. Requests with an `id` are answered by a `reply` with the same id. */
export type TrainerRequest =
  | { type: 'canvas'; canvas: OffscreenCanvas }
  | { type: 'build'; id: number; request: BuildRequest }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'step' }
  /** Live changes: optimizer settings, and the network's penalties (λ, β, ρ, corruption level: the model is rebuilt around the current θ). */
  | { type: 'update'; id: number; settings?: Partial<TrainSettings>; spec?: NetworkSpec }
  | { type: 'parameters'; id: number }
  | { type: 'top-inputs'; id: number; unit: number; count: number }
  | { type: 'dispose'; id: number };

export interface CostReading {
  step: number;
  cost: number;
  /** Parts of J (data term, weight decay, sparsity, contractive; a VAE's unweighted KL(q(z|x) ‖ N(0, I)), J adding β·kl). */
  parts: { data: number; weightDecay: number; sparsity: number; contractive: number; kl?: number };
}

/** Worker → page. */
export type TrainerEvent =
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  /** What the worker is doing while building (compiling shaders, timing kernels …). */
  | { type: 'status'; text: string }
  | {
      type: 'progress';
      state: TrainerState;
      step: number;
      epoch: number;
      /** Steps per second over the last second of training (0 when not known). */
      stepsPerSecond: number;
      /** The mini-batch cost when it was read at this step (L-BFGS: the full cost at the new iterate). */
      cost: CostReading | null;
      /** L-BFGS: objective evaluations so far (iterations plus line-search steps) and ‖∇J‖₂ at this iterate. */
      lineSearch?: { evaluations: number; gradNorm: number | null };
    }
  /** The optimizer stopped by itself (L-BFGS: ‖∇J‖ or progress below tolerance); the trainer pauses. */
  | { type: 'stopped'; step: number; reason: string }
  /** The cost of the clean held-out examples (no corruption, no gradient). */
  | { type: 'held-out'; reading: CostReading }
  /** Mean activation ρ̂ⱼ of each hidden unit over the held-out examples. */
  | { type: 'rho-hat'; step: number; values: Float32Array }
  /** The shown held-out inputs as the network saw them (corrupted when denoising) and their reconstructions. */
  | { type: 'reconstructions'; step: number; inputs: Matrix; outputs: Matrix }
  /**
   * VAE mode, with each set of held-out pictures: samples decoded from the fixed seed's z,
   * and for a 2-D latent space the manifold (n × n decodes, row-major, z₂ growing upwards)
   * and the held-out codes μ (one row per held-out example).
   */
  | { type: 'vae-pictures'; step: number; samples: Matrix; manifold: { n: number; images: Matrix } | null; codes: Matrix | null }
  /** A cost or ρ̂ became NaN or ±∞: training stopped. */
  | { type: 'diverged'; step: number; what: string; value: number; /** Whether θ is still all finite (else the weights themselves became NaN or ±∞). */ weightsFinite: boolean }
  /** The feature tiles' size in pixels (the canvas the worker draws into). */
  | { type: 'tiles'; width: number; height: number; cols: number; tileWidth: number; tileHeight: number; padding: number; units: number }
  | { type: 'error'; message: string };

/** Replies of the requests that return something. */
export interface BuildInfo {
  layers: number[];
  adapter: string;
  parameters: number;
  steps: number;
}
export interface ParametersReply {
  spec: NetworkSpec;
  theta: Float64Array;
  steps: number;
}
export interface TopInputsReply {
  unit: number;
  /** Rows of the held-out set, most exciting first. */
  rows: number[];
  activations: number[];
}
