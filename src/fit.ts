// fit(model, data, options): one call that trains a CPU or a WebGPU model with
// any optimizer (as TF.js `model.fit` or Burn's `Learner::fit`). It makes the
// data set and the objective, chooses the denoising noise for the method, reads
// costs every `costEvery` iterations, reports progress, scores an optional
// validation set (cost, and accuracy for classifiers), stops early when the
// validation cost stops improving, stops on an AbortSignal, and leaves the
// final θ in the model. Browser-safe. `optimize(objective, …)` stays the
// low-level loop for custom training; `wgnn train` and its pipelines run every
// stage through fit (src/train/loop.ts adds checkpoints).

import { SpecError } from './spec.js';
import { type Matrix } from './matrix.js';
import { checkMaxDataBytes, type CostParts, type Dataset, type FullCost, type Model, type ModelObjective } from './model-contract.js';
import { accuracy, argmaxRows } from './metrics.js';
import { checkDataPrecision, type DataPrecision } from './f16.js';
import { oneHot } from './data/labels.js';
import { optimize, usesLineSearch, type OptimizerOptions } from './optim/optimize.js';
import { EvaluationInterrupted } from './optim/cpu-chunks.js';
import type { CostReading, IterationInfo, ObjectiveReport, OptimizerState, StopReason } from './optim/types.js';

/** Cost readings of a first-order run that may be in flight at once (MiniBatchOptions.costsInFlight). */
const COSTS_IN_FLIGHT = 4;

/** Examples X (m × n1) and targets Y (m × nL; omitted for an autoencoder). */
export interface FitData {
  X: Matrix;
  Y?: Matrix;
}

/** A validation set: targets Y (one-hot for a classifier) or class labels (classifiers). */
export interface ValidationData {
  X: Matrix;
  Y?: Matrix;
  labels?: ArrayLike<number>;
}

/** One scoring of the validation set. */
export interface ValidationReading {
  iteration: number;
  cost: number;
  /** Classifiers (softmax output): the fraction of validation examples classified right. */
  accuracy?: number;
}

export interface FitProgress {
  iteration: number;
  /** Planned iterations (null when the optimizer decides, e.g. L-BFGS stopping early). */
  total: number | null;
  epoch: number;
  /** The cost at this iteration when read (mini-batch methods: the batch cost), or a reading that landed since the last report. */
  cost: number | null;
  /** When `cost` is a reading that travelled back while later steps ran: the iteration it belongs to. */
  costIteration?: number;
  /** Parts of J and mean ρ̂ at the last evaluation that computed the cost. */
  report: ObjectiveReport | null;
  /** The validation reading of this iteration, if one was taken. */
  validation?: ValidationReading;
  samplesPerSecond: number;
  /** Seconds of this fit (plus `secondsBefore`). */
  seconds: number;
  etaSeconds: number | null;
}

export interface FitOptions {
  /** The optimizer and its settings (default L-BFGS, 400 iterations). */
  optimizer?: OptimizerOptions;
  /** Mini-batches: running ρ̂ estimate, ρ̂ ← decay·ρ̂ + (1 − decay)·ρ̂_batch (ObjectiveOptions.rhoHatDecay). */
  rhoHatDecay?: number;
  /** First-order methods: read the batch cost every N iterations (default: about 50 readings a run). L-BFGS and CG read every cost. */
  costEvery?: number;
  validation?: ValidationData;
  /** Score the validation set every N iterations (default: about 20 times a run, at least once per epoch for mini-batch methods) and after the last one. */
  validateEvery?: number;
  /** Early stopping: stop after this many validation readings without a cost below the best by more than `minDelta`. */
  patience?: number;
  minDelta?: number;
  onProgress?: (p: FitProgress) => void | Promise<void>;
  /** Stops at the next iteration boundary (reason 'interrupted'); θ of that iteration is in the model. */
  signal?: AbortSignal;
  /** Continue a run: the optimizer state taken at a checkpoint (θ already restored into the model) and the evaluations done before it. */
  resume?: { state: OptimizerState; evaluations: number; iterations?: number; secondsBefore?: number };
  /**
   * WebGPU, matrices only: a training set over this many bytes as float32 is not
   * uploaded; it stays in host memory and streams to the GPU by mini-batches
   * (sgd, momentum, adam; full-batch methods are refused), bitwise the resident
   * run. The final full-data cost streams chunk by chunk. The CPU backend ignores it.
   */
  maxDataBytes?: number;
  /**
   * Matrices only: 'f16' stores the training examples (and targets) as half
   * floats on the GPU, computing in float32 (DatasetOptions.dataPrecision; the
   * CPU backend rounds them to halves). Validation data stay float32. Default 'f32'.
   */
  dataPrecision?: DataPrecision;
  /** Called after progress at every iteration with the objective (checkpoints); return false to stop (reason 'callback'). */
  onIteration?: (info: IterationInfo, objective: ModelObjective) => boolean | void | Promise<boolean | void>;
}

export type FitStopReason = StopReason | 'interrupted' | 'early-stopping';

export interface FitResult {
  iterations: number;
  evaluations: number;
  reason: FitStopReason;
  /** Full-data training cost at the final θ, its parts and the first hidden layer's mean ρ̂ (interrupted: the last cost read). */
  cost: number;
  parts: CostParts;
  rhoHatMean: number | null;
  /** (iteration, cost) of every cost read during training (the loss curve). */
  curve: { x: number; y: number }[];
  /** Every validation reading, in order; the best one; the last one is at the final θ. */
  validation: ValidationReading[];
  bestValidation?: ValidationReading;
  seconds: number;
  /** Examples through the optimizer per second (mini-batch methods: batch size × evaluations). */
  samplesPerSecond: number;
  /**
   * Set when the signal stopped an evaluation midway (objectives with `interruptible`):
   * the optimizer state of the last completed iteration, whose θ is in the model (a checkpoint resumes from it).
   */
  interruptedAt?: InterruptedAt;
}

/** The last completed iteration of a run stopped inside an evaluation. */
export interface InterruptedAt {
  state: OptimizerState;
  theta: Float64Array;
  iteration: number;
  evaluations: number;
  cost: number | null;
  report: ObjectiveReport | null;
}

/** Iterations a run will take, when the options fix it. */
export function plannedIterations(o: OptimizerOptions, m: number): number | null {
  switch (o.method) {
    case 'lbfgs':
    case 'cg':
      return o.maxIterations ?? 400;
    case 'gd':
      return o.iterations ?? 100;
    default: {
      const batch = Math.min(o.batchSize ?? 100, m);
      const perEpoch = Math.ceil(m / batch);
      const byEpochs = (o.epochs ?? (o.iterations ? Infinity : 10)) * perEpoch;
      return Math.min(byEpochs, o.iterations ?? Infinity);
    }
  }
}

/** Examples one evaluation sees: the batch size for mini-batch methods, else all m. */
export function examplesPerEvaluation(o: OptimizerOptions, m: number): number {
  return o.method === 'sgd' || o.method === 'momentum' || o.method === 'adam' ? Math.min(o.batchSize ?? 100, m) : m;
}

function isDataset(d: FitData | Dataset): d is Dataset {
  return (d as Dataset).location !== undefined;
}

function isClassifier(model: Model): boolean {
  const acts = model.network.activations;
  return acts[acts.length - 1]!.name === 'softmax';
}

/** J on the validation set at the model's θ (forward only) and, for classifiers, the accuracy. */
async function scoreValidation(model: Model, v: ValidationData, iteration: number): Promise<ValidationReading> {
  const net = model.network;
  const Y = net.autoencoder ? undefined : (v.Y ?? (v.labels && isClassifier(model) ? oneHot(v.labels, net.layers[net.layers.length - 1]!) : undefined));
  if (!net.autoencoder && !Y) throw new SpecError('validation: a network that is not an autoencoder needs validation targets Y (or labels, for a classifier)');
  const r = await model.cost(v.X, Y, { gradient: false });
  const reading: ValidationReading = { iteration, cost: r.cost };
  if (isClassifier(model)) {
    const labels = v.labels ?? argmaxRows(Y!);
    reading.accuracy = accuracy(await model.predict(v.X), labels);
  }
  return reading;
}

/** Lets the event loop run (a Ctrl-C handler, a UI) at most every 50 ms: a CPU evaluation never yields on its own. */
function yielder(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < 50) return;
    await new Promise((r) => setTimeout(r, 0));
    last = performance.now();
  };
}

/**
 * Trains `model` on `data` (matrices, or a data set made by `model.dataset` /
 * another model's `encodeDataset`) and leaves the final θ in the model.
 */
export async function fit(model: Model, data: FitData | Dataset, options: FitOptions = {}): Promise<FitResult> {
  const optimizer = options.optimizer ?? { method: 'lbfgs' as const };
  if (options.patience !== undefined && (!options.validation || !Number.isInteger(options.patience) || options.patience < 1)) {
    throw new SpecError(options.validation ? `patience must be a positive integer, got ${options.patience}` : 'patience (early stopping) needs a validation set');
  }
  checkMaxDataBytes(options.maxDataBytes);
  if (options.maxDataBytes !== undefined && isDataset(data)) {
    throw new SpecError(`maxDataBytes (${options.maxDataBytes}) applies to matrices { X, Y }; a data set already made keeps its placement (make it with model.dataset(X, Y, { maxDataBytes }))`);
  }
  checkDataPrecision(options.dataPrecision);
  if (options.dataPrecision !== undefined && isDataset(data)) {
    throw new SpecError(`dataPrecision (${options.dataPrecision}) applies to matrices { X, Y }; a data set already made keeps its precision (make it with model.dataset(X, Y, { dataPrecision }))`);
  }
  const owned = isDataset(data) ? null : model.dataset(data.X, data.Y, { maxDataBytes: options.maxDataBytes, dataPrecision: options.dataPrecision });
  const ds = owned ?? (data as Dataset);
  const m = ds.rows;
  const firstOrder = !usesLineSearch(optimizer.method);
  const resume = options.resume;
  // Denoising: first-order methods see fresh noise at every evaluation (a resumed run continues the stream);
  // L-BFGS and CG need a deterministic objective for their line searches, so they keep one corruption of the data.
  // An objective that evaluates in chunks on the host (the CPU backend) stops inside an evaluation
  // on the signal; fit then goes back to the snapshot of the last completed iteration.
  let snapshot: InterruptedAt | null = null;
  const signal = options.signal;
  const objective = model.objective(ds, {
    rhoHatDecay: options.rhoHatDecay, noise: firstOrder ? 'fresh' : 'fixed', presentationsBefore: resume?.evaluations ?? 0,
    ...(signal ? { stop: () => signal.aborted && snapshot !== null } : {}),
  });
  const keepSnapshots = !!signal && objective.interruptible === true;
  const total = plannedIterations(optimizer, m);
  const perEval = examplesPerEvaluation(optimizer, m);
  const costEvery = options.costEvery ?? (firstOrder ? Math.max(1, Math.round((total ?? 100) / 50)) : 1);
  const perEpoch = firstOrder && optimizer.method !== 'gd' ? Math.ceil(m / perEval) : Infinity;
  const validateEvery = options.validateEvery ?? Math.max(1, Math.min(perEpoch, Math.round((total ?? 100) / 20)));
  const minDelta = options.minDelta ?? 0;
  const curve: { x: number; y: number }[] = [];
  // The last cost reading that landed since the previous progress report (readings in flight).
  let landed: CostReading | null = null;
  const validation: ValidationReading[] = [];
  let best: ValidationReading | undefined;
  let sinceBest = 0;
  let reason: FitStopReason | null = null;
  let lastIteration = resume?.iterations ?? 0;
  const evalsBefore = resume?.evaluations ?? 0;
  const iterBefore = resume?.iterations ?? 0;
  const secondsBefore = resume?.secondsBefore ?? 0;
  const t0 = performance.now();
  const yieldNow = yielder();

  const validate = async (iteration: number): Promise<ValidationReading> => {
    await objective.commit();
    const r = await scoreValidation(model, options.validation!, iteration);
    validation.push(r);
    if (!best || r.cost < best.cost - minDelta) {
      best = r;
      sinceBest = 0;
    } else sinceBest++;
    return r;
  };

  const onIteration = async (info: IterationInfo): Promise<boolean> => {
    lastIteration = info.iteration;
    if (info.cost !== null) curve.push({ x: info.iteration, y: info.cost });
    const fresh = landed;
    landed = null;
    const reading = options.validation && info.iteration % validateEvery === 0 ? await validate(info.iteration) : undefined;
    const s = (performance.now() - t0) / 1000;
    const done = info.iteration - iterBefore;
    await options.onProgress?.({
      iteration: info.iteration, total, epoch: info.epoch, cost: info.cost ?? fresh?.cost ?? null, report: objective.lastReport ?? null,
      ...(info.cost === null && fresh ? { costIteration: fresh.iteration } : {}),
      ...(reading ? { validation: reading } : {}),
      samplesPerSecond: ((info.evaluations - evalsBefore) * perEval) / Math.max(1e-9, s), seconds: secondsBefore + s,
      etaSeconds: total && done > 0 ? ((total - info.iteration) * s) / done : null,
    });
    if (options.signal) await yieldNow();
    if (keepSnapshots && info.checkpoint) {
      snapshot = { state: await info.checkpoint(), theta: await objective.ops.read(objective.theta), iteration: info.iteration, evaluations: info.evaluations, cost: info.cost ?? curve.at(-1)?.y ?? null, report: objective.lastReport ?? null };
    }
    if ((await options.onIteration?.(info, objective)) === false) reason = 'callback';
    if (options.signal?.aborted) reason = 'interrupted';
    else if (options.patience !== undefined && sinceBest >= options.patience) reason = 'early-stopping';
    return reason === null;
  };

  let final: FullCost;
  let result;
  let interruptedAt: InterruptedAt | null = null;
  try {
    try {
      result = await optimize(objective, {
      ...optimizer,
      // First-order methods never wait on a cost reading: up to COSTS_IN_FLIGHT readings travel
      // back while the next steps run, and each lands in the curve when it arrives.
      ...(firstOrder ? { costEvery, costsInFlight: COSTS_IN_FLIGHT, onCost: (r: CostReading) => { curve.push({ x: r.iteration, y: r.cost }); landed = r; } } : {}),
      ...(resume ? { resume: resume.state } : {}),
      onIteration,
    } as OptimizerOptions);
    } catch (e) {
      // Stopped inside an evaluation (the signal, between chunks): back to the last completed iteration.
      if (!(e instanceof EvaluationInterrupted) || !snapshot) throw e;
      const s = snapshot as InterruptedAt;
      objective.ops.write(objective.theta, s.theta);
      interruptedAt = s;
      reason = 'interrupted';
      if (s.cost !== null && curve.at(-1)?.x !== s.iteration) curve.push({ x: s.iteration, y: s.cost });
      result = { iterations: s.iteration, evaluations: s.evaluations, cost: s.cost, reason: 'callback' as const };
    }
    if (reason === 'interrupted') {
      // Stopping at once: the last cost read stands for the final one (no further pass over the data).
      const last = objective.lastReport;
      final = { cost: curve.at(-1)?.y ?? NaN, parts: last?.parts ?? { data: NaN, weightDecay: 0, sparsity: 0, l1: 0, contractive: 0 }, rhoHatMean: last?.rhoHatMean ?? null };
    } else {
      // The full-data cost at the final θ, its parts and ρ̂ (a forward pass only: no gradient).
      final = await objective.fullCost();
    }
    await objective.commit();
    if (options.validation && reason !== 'interrupted' && validation.at(-1)?.iteration !== lastIteration) await validate(lastIteration);
  } finally {
    objective.dispose();
    if (owned) model.release(owned);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    iterations: result.iterations,
    evaluations: result.evaluations,
    reason: reason === 'interrupted' || reason === 'early-stopping' ? reason : result.reason,
    cost: final.cost,
    parts: final.parts,
    rhoHatMean: final.rhoHatMean,
    curve,
    validation,
    ...(best ? { bestValidation: best } : {}),
    seconds: secondsBefore + seconds,
    samplesPerSecond: ((result.evaluations - evalsBefore) * perEval) / Math.max(1e-9, seconds),
    ...(interruptedAt ? { interruptedAt } : {}),
  };
}
