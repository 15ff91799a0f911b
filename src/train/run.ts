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

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createModel } from '../model.js';
import { MINI_BATCH_METHODS, type CostReport, type Model } from '../model-contract.js';
import { resolveSpec, SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { oneHot } from '../data/labels.js';
import { corruptMatrix } from '../noise.js';
import { accuracy, confusionMatrix } from '../metrics.js';
import { encodeModel, modelJson } from '../io/model-file.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { reconstructionGrid, upscale } from '../viz/tiles.js';
import { lossCurveSvg } from '../viz/curve.js';
import { encodePng } from '../viz/png-node.js';
import { usesLineSearch } from '../optim/optimize.js';
import { checkConfig, type TrainConfig } from './config.js';
import { loadTrainingData, type TrainingData } from './data.js';
import { readCheckpoint, runStage, type StageResult } from './loop.js';
import { vaeTestNumbers, writeVaePictures } from './vae-run.js';
import { examplesPerEvaluation, featuresPng, plannedIterations, type OptimizationSummary, type Progress, type StageSummary, type TrainOptions, type TrainSummary } from './stage.js';

export { examplesPerEvaluation, featuresPng, plannedIterations, type OptimizationSummary, type Progress, type StageSummary, type TrainOptions, type TrainSummary };

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
  // Over maxDataBytes (WebGPU): the set stays in host memory and streams, by
  // mini-batches, or chunk by chunk in each full-batch evaluation (L-BFGS, CG, GD).
  const ds = model.dataset(X, Y, { maxDataBytes: config.maxDataBytes, dataPrecision: config.dataPrecision });
  if (ds.precision === 'f16') {
    const buffers = (ds as { chunks?: unknown[] }).chunks?.length ?? 0;
    log(`training set stored as f16 on the GPU in ${buffers} buffer${buffers === 1 ? '' : 's'} per matrix (float32 arithmetic)`);
  }
  if (ds.streamed) log(`training set ${ds.streamed.bytes} bytes as float32, over maxDataBytes ${ds.streamed.cap}: kept in host memory, streamed ${MINI_BATCH_METHODS.includes(optimizer.method) ? 'by mini-batches' : 'chunk by chunk in every evaluation'}`);
  // Written once the model and data set exist: a run refused for its size or data leaves no folder behind.
  writeJsonAtomic(join(outputDir, 'config.json'), { ...config, output: undefined });
  let result: StageResult;
  try {
    result = await runStage({
      model, data: ds, optimizer, rhoHatDecay: config.rhoHatDecay, costEvery: config.costEvery,
      dir: outputDir, checkpointEvery: config.checkpointEvery, preprocessing: data.preprocessing, resume: resumed, opts,
    });
  } finally {
    model.release(ds);
  }
  const firstOrder = !usesLineSearch(optimizer.method);
  const curve = result.curve;

  const theta = await model.readParameters();
  // Interrupted: no full-data evaluations after the checkpoint (on the CPU backend they take as long
  // as a training iteration); the summary gives the last cost computed and omits test figures.
  const quick = result.interrupted;
  if (quick) log('interrupted: skipping the full-data evaluations (final cost is the last one computed)');
  const final: Pick<CostReport, 'cost' | 'parts' | 'rhoHat'> = quick ? { cost: result.cost, parts: result.parts, rhoHat: [] } : await model.cost(X, Y, { gradient: false });
  const hidden = final.rhoHat[0];
  const summary: TrainSummary = {
    finalCost: final.cost,
    costParts: final.parts,
    iterations: result.iterations,
    evaluations: result.evaluations,
    stopReason: result.reason,
    seconds: result.seconds,
    samplesPerSecond: result.samplesPerSecond,
    examples: m,
    ...(ds.streamed ? { streamed: ds.streamed } : {}),
    rhoHatMean: hidden ? hidden.reduce((a, b) => a + b, 0) / hidden.length : null,
    rhoHatMax: hidden ? Math.max(...hidden) : null,
    adapter: model.deviceLabel,
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
  if (net.vae && !quick) {
    // The VAE's numbers (β = 1 bound and importance-weighted NLL) and pictures.
    if (data.test) Object.assign(summary, await vaeTestNumbers(model, data.test.X, config.vaeEval));
    if (data.image) await writeVaePictures(model, net, data.image, outputDir, data.test ? { X: data.test.X, labels: data.test.labels } : { X, labels: data.train.labels });
  }
  writeFileAtomic(join(outputDir, 'loss.svg'), lossCurveSvg(curve, { title: `${config.name}: cost`, xLabel: 'iteration', yLabel: firstOrder ? 'batch cost J' : 'cost J', logY: true }));
  writeJsonAtomic(join(outputDir, 'summary.json'), summary);
  model.dispose();
  return { summary, outputDir };
}
