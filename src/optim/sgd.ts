// First-order methods: batch gradient descent, mini-batch stochastic gradient
// descent (with classical or Nesterov momentum) and Adam.
//
// The three regimes of the notes are one loop with different batch sizes:
// - batch gradient descent: every update uses all m examples (batchSize ≥ m,
//   or `gradientDescent`); the data is never shuffled and each evaluation is a
//   full one, so batchSize = m is step for step the same as gradientDescent;
// - stochastic gradient descent: batchSize = 1, one example per update;
// - mini-batch gradient descent: 1 < batchSize < m.
// With batchSize < m, each epoch starts with objective.shuffle(seed + epoch)
// and then visits the examples in that order, batch after batch; the last
// batch of an epoch is smaller when batchSize does not divide m.
//
// Readbacks: these methods never call `dot`, and evaluate the objective with
// `cost: false` except every `costEvery` iterations (when set) and once at the
// end when `finalCost` is set. With `costsInFlight` > 0 the run does not wait
// for those readings (Objective.evaluateLater): up to that many travel back
// while the next steps are submitted, and each is handed to `onCost` when it
// lands, oldest first, before the next onIteration (issue 12).
//
// Checkpoints (`info.checkpoint()`, `resume`): the state holds the counters,
// the position in the epoch (`batch` of `batches` done in epoch `epoch`), the
// example count, batch size and seed, and the vectors (momentum `velocity`,
// Adam `m` and `v`). A resumed run redoes objective.shuffle(seed + epoch) and
// continues with the next batch of that epoch (or with the next epoch), with
// the learning-rate schedule, Adam's step count t and the `iterations` and
// `epochs` limits counting on from the restored iteration and epoch. It needs
// no extra evaluation. Mid-epoch, the same example count, batch size and seed
// are required; at an epoch boundary they may change.
//
// Progress: before each evaluation the objective hears the epochs done,
// epoch + (examples of this epoch before the batch) / m (Objective.setProgress),
// which a resumed run recomputes from its restored epoch and batch.

import { scratchVectors } from './scratch.js';
import { SpecError } from '../spec.js';
import { checkLearningRate, learningRate, type LearningRate } from './schedules.js';
import { checkState, reportIteration, expectVectors, restoreVector, stateInteger } from './state.js';
import { evaluateLater } from './batched.js';
import type { BatchRange, CostReading, CostReadingValue, Objective, OnIteration, OptimizeResult, OptimizerState, StopReason } from './types.js';

/** Settings shared by every first-order method. */
export interface FirstOrderCommonOptions {
  /**
   * Learning rate α: a number or a schedule (see {@link LearningRate}).
   * Default 0.01 (Adam: 0.001).
   */
  learningRate?: LearningRate;
  /**
   * Compute the cost every `costEvery` iterations (at iterations k, 2k, …),
   * reported as `info.cost` (the cost of that iteration's batch at θ before
   * its update). Default 0: never (`info.cost` is null), so no cost readback.
   */
  costEvery?: number;
  /**
   * Cost readings that may be in flight at once (default 0: each reading is
   * waited for, and reported as `info.cost` of its iteration). With k > 0 the
   * run never waits on a reading until k are in flight: the next steps are
   * submitted while a reading travels back (on the GPU, a mapAsync round
   * trip), `info.cost` is null, and each cost goes to `onCost` when it lands,
   * in order (all of them before the optimizer returns).
   */
  costsInFlight?: number;
  /** Receives the costs of `costEvery` iterations when `costsInFlight` > 0. */
  onCost?: (reading: CostReading) => void | Promise<void>;
  /** Evaluate the full-data cost once at the end, reported as the result's `cost` (default false: `cost` is null). */
  finalCost?: boolean;
  /** Called after each update; return false to stop. `info.checkpoint()` captures the state for `resume`. */
  onIteration?: OnIteration;
  /**
   * Continue the run from a state taken by `info.checkpoint()` of the same
   * method. Restore θ (saved when the state was taken) into
   * `objective.theta` first. Iteration, epoch and evaluation counts go on from
   * the state, so `iterations` and `epochs` are totals over both runs.
   */
  resume?: OptimizerState;
}

/** Batch gradient descent: θ ← θ − α∇J(θ) over all examples. */
export interface GradientDescentOptions extends FirstOrderCommonOptions {
  /** Number of updates (default 100). Each one is a full pass, so `info.epoch` = iteration − 1. */
  iterations?: number;
}

/** Settings of the mini-batch methods. */
export interface MiniBatchOptions extends FirstOrderCommonOptions {
  /**
   * Passes over the training set. Default 10, unless `iterations` is given
   * (then only `iterations` limits the run). With both, whichever comes first.
   */
  epochs?: number;
  /** Maximum number of updates (default: no limit besides `epochs`). */
  iterations?: number;
  /** Examples per update (default 100): 1 = stochastic GD, ≥ m = batch GD (no shuffling). */
  batchSize?: number;
  /** Seed of the example order: epoch e uses objective.shuffle(seed + e). Default 0. */
  seed?: number;
}

/**
 * Mini-batch SGD, optionally with momentum μ:
 * - classical (heavy ball): v ← μv − α∇J(θ); θ ← θ + v;
 * - Nesterov: the gradient is taken at the look-ahead point θ + μv. Implemented
 *   in the usual reparametrisation (Sutskever et al. 2013; as in PyTorch),
 *   where the stored iterate is the look-ahead point θ̃ = θ + μv:
 *   v ← μv − α∇J(θ̃); θ̃ ← θ̃ + μv − α∇J(θ̃). The returned parameters are θ̃.
 */
export interface SgdOptions extends MiniBatchOptions {
  /** Momentum μ in [0, 1). Default 0 (plain SGD). */
  momentum?: number;
  /** Nesterov momentum instead of classical (default false). */
  nesterov?: boolean;
}

/** SGD with momentum: as {@link SgdOptions}, with momentum defaulting to 0.9. */
export type MomentumOptions = SgdOptions;

/** Adam (Kingma & Ba 2015, Algorithm 1) on mini-batches. */
export interface AdamOptions extends MiniBatchOptions {
  /** Decay rate of the first-moment estimate (default 0.9). */
  beta1?: number;
  /** Decay rate of the second-moment estimate (default 0.999). */
  beta2?: number;
  /** ε added to √v̂ (default 1e-8). */
  epsilon?: number;
}

export const FIRST_ORDER_DEFAULTS = {
  learningRate: 0.01,
  adamLearningRate: 0.001,
  gdIterations: 100,
  epochs: 10,
  batchSize: 100,
  seed: 0,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
} as const;

interface InFlight {
  iteration: number;
  epoch: number;
  reading: Promise<CostReadingValue>;
  landed: boolean;
}

type Update = { kind: 'plain' } | { kind: 'momentum'; mu: number; nesterov: boolean } | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };

interface Settings {
  method: string;
  resume: OptimizerState | undefined;
  lr: LearningRate;
  epochs: number;
  iterations: number;
  batchSize: number;
  seed: number;
  costEvery: number;
  costsInFlight: number;
  onCost: ((reading: CostReading) => void | Promise<void>) | undefined;
  finalCost: boolean;
  onIteration: OnIteration | undefined;
  update: Update;
}

function count(x: number | undefined, what: string, def: number, min = 0): number {
  if (x === undefined) return def;
  if (x === Infinity) return x;
  if (!Number.isInteger(x) || x < min) throw new SpecError(`${what} must be an integer ≥ ${min}, got ${x}`);
  return x;
}

function inUnit(x: number, what: string): number {
  if (!(x >= 0 && x < 1)) throw new SpecError(`${what} must lie in [0, 1), got ${x}`);
  return x;
}

function common(o: FirstOrderCommonOptions, defaultLr: number, method: string): Pick<Settings, 'method' | 'resume' | 'lr' | 'costEvery' | 'costsInFlight' | 'onCost' | 'finalCost' | 'onIteration'> {
  const lr = o.learningRate ?? defaultLr;
  checkLearningRate(lr);
  return { method, resume: o.resume, lr, costEvery: count(o.costEvery, 'costEvery', 0), costsInFlight: count(o.costsInFlight, 'costsInFlight', 0), onCost: o.onCost, finalCost: o.finalCost ?? false, onIteration: o.onIteration };
}

function miniBatch(o: MiniBatchOptions, defaultLr: number, update: Update, method: string): Settings {
  const epochs = count(o.epochs, 'epochs', o.iterations === undefined ? FIRST_ORDER_DEFAULTS.epochs : Infinity);
  const iterations = count(o.iterations, 'iterations', Infinity);
  const batchSize = count(o.batchSize, 'batchSize', FIRST_ORDER_DEFAULTS.batchSize, 1);
  const seed = o.seed ?? FIRST_ORDER_DEFAULTS.seed;
  if (!Number.isFinite(seed)) throw new SpecError(`seed must be a finite number, got ${seed}`);
  return { ...common(o, defaultLr, method), epochs, iterations, batchSize, seed, update };
}

async function run<V>(obj: Objective<V>, s: Settings): Promise<OptimizeResult> {
  const { ops } = obj;
  const m = obj.examples;
  const full = s.batchSize >= m;
  const batches = full ? 1 : Math.ceil(m / s.batchSize);
  const u = s.update;
  const scratch = scratchVectors(ops);
  const alloc = scratch.alloc;
  const velocity = u.kind === 'momentum' && u.mu > 0 ? alloc() : null;
  const m1 = u.kind === 'adam' ? alloc() : null;
  const m2 = u.kind === 'adam' ? alloc() : null;
  const vectors: Record<string, V> = velocity ? { velocity } : m1 && m2 ? { m: m1, v: m2 } : {};
  const batchSize = full ? null : s.batchSize;
  const seed = full ? null : s.seed;

  let iteration = 0;
  let evaluations = 0;
  let startEpoch = 0;
  let startBatch = 0;
  let reason: StopReason | null = null;
  // Cost readings in flight (costsInFlight > 0), oldest first: the landed ones
  // go to onCost before each onIteration; the oldest is waited for only when
  // more than costsInFlight are in flight, and all of them at the end.
  const inFlight: InFlight[] = [];
  const deliver = async (all: boolean): Promise<void> => {
    while (inFlight.length && (all || inFlight[0]!.landed || inFlight.length > s.costsInFlight)) {
      const r = inFlight.shift()!;
      const v = await r.reading;
      await s.onCost?.({ iteration: r.iteration, epoch: r.epoch, cost: v.cost, report: v.report });
    }
  };
  try {
    if (s.resume) {
      const st = s.resume;
      checkState(st, s.method, ops.n);
      const why =
        u.kind === 'adam' ? 'Adam' : u.kind === 'plain' ? 'gradient descent' : velocity ? `momentum ${u.mu}` : 'momentum 0 (no velocity)';
      expectVectors(st, Object.keys(vectors), why);
      if (velocity && u.kind === 'momentum' && st.scalars.nesterov !== u.nesterov) {
        throw new SpecError(`resume: the state was taken with nesterov = ${String(st.scalars.nesterov)}, but the options give nesterov = ${u.nesterov}`);
      }
      const stBatches = stateInteger(st, 'batches', 1);
      const done = stateInteger(st, 'batch', 0);
      if (done > stBatches) throw new SpecError(`resume: state batch ${done} exceeds its ${stBatches} batches per epoch`);
      if (done === stBatches) {
        startEpoch = st.epoch + 1;
      } else {
        // Mid-epoch: the rest of the epoch needs the same order and batches.
        const same = st.scalars.examples === m && st.scalars.batchSize === batchSize && st.scalars.seed === seed;
        if (!same) {
          throw new SpecError(
            `resume: the state was taken in the middle of epoch ${st.epoch} (after batch ${done} of ${stBatches}) with ` +
              `${String(st.scalars.examples)} examples, batch size ${String(st.scalars.batchSize)} and seed ${String(st.scalars.seed)}; ` +
              `continuing that epoch needs the same, but got ${m} examples, batch size ${String(batchSize ?? s.batchSize)} and seed ${String(seed ?? s.seed)}`,
          );
        }
        startEpoch = st.epoch;
        startBatch = done;
      }
      for (const [k, v] of Object.entries(vectors)) restoreVector(ops, st, k, v);
      iteration = st.iteration;
      evaluations = st.evaluations;
    }
    for (let epoch = startEpoch; reason === null; epoch++) {
      if (epoch >= s.epochs) {
        reason = 'epochs';
        break;
      }
      if (iteration >= s.iterations) {
        reason = 'iterations';
        break;
      }
      if (!full) obj.shuffle(s.seed + epoch);
      for (let b = epoch === startEpoch ? startBatch : 0; b < batches; b++) {
        if (iteration >= s.iterations) {
          reason = 'iterations';
          break;
        }
        const wantCost = s.costEvery > 0 && (iteration + 1) % s.costEvery === 0;
        const batch: BatchRange | undefined = full ? undefined : { start: b * s.batchSize, count: Math.min(s.batchSize, m - b * s.batchSize) };
        // Epochs done before this step (a schedule such as k-sparse annealing reads it).
        obj.setProgress?.(epoch + (batch ? batch.start / m : 0));
        let cost: number | null = null;
        if (wantCost && s.costsInFlight > 0) {
          const { reading } = await evaluateLater(obj, { batch });
          const r: InFlight = { iteration: iteration + 1, epoch, reading, landed: false };
          void reading.then(() => (r.landed = true), () => (r.landed = true));
          inFlight.push(r);
        } else {
          cost = await obj.evaluate({ batch, cost: wantCost });
        }
        evaluations++;
        const lr = learningRate(s.lr, iteration, epoch);
        if (!Number.isFinite(lr)) throw new SpecError(`learning rate became ${lr} at iteration ${iteration}`);
        switch (u.kind) {
          case 'plain':
            ops.axpy(-lr, obj.grad, obj.theta);
            break;
          case 'momentum':
            if (!velocity) {
              ops.axpy(-lr, obj.grad, obj.theta);
            } else if (u.nesterov) {
              ops.axpby(-lr, obj.grad, u.mu, velocity);
              ops.axpy(u.mu, velocity, obj.theta);
              ops.axpy(-lr, obj.grad, obj.theta);
            } else {
              ops.axpby(-lr, obj.grad, u.mu, velocity);
              ops.axpy(1, velocity, obj.theta);
            }
            break;
          case 'adam':
            ops.adam(obj.theta, obj.grad, m1!, m2!, { lr, beta1: u.beta1, beta2: u.beta2, epsilon: u.epsilon, t: iteration + 1 });
            break;
        }
        iteration++;
        await deliver(false);
        if (s.onIteration) {
          const scalars: OptimizerState['scalars'] = { n: ops.n, batch: b + 1, batches, examples: m, batchSize, seed };
          if (velocity && u.kind === 'momentum') Object.assign(scalars, { momentum: u.mu, nesterov: u.nesterov });
          const info = { iteration, epoch, cost: wantCost ? cost : null, stepSize: lr, evaluations };
          if (await reportIteration(ops, s.onIteration, info, s.method, scalars, vectors)) {
            reason = 'callback';
            break;
          }
        }
      }
    }
    await deliver(true);
    let cost: number | null = null;
    if (s.finalCost) {
      cost = await obj.evaluate({ cost: true });
      evaluations++;
    }
    await ops.flush();
    return { iterations: iteration, evaluations, cost, reason };
  } finally {
    scratch.freeAll();
  }
}

/** Batch gradient descent (every update over all examples). */
export async function gradientDescent<V>(objective: Objective<V>, options: GradientDescentOptions = {}): Promise<OptimizeResult> {
  const s: Settings = {
    ...common(options, FIRST_ORDER_DEFAULTS.learningRate, 'gd'),
    epochs: Infinity,
    iterations: count(options.iterations, 'iterations', FIRST_ORDER_DEFAULTS.gdIterations),
    batchSize: Infinity,
    seed: 0,
    update: { kind: 'plain' },
  };
  return run(objective, s);
}

/** Mini-batch stochastic gradient descent, plain (default) or with momentum. */
export async function sgd<V>(objective: Objective<V>, options: SgdOptions = {}): Promise<OptimizeResult> {
  return run(objective, miniBatch(options, FIRST_ORDER_DEFAULTS.learningRate, momentumUpdate(options, 0), 'sgd'));
}

/** Mini-batch SGD with momentum (default μ = 0.9, classical). */
export async function momentum<V>(objective: Objective<V>, options: MomentumOptions = {}): Promise<OptimizeResult> {
  return run(objective, miniBatch(options, FIRST_ORDER_DEFAULTS.learningRate, momentumUpdate(options, FIRST_ORDER_DEFAULTS.momentum), 'momentum'));
}

/** Adam on mini-batches. */
export async function adam<V>(objective: Objective<V>, options: AdamOptions = {}): Promise<OptimizeResult> {
  const beta1 = inUnit(options.beta1 ?? FIRST_ORDER_DEFAULTS.beta1, 'beta1');
  const beta2 = inUnit(options.beta2 ?? FIRST_ORDER_DEFAULTS.beta2, 'beta2');
  const epsilon = options.epsilon ?? FIRST_ORDER_DEFAULTS.epsilon;
  if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new SpecError(`epsilon must be a positive number, got ${epsilon}`);
  return run(objective, miniBatch(options, FIRST_ORDER_DEFAULTS.adamLearningRate, { kind: 'adam', beta1, beta2, epsilon }, 'adam'));
}

function momentumUpdate(o: SgdOptions, defaultMu: number): Update {
  const mu = inUnit(o.momentum ?? defaultMu, 'momentum');
  return { kind: 'momentum', mu, nesterov: o.nesterov ?? false };
}
