// A training run from a configuration: data, model, optimizer, progress,
// checkpoints (atomic, resumable) and the output folder. Node only.
//
// Output folder:
//   config.json          the configuration, with defaults filled in
//   model.safetensors    θ (W1, b1, W2, …) with the network spec and preprocessing in its metadata
//   model.json           the same spec and preprocessing, readable
//   features.png         first-layer features as tiles (image data only)
//   reconstructions.png  inputs beside their reconstructions (image autoencoders only; a VAE's through z = μ)
//   samples.png          VAE: decoded draws z ~ N(0, I); with a 2-D latent space also
//   manifold.png, latent.png  the decoder over a grid of Φ⁻¹ codes, and test μ coloured by label
//   loss.svg             the cost against iterations
//   summary.json         final cost and parts, ρ̂, speed, adapter, accuracy…
//   checkpoint/          θ, optimizer state and progress, for --resume

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createModel } from '../model.js';
import type { CostReport, Model } from '../model-contract.js';
import { resolveSpec, SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { oneHot } from '../data/labels.js';
import { corruptMatrix } from '../noise.js';
import { accuracy, confusionMatrix } from '../metrics.js';
import { encodeModel, decodeModel, modelJson } from '../io/model-file.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { reconstructionGrid, upscale } from '../viz/tiles.js';
import { lossCurveSvg } from '../viz/curve.js';
import { encodePng } from '../viz/png-node.js';
import { optimize, usesLineSearch, type OptimizerOptions } from '../train/optimize.js';
import { cpuNetworkObjective } from '../train/cpu-network.js';
import { stateFromJSON, stateToJSON } from '../train/state.js';
import { chunkRows, EvaluationInterrupted } from '../train/cpu-chunks.js';
import type { CostReading, IterationInfo, Objective, ObjectiveReport, OptimizeResult, OptimizerState } from '../train/types.js';
import { adapterLabel } from '../gpu/device.js';
import type { GpuModel } from '../gpu/model.js';
import { checkConfig, type TrainConfig } from './config.js';
import { loadTrainingData, type TrainingData } from './data.js';
import { vaeTestNumbers, writeVaePictures } from './vae-run.js';
import { examplesPerEvaluation, featuresPng, plannedIterations, type OptimizationSummary, type Progress, type StageSummary, type TrainOptions, type TrainSummary } from './stage.js';

export { examplesPerEvaluation, featuresPng, plannedIterations, type OptimizationSummary, type Progress, type StageSummary, type TrainOptions, type TrainSummary };

/** Cost readings of a first-order run that may travel back at once (see MiniBatchOptions.costsInFlight). */
const COSTS_IN_FLIGHT = 4;

/** The state at the end of a completed iteration, kept on the CPU backend for a Ctrl-C inside the next evaluation. */
interface Snapshot {
  state: OptimizerState;
  theta: Float64Array;
  iteration: number;
  evaluations: number;
  cost: number | null;
  report: ObjectiveReport | null;
}

interface CheckpointProgress {
  curve: { x: number; y: number }[];
  seconds: number;
  iteration: number;
  evaluations: number;
}

function targets(config: TrainConfig, data: TrainingData): Matrix | undefined {
  const net = resolveSpec(config.network!);
  if (net.autoencoder) return undefined;
  const labels = data.train.labels;
  if (!labels || !data.classes) throw new SpecError(`network ${JSON.stringify(net.layers)} is not an autoencoder, so the data need labels; data.source ${config.data.source} has none`);
  const nL = net.layers[net.layers.length - 1]!;
  if (nL !== data.classes) throw new SpecError(`the output layer has ${nL} units but the data have ${data.classes} classes`);
  return oneHot(labels, data.classes);
}

/** (1/m) Σᵢ ½‖r⁽ⁱ⁾ − x⁽ⁱ⁾‖²: the squared-error data term of reconstructions R of X. */
export function halfSquaredError(R: Matrix, X: Matrix): number {
  let se = 0;
  for (let i = 0; i < R.data.length; i++) se += (R.data[i]! - X.data[i]!) ** 2;
  return se / 2 / X.rows;
}

function firstRows(X: Matrix, n: number): Matrix {
  const rows = Math.min(n, X.rows);
  return { rows, cols: X.cols, data: X.data.subarray(0, rows * X.cols) };
}

function writeCheckpoint(dir: string, model: Uint8Array, state: OptimizerState, progress: CheckpointProgress): void {
  // Written into checkpoint.tmp, then swapped in with renames: a crash leaves either the old or the new checkpoint.
  const tmp = join(dir, 'checkpoint.tmp');
  const final = join(dir, 'checkpoint');
  const old = join(dir, 'checkpoint.old');
  rmSync(tmp, { recursive: true, force: true });
  try {
    writeFileAtomic(join(tmp, 'model.safetensors'), model);
    writeJsonAtomic(join(tmp, 'optimizer.json'), stateToJSON(state));
    writeJsonAtomic(join(tmp, 'progress.json'), progress);
    rmSync(old, { recursive: true, force: true });
    if (existsSync(final)) renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } finally {
    // A failed write leaves no checkpoint.tmp behind (the old checkpoint, if any, stays).
    rmSync(tmp, { recursive: true, force: true });
  }
}

function readCheckpoint(dir: string): { theta: Float64Array; state: OptimizerState; progress: CheckpointProgress } {
  // A crash between the two renames of writeCheckpoint leaves only checkpoint.old.
  const complete = (d: string): boolean => ['model.safetensors', 'optimizer.json', 'progress.json'].every((f) => existsSync(join(d, f)));
  const cp = [join(dir, 'checkpoint'), join(dir, 'checkpoint.old')].find(complete);
  if (!cp) throw new SpecError(`no checkpoint in ${join(dir, 'checkpoint')} to resume from`);
  const saved = decodeModel(new Uint8Array(readFileSync(join(cp, 'model.safetensors'))), join(cp, 'model.safetensors'));
  const state = readJsonFile(join(cp, 'optimizer.json'), (j) => stateFromJSON(j as Parameters<typeof stateFromJSON>[0]));
  const progress = readJsonFile(join(cp, 'progress.json'), checkProgress);
  return { theta: saved.theta, state, progress };
}

function checkProgress(json: unknown): CheckpointProgress {
  const p = json as CheckpointProgress;
  const count = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (!p || typeof p !== 'object' || !count(p.iteration) || !count(p.evaluations) || typeof p.seconds !== 'number' || !Array.isArray(p.curve) || p.curve.some((c) => !c || typeof c.x !== 'number' || typeof c.y !== 'number')) {
    throw new SpecError('not a checkpoint progress record { curve, seconds, iteration, evaluations }');
  }
  return p;
}

function lastKnownCost(s: Snapshot | null, report: ObjectiveReport | null, curve: { y: number }[]): Pick<CostReport, 'cost' | 'parts' | 'rhoHat'> {
  const r = s?.report ?? report;
  const parts = r?.parts ?? { data: NaN, weightDecay: NaN, sparsity: NaN, l1: 0, contractive: 0 };
  return { cost: s?.cost ?? curve.at(-1)?.y ?? NaN, parts, rhoHat: [] };
}

/** Reads the configuration a run saved in its output folder (for --resume). */
export function readRunConfig(dir: string): TrainConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new SpecError(`${dir} holds no config.json: not an output folder of wgnn train`);
  const config = readJsonFile(path, checkConfig);
  return { ...config, output: dir };
}

export async function train(rawConfig: TrainConfig, opts: TrainOptions = {}): Promise<{ summary: TrainSummary; outputDir: string }> {
  const config = checkConfig(rawConfig);
  if (config.stacked || config.selfTaught) {
    if (opts.resume) throw new SpecError(`--resume continues single-network runs; a ${config.stacked ? 'stacked' : 'self-taught'} pipeline has no checkpoints (run it again)`);
    const { runPipeline } = await import('./pipeline.js');
    return runPipeline(config, opts);
  }
  const log = opts.log ?? (() => {});
  const outputDir = resolve(config.output ?? join('runs', config.name!));
  const network = config.network!;
  const optimizer = config.optimizer!;
  const net = resolveSpec(network);
  const resumed = opts.resume ? readCheckpoint(outputDir) : null;

  log(`loading data (${config.data.source})…`);
  const data = await loadTrainingData(config.data, config.seed!, config.whiten);
  const X = data.train.X;
  const Y = targets(config, data);
  const m = X.rows;
  log(`${m} training examples × ${X.cols} features${data.test ? `, ${data.test.X.rows} test examples` : ''}`);
  const model: Model = await createModel(net, {
    backend: config.backend, init: config.init, seed: config.seed, device: opts.device,
    parameters: resumed?.theta, maxBindingBytes: config.maxBindingBytes,
  });
  // Written once the model exists: a run refused for its size or data leaves no folder behind.
  writeJsonAtomic(join(outputDir, 'config.json'), { ...config, output: undefined });
  const gpuModel = model.backend === 'webgpu' ? (model as GpuModel) : null;
  // Denoising: first-order methods see fresh noise at every evaluation (and a
  // resumed run continues the stream); L-BFGS and CG need a deterministic
  // objective for their line searches, so they keep one corruption of the data.
  const noise = usesLineSearch(optimizer.method) ? ('fixed' as const) : ('fresh' as const);
  const presentationsBefore = resumed?.progress.evaluations ?? 0;
  let objective: Objective<unknown>;
  let disposeObjective = (): void => {};
  // CPU backend: an evaluation over more than one chunk of examples (cpu-chunks.ts) stops between
  // chunks on Ctrl-C; the run then goes back to a snapshot of the last completed iteration.
  const midEvaluationStop = !gpuModel && examplesPerEvaluation(optimizer, m) > chunkRows(net);
  let snapshot: Snapshot | null = null;
  if (gpuModel) {
    const { GpuObjective } = await import('../gpu/objective.js');
    const o = new GpuObjective(gpuModel, X, Y, { rhoHatDecay: config.rhoHatDecay, presentationsBefore, noise, maxDataBytes: config.maxDataBytes });
    objective = o as Objective<unknown>;
    disposeObjective = () => o.dispose();
  } else {
    objective = cpuNetworkObjective(net, await model.readParameters(), X, Y, { rhoHatDecay: config.rhoHatDecay, presentationsBefore, noise, stop: () => !!opts.signal?.aborted && snapshot !== null }) as Objective<unknown>;
  }

  const total = plannedIterations(optimizer, m);
  const perEval = examplesPerEvaluation(optimizer, m);
  const curve = resumed?.progress.curve ?? [];
  const secondsBefore = resumed?.progress.seconds ?? 0;
  const t0 = performance.now();
  const elapsed = (): number => secondsBefore + (performance.now() - t0) / 1000;
  const firstOrder = !usesLineSearch(optimizer.method);
  const costEvery = config.costEvery ?? (firstOrder ? Math.max(1, Math.round((total ?? 100) / 50)) : 1);
  let interrupted = false;
  const evalsAtStart = resumed?.progress.evaluations ?? 0;
  const iterAtStart = resumed?.progress.iteration ?? 0;

  const saveCheckpoint = (state: OptimizerState, theta: Float64Array, iteration: number, evaluations: number): void => {
    writeCheckpoint(outputDir, encodeModel(net, theta, data.preprocessing, 'F64'), state, { curve, seconds: elapsed(), iteration, evaluations });
    log(`checkpoint at iteration ${iteration} → ${join(outputDir, 'checkpoint')}`);
  };
  const checkpoint = async (info: IterationInfo): Promise<void> => {
    if (!info.checkpoint) return;
    const state = await info.checkpoint();
    saveCheckpoint(state, await objective.ops.read(objective.theta), info.iteration, info.evaluations);
  };

  // First-order methods never wait on a cost reading (issue 12): up to
  // COSTS_IN_FLIGHT readings travel back while the next steps run; each lands
  // in the curve (and the progress line) when it arrives.
  let landed: number | null = null;
  const options = {
    ...optimizer,
    ...(firstOrder
      ? {
          costEvery,
          costsInFlight: COSTS_IN_FLIGHT,
          onCost: (r: CostReading): void => {
            curve.push({ x: r.iteration, y: r.cost });
            landed = r.cost;
          },
        }
      : {}),
    ...(resumed ? { resume: resumed.state } : {}),
    onIteration: async (info: IterationInfo): Promise<boolean> => {
      if (info.cost !== null) curve.push({ x: info.iteration, y: info.cost });
      const seconds = elapsed();
      const doneIters = info.iteration - iterAtStart;
      const sps = ((info.evaluations - evalsAtStart) * perEval) / Math.max(1e-9, (performance.now() - t0) / 1000);
      opts.onProgress?.({
        iteration: info.iteration, total, epoch: info.epoch, cost: info.cost ?? landed, report: objective.lastReport ?? null, samplesPerSecond: sps, seconds,
        etaSeconds: total && doneIters > 0 ? ((total - info.iteration) * (performance.now() - t0)) / 1000 / doneIters : null,
      });
      if (opts.signal?.aborted) {
        interrupted = true;
        await checkpoint(info);
        return false;
      }
      // Every N iterations, and at the last planned one (also with checkpointEvery 0).
      const due = (config.checkpointEvery && info.iteration % config.checkpointEvery === 0) || info.iteration === total;
      if (midEvaluationStop && info.checkpoint) {
        const s: Snapshot = { state: await info.checkpoint(), theta: (await objective.ops.read(objective.theta)) as Float64Array, iteration: info.iteration, evaluations: info.evaluations, cost: info.cost, report: objective.lastReport ?? null };
        snapshot = s;
        if (due) saveCheckpoint(s.state, s.theta, s.iteration, s.evaluations);
      } else if (due) await checkpoint(info);
      return true;
    },
  } as OptimizerOptions;

  let result: OptimizeResult;
  try {
    result = await optimize(objective, options);
  } catch (e) {
    // CPU backend, Ctrl-C inside a long evaluation: back to the last completed iteration.
    if (!(e instanceof EvaluationInterrupted) || !snapshot) throw e;
    const s = snapshot as Snapshot;
    saveCheckpoint(s.state, s.theta, s.iteration, s.evaluations);
    (objective.theta as Float64Array).set(s.theta);
    interrupted = true;
    result = { iterations: s.iteration, evaluations: s.evaluations, cost: s.cost, reason: 'callback' };
  } finally {
    // θ lives in the objective on the CPU backend; hand it to the model for the evaluation below.
    if (!gpuModel) model.setParameters(await objective.ops.read(objective.theta));
    disposeObjective();
  }
  const trainSeconds = elapsed();

  const theta = await model.readParameters();
  // Interrupted on the CPU backend: no full-data evaluations after the checkpoint (they take as long
  // as a training iteration); the summary gives the last cost computed and omits test figures.
  const quick = interrupted && !gpuModel;
  if (quick) log('interrupted: skipping the full-data evaluations (final cost is the last one computed)');
  const final: Pick<CostReport, 'cost' | 'parts' | 'rhoHat'> = quick ? lastKnownCost(snapshot, objective.lastReport ?? null, curve) : await model.cost(X, Y, { gradient: false });
  const hidden = final.rhoHat[0];
  const summary: TrainSummary = {
    finalCost: final.cost,
    costParts: final.parts,
    iterations: result.iterations,
    evaluations: result.evaluations,
    stopReason: interrupted ? 'interrupted' : result.reason,
    seconds: trainSeconds,
    samplesPerSecond: ((result.evaluations - evalsAtStart) * perEval) / Math.max(1e-9, (performance.now() - t0) / 1000),
    examples: m,
    rhoHatMean: hidden ? hidden.reduce((a, b) => a + b, 0) / hidden.length : null,
    rhoHatMax: hidden ? Math.max(...hidden) : null,
    adapter: gpuModel ? adapterLabel(gpuModel.adapter) : null,
    backend: model.backend,
    config: { ...config, output: undefined },
    date: new Date().toISOString(),
  };
  if (!quick && net.activations[net.activations.length - 1]!.name === 'softmax' && data.train.labels) {
    summary.trainAccuracy = accuracy(await model.predict(X), data.train.labels);
    if (data.test?.labels) {
      const pred = await model.predict(data.test.X);
      summary.testAccuracy = accuracy(pred, data.test.labels);
      summary.confusionMatrix = confusionMatrix(pred, data.test.labels, data.classes!);
    }
  }

  // Pictures and files.
  writeFileAtomic(join(outputDir, 'model.safetensors'), encodeModel(net, theta, data.preprocessing));
  writeJsonAtomic(join(outputDir, 'model.json'), modelJson(net, data.preprocessing));
  if (data.image) {
    writeFileAtomic(join(outputDir, 'features.png'), featuresPng(net, theta, data.image.width));
    if (net.autoencoder && !quick) {
      const sample = firstRows(data.test?.X ?? X, 20);
      const rec = await model.predict(sample);
      writeFileAtomic(join(outputDir, 'reconstructions.png'), encodePng(upscale(reconstructionGrid(sample, rec, data.image.width, data.image.height), 2)));
      if (data.test) {
        summary.testReconstructionError = halfSquaredError(await model.predict(data.test.X), data.test.X);
        if (config.denoisingTest) {
          // Corrupted test digits in, clean digits expected (seed 004's denoising criterion).
          const noisy = corruptMatrix(data.test.X, config.denoisingTest, config.denoisingTest.seed ?? 12345);
          const corrupted = { rows: data.test.X.rows, cols: data.test.X.cols, data: noisy };
          summary.testCorruptedReconstructionError = halfSquaredError(await model.predict(corrupted), data.test.X);
          const n = Math.min(20, corrupted.rows);
          const few = { rows: n, cols: corrupted.cols, data: noisy.subarray(0, n * corrupted.cols) };
          writeFileAtomic(join(outputDir, 'denoising.png'), encodePng(upscale(reconstructionGrid(few, await model.predict(few), data.image.width, data.image.height), 2)));
        }
      }
    }
  }
  if (net.vae) {
    // The VAE's numbers (β = 1 bound and importance-weighted NLL) and pictures.
    if (data.test) Object.assign(summary, await vaeTestNumbers(model, data.test.X, config.vaeEval));
    if (data.image) await writeVaePictures(model, net, data.image, outputDir, data.test ? { X: data.test.X, labels: data.test.labels } : { X, labels: data.train.labels });
  }
  writeFileAtomic(join(outputDir, 'loss.svg'), lossCurveSvg(curve, { title: `${config.name}: cost`, xLabel: 'iteration', yLabel: firstOrder ? 'batch cost J' : 'cost J', logY: true }));
  writeJsonAtomic(join(outputDir, 'summary.json'), summary);
  model.dispose();
  return { summary, outputDir };
}
