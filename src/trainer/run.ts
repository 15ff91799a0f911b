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
import type { Model } from '../model-contract.js';
import { resolveSpec, SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { oneHot } from '../data/labels.js';
import { corruptMatrix } from '../noise.js';
import { accuracy, confusionMatrix } from '../metrics.js';
import { encodeModel, decodeModel, modelJson } from '../io/model-file.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { reconstructionGrid, upscale } from '../viz/tiles.js';
import { lossCurveSvg } from '../viz/curve.js';
import { encodePng } from '../viz/png-node.js';
import { optimize, usesLineSearch, type OptimizerOptions } from '../train/optimize.js';
import { cpuNetworkObjective } from '../train/cpu-network.js';
import { stateFromJSON, stateToJSON } from '../train/state.js';
import type { IterationInfo, Objective, OptimizeResult, OptimizerState } from '../train/types.js';
import { adapterLabel } from '../gpu/device.js';
import type { GpuModel } from '../gpu/model.js';
import { checkConfig, type TrainConfig } from './config.js';
import { loadTrainingData, type TrainingData } from './data.js';
import { vaeTestNumbers, writeVaePictures } from './vae-run.js';
import { examplesPerEvaluation, featuresPng, plannedIterations, type OptimizationSummary, type Progress, type StageSummary, type TrainOptions, type TrainSummary } from './stage.js';

export { examplesPerEvaluation, featuresPng, plannedIterations, type OptimizationSummary, type Progress, type StageSummary, type TrainOptions, type TrainSummary };

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
  writeFileAtomic(join(tmp, 'model.safetensors'), model);
  writeJsonAtomic(join(tmp, 'optimizer.json'), stateToJSON(state));
  writeJsonAtomic(join(tmp, 'progress.json'), progress);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

function readCheckpoint(dir: string): { theta: Float64Array; state: OptimizerState; progress: CheckpointProgress } {
  // A crash between the two renames of writeCheckpoint leaves only checkpoint.old.
  const complete = (d: string): boolean => ['model.safetensors', 'optimizer.json', 'progress.json'].every((f) => existsSync(join(d, f)));
  const cp = [join(dir, 'checkpoint'), join(dir, 'checkpoint.old')].find(complete);
  if (!cp) throw new SpecError(`no checkpoint in ${join(dir, 'checkpoint')} to resume from`);
  const saved = decodeModel(new Uint8Array(readFileSync(join(cp, 'model.safetensors'))), join(cp, 'model.safetensors'));
  const state = stateFromJSON(JSON.parse(readFileSync(join(cp, 'optimizer.json'), 'utf8')));
  const progress = JSON.parse(readFileSync(join(cp, 'progress.json'), 'utf8')) as CheckpointProgress;
  return { theta: saved.theta, state, progress };
}

/** Reads the configuration a run saved in its output folder (for --resume). */
export function readRunConfig(dir: string): TrainConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new SpecError(`${dir} holds no config.json: not an output folder of wgnn train`);
  const config = checkConfig(JSON.parse(readFileSync(path, 'utf8')));
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
  writeJsonAtomic(join(outputDir, 'config.json'), { ...config, output: undefined });

  const model: Model = await createModel(net, {
    backend: config.backend, init: config.init, seed: config.seed, device: opts.device,
    parameters: resumed?.theta,
  });
  const gpuModel = model.backend === 'webgpu' ? (model as GpuModel) : null;
  // Denoising: first-order methods see fresh noise at every evaluation (and a
  // resumed run continues the stream); L-BFGS and CG need a deterministic
  // objective for their line searches, so they keep one corruption of the data.
  const noise = usesLineSearch(optimizer.method) ? ('fixed' as const) : ('fresh' as const);
  const presentationsBefore = resumed?.progress.evaluations ?? 0;
  let objective: Objective<unknown>;
  let disposeObjective = (): void => {};
  if (gpuModel) {
    const { GpuObjective } = await import('../gpu/objective.js');
    const o = new GpuObjective(gpuModel, X, Y, { rhoHatDecay: config.rhoHatDecay, presentationsBefore, noise });
    objective = o as Objective<unknown>;
    disposeObjective = () => o.dispose();
  } else {
    objective = cpuNetworkObjective(net, await model.readParameters(), X, Y, { rhoHatDecay: config.rhoHatDecay, presentationsBefore, noise }) as Objective<unknown>;
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

  const checkpoint = async (info: IterationInfo): Promise<void> => {
    if (!info.checkpoint) return;
    const state = await info.checkpoint();
    const theta = await objective.ops.read(objective.theta);
    writeCheckpoint(outputDir, encodeModel(net, theta, data.preprocessing, 'F64'), state, { curve, seconds: elapsed(), iteration: info.iteration, evaluations: info.evaluations });
    log(`checkpoint at iteration ${info.iteration} → ${join(outputDir, 'checkpoint')}`);
  };

  const options = {
    ...optimizer,
    ...(firstOrder ? { costEvery } : {}),
    ...(resumed ? { resume: resumed.state } : {}),
    onIteration: async (info: IterationInfo): Promise<boolean> => {
      if (info.cost !== null) curve.push({ x: info.iteration, y: info.cost });
      const seconds = elapsed();
      const doneIters = info.iteration - iterAtStart;
      const sps = ((info.evaluations - evalsAtStart) * perEval) / Math.max(1e-9, (performance.now() - t0) / 1000);
      opts.onProgress?.({
        iteration: info.iteration, total, epoch: info.epoch, cost: info.cost, report: objective.lastReport ?? null, samplesPerSecond: sps, seconds,
        etaSeconds: total && doneIters > 0 ? ((total - info.iteration) * (performance.now() - t0)) / 1000 / doneIters : null,
      });
      if (opts.signal?.aborted) {
        interrupted = true;
        await checkpoint(info);
        return false;
      }
      if (config.checkpointEvery && info.iteration % config.checkpointEvery === 0) await checkpoint(info);
      return true;
    },
  } as OptimizerOptions;

  let result: OptimizeResult;
  try {
    result = await optimize(objective, options);
  } finally {
    // θ lives in the objective on the CPU backend; hand it to the model for the evaluation below.
    if (!gpuModel) model.setParameters(await objective.ops.read(objective.theta));
    disposeObjective();
  }
  const trainSeconds = elapsed();

  const theta = await model.readParameters();
  const final = await model.cost(X, Y, { gradient: false });
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
  if (net.activations[net.activations.length - 1]!.name === 'softmax' && data.train.labels) {
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
    if (net.autoencoder) {
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
