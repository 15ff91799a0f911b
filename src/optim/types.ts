// The two interfaces every optimizer is written against, so that each runs
// unchanged on CPU Float64Arrays and on GPU buffers.

import type { SearchConstants } from './linesearch-state.js';

/**
 * Vector operations on vectors of one length n. On the GPU, operations are
 * recorded and submitted together; only `dot` (and `flush`) wait for the GPU,
 * and `dot` reads back one scalar.
 */
export interface VectorOps<V> {
  readonly n: number;
  /** A new vector of zeros. */
  alloc(): V;
  free(v: V): void;
  /** dst ← src */
  copy(src: V, dst: V): void;
  /** y ← a·x + y */
  axpy(a: number, x: V, y: V): void;
  /** y ← a·x + b·y */
  axpby(a: number, x: V, b: number, y: V): void;
  /** y ← a·y */
  scale(a: number, y: V): void;
  /** y ← a (every element) */
  fill(a: number, y: V): void;
  /**
   * One Adam update (Kingma & Ba, Algorithm 1), elementwise:
   * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
   * θ ← θ − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
   */
  adam(theta: V, g: V, m: V, v: V, p: { lr: number; beta1: number; beta2: number; epsilon: number; t: number }): void;
  /**
   * dst ← Σⱼ coefs[j]·vectors[j], summed in index order (dst may not be one of
   * `vectors`). Vector-free L-BFGS forms its direction with it.
   */
  combine(coefs: readonly number[], vectors: readonly V[], dst: V): void;
  /** xᵀy (reads back one number on the GPU). */
  dot(x: V, y: V): Promise<number>;
  /** [x₀ᵀy₀, x₁ᵀy₁, …]: every pair in one batched dispatch and ONE readback on the GPU. */
  dots(pairs: readonly DotPair<V>[]): Promise<Float64Array>;
  /** Waits until every recorded operation has run. */
  flush(): Promise<void>;
  /** A copy of the vector as float64 (tests, checkpoints). */
  read(v: V): Promise<Float64Array>;
  write(v: V, values: ArrayLike<number>): void;
}

/** Two vectors whose inner product is wanted. */
export type DotPair<V> = readonly [V, V];

/** A batch of the training set: positions [start, start + count) of the current example order. */
export interface BatchRange {
  start: number;
  count: number;
}

/**
 * J(θ) and ∇J(θ) over the training data (or one batch of it). `theta` and
 * `grad` are owned by the objective: an optimizer moves θ with VectorOps on
 * `theta` and reads the gradient of the last evaluation from `grad`.
 */
export interface Objective<V> {
  readonly ops: VectorOps<V>;
  readonly theta: V;
  readonly grad: V;
  /** Number of training examples. */
  readonly examples: number;
  /**
   * Evaluates at the current θ over `batch` (default: all examples, with
   * full-data ρ̂). Returns J when `cost` is true (default), else null — on the
   * GPU, skipping the cost avoids the readback.
   */
  evaluate(opts?: { batch?: BatchRange; cost?: boolean }): Promise<number | null>;
  /**
   * Full-batch evaluation at the current θ (as `evaluate()`), then the vector
   * operations `after` records (they see the new ∇J), then the dot products
   * of `pairs`: on the GPU all in one submit, with J (when `cost`, default
   * true) and the dots read back together in ONE readback. Optional: use
   * {@link evaluateWithDots} (batched.ts), which falls back to `evaluate` and
   * `ops.dots`.
   */
  evaluateDots?(pairs: readonly DotPair<V>[], opts?: { cost?: boolean; after?: () => void }): Promise<{ cost: number | null; dots: Float64Array }>;
  /**
   * A line search's first `depth` trials in one round trip (optional; the GPU
   * objective has it, see linesearch.ts `speculate`). Evaluates at the current
   * θ, the first trial point x + t·d, with the dots of `pairs` (pairs[0] must
   * be [∇J, d], giving φ'(t)); then, without waiting, runs the search's
   * transition on the device in float32 (linesearch-state.ts `advance`), moves
   * θ to the next trial step and evaluates there, and so on. Once the device's
   * search is done, the remaining evaluations repeat the step it returns
   * (`real` false), so θ, ∇J and the dots end there. All results come back in
   * ONE readback.
   */
  evaluateTrials?(pairs: readonly DotPair<V>[], x: V, d: V, rule: TrialRule, depth: number): Promise<Trial[]>;
  /**
   * Evaluates with the cost like `evaluate({ batch, cost: true })` but does
   * not wait for J: resolves once the evaluation is recorded (on the GPU,
   * submitted, with J's copy to a staging buffer), with a promise that
   * settles when the reading lands. Further evaluations may be submitted
   * meanwhile; readings land in the order they were taken. Optional: use
   * {@link evaluateLater} (batched.ts), which falls back to `evaluate`.
   */
  evaluateLater?(opts?: { batch?: BatchRange }): Promise<{ reading: Promise<CostReadingValue> }>;
  /** A new seeded random order of the examples (used by SGD at each epoch). */
  shuffle(seed: number): void;
  /**
   * Training progress before the next evaluation, in epochs: examples presented
   * so far / m (fractional within an epoch; a full-batch step counts one epoch).
   * The first-order methods (sgd.ts) set it before every evaluation, a resumed
   * run from its restored position. Optional: objectives whose J follows a
   * schedule (k-sparse annealing, `kSparse.anneal`) read it, the rest ignore it.
   */
  setProgress?(epochs: number): void;
  /**
   * Set when J changes with the progress (a schedule), naming it. Methods with
   * a line search (L-BFGS, CG) need a fixed objective and refuse such a one.
   */
  readonly schedule?: string | null;
  /**
   * Relative resolution of J (optional; default 0, exact): values closer than
   * this times |J| may differ by rounding alone. The GPU's float32 reductions
   * set it; line searches use it (LineSearchOptions.costNoise).
   */
  readonly costResolution?: number;
  /** The parts of J and the mean ρ̂ of the first hidden layer at the last evaluation that computed the cost (for progress displays). */
  readonly lastReport?: ObjectiveReport | null;
}

/** What a line search's device transitions depend on (linesearch-state.ts SearchConstants), and its first step t. */
export interface TrialRule extends SearchConstants {
  t: number;
}

/**
 * One evaluation of Objective.evaluateTrials: its step, J and dots; `real`
 * false for a repeat of the step the device's search returned, whose `t` is
 * then that trial's own `t` (so it compares equal to the step the search returns).
 */
export interface Trial {
  t: number;
  real: boolean;
  cost: number;
  dots: Float64Array;
}

/** J of one evaluation and its report, as a deferred reading delivers them. */
export interface CostReadingValue {
  cost: number;
  report: ObjectiveReport | null;
}

/** A cost reading that landed after its iteration was reported (first-order methods' `onCost`). */
export interface CostReading extends CostReadingValue {
  /** The iteration whose batch it is (J at θ before that iteration's update), as `IterationInfo.iteration`. */
  iteration: number;
  epoch: number;
}

export interface ObjectiveReport {
  parts: { data: number; weightDecay: number; sparsity: number; l1: number; contractive: number; kl?: number };
  rhoHatMean: number | null;
}

export interface IterationInfo {
  /** Iterations (parameter updates) so far. */
  iteration: number;
  epoch: number;
  /** Cost at this iteration when known (mini-batch methods: the batch cost, if it was computed). */
  cost: number | null;
  /** Step size / learning rate used. */
  stepSize: number;
  /** Function evaluations so far. */
  evaluations: number;
  /** ‖∇J‖ when the optimizer computed it. */
  gradNorm?: number;
  /**
   * Captures the optimizer's state at this iteration boundary, for a later
   * `resume` (see {@link OptimizerState}). Reads the optimizer's vectors with
   * `ops.read` (a readback on the GPU), so call it only when a checkpoint is
   * wanted (every N iterations, on Ctrl-C, …). Call it, and await it, inside
   * the `onIteration` call that provided it — together with reading θ
   * (`ops.read(objective.theta)`), which the state does not hold. Called
   * after that `onIteration` returned, it rejects. Every optimizer in
   * src/train provides it.
   */
  checkpoint?: () => Promise<OptimizerState>;
}

/**
 * A snapshot of an optimizer between two iterations, from which it continues
 * exactly (`resume` option of every optimizer): on the same data and settings,
 * a run interrupted after iteration k and resumed from the state taken there
 * goes through the same iterates as an uninterrupted run.
 *
 * θ is NOT part of the state: the caller saves θ with the model when it takes
 * the state, and the state is valid only for that θ. Before resuming, the
 * caller restores that θ into `objective.theta`; the optimizer reads θ from
 * there. Use {@link stateToJSON} / {@link stateFromJSON} (state.ts) to store
 * it: they round-trip every number bitwise.
 */
export interface OptimizerState {
  /** The optimizer that took it: 'gd', 'sgd', 'momentum', 'adam', 'lbfgs' or 'cg'. */
  method: string;
  /** Iterations (parameter updates) completed. */
  iteration: number;
  /** The epoch of the last completed iteration (`IterationInfo.epoch` at that iteration). */
  epoch: number;
  /** Objective evaluations so far. */
  evaluations: number;
  /**
   * Method-specific scalars (JSON-able): always `n`, the number of
   * parameters; mini-batch position, seed and batch size; the line-search
   * methods' last cost, step, slopes, …
   */
  scalars: Record<string, number | boolean | null>;
  /**
   * Method-specific vectors of n values: momentum `velocity`; Adam `m`, `v`;
   * L-BFGS correction pairs `s0`, `y0`, … (oldest first); CG direction `d` and
   * previous gradient `gOld`.
   */
  vectors: Record<string, Float64Array>;
}

export type StopReason = 'iterations' | 'gradient' | 'progress' | 'step' | 'callback' | 'epochs';

export interface OptimizeResult {
  iterations: number;
  evaluations: number;
  /** Final cost (full data), when evaluated. */
  cost: number | null;
  reason: StopReason;
}

/** Called after each iteration; return false to stop. */
export type OnIteration = (info: IterationInfo) => boolean | void | Promise<boolean | void>;
