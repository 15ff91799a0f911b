// What one GpuModel.evaluate records (its own module so that the objective,
// which the model imports, can name it without an import cycle).
import type { Dispatch, IndirectArgs } from './kernels.js';

export interface EvaluateOptions {
  /** Compute the parts of J into scalarsBuffer (default true). */
  cost?: boolean;
  /** Compute ∇θ into gradBuffer (default true). */
  gradient?: boolean;
  /** Dispatches recorded before the evaluation in the same pass (an optimizer's update, a batch gather). */
  before?: readonly Dispatch[];
  /** Dispatches recorded after the evaluation in the same pass. */
  then?: readonly Dispatch[];
  /**
   * Mini-batches: use an exponential running average of ρ̂ instead of the batch's
   * own, ρ̂ ← decay·ρ̂ + (1 − decay)·ρ̂_batch (the first batch starts it). 0 or
   * absent: ρ̂ of the evaluated examples (the default, and exact for full batches).
   */
  rhoHatDecay?: number;
  /**
   * Denoising networks: the seed of this evaluation's input corruption (a training
   * evaluation; fresh noise needs a fresh seed). Absent: the clean input.
   */
  noiseSeed?: number;
  /** VAE: the seed of this evaluation's ε (default: defaultVaeNoiseSeed, the ε stream's first evaluation). */
  epsSeed?: number;
  /** k-sparse: the k of this evaluation (an annealed training k, src/ksparse-anneal.ts); default the network's k. */
  kSparseK?: number;
  /**
   * A gated evaluation (a speculated line-search trial): `check` is recorded
   * first; `before`, the evaluation and `then` follow as indirect dispatches
   * whose workgroup counts are written at `args` (as indirectArgs), so that
   * `check` can zero them. The scalars are not cleared here: `check` clears
   * them when it lets the evaluation run. Resident sets only.
   */
  gate?: { check: Dispatch; args: IndirectArgs };
  /** Dispatches after `then`, never gated. */
  tail?: readonly Dispatch[];
  /**
   * Record into this encoder instead of submitting (the caller submits; several
   * evaluations in one submit). The noise and ε seeds are queue writes: every
   * evaluation in one submit sees the last one's. Resident sets only.
   */
  encoder?: GPUCommandEncoder;
}
