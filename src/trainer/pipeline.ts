// Pipelines of several networks from one configuration (Node only):
//
// - `stacked`: greedy layer-wise pretraining of autoencoders (each on the
//   previous one's hidden features), a softmax layer on the last features, then
//   fine-tuning of the assembled network [n1, h1, …, hk, classes] by
//   backpropagation through all of it (UFLDL "Stacked autoencoders",
//   "Fine-tuning stacked AEs").
// - `selfTaught`: an autoencoder on the unlabeled classes' examples, a softmax
//   on its features of the labeled classes (labels renumbered 0 … k−1), and,
//   for comparison, a softmax on the raw inputs of the same split (UFLDL
//   "Self-taught learning").
//
// On the WebGPU backend every model of a pipeline shares one device and the
// features go from stage to stage as GPU data sets (GpuModel.encodeDataset):
// nothing is read back between stages but θ. On the CPU backend the same
// pipeline passes float64 matrices (Model.encode).
//
// Output folder: model.safetensors / model.json (the final classifier),
// features.png (first autoencoder), loss.svg (last stage), summary.json,
// config.json, and stages/<name>/ with each stage's model.safetensors and
// loss.svg (features.png for stages on image inputs).

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createModel } from '../model.js';
import type { Model } from '../model-contract.js';
import { paramLayout } from '../params.js';
import { resolveSpec, SpecError, type Network, type NetworkSpec } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { filterClasses, oneHot, type LabeledSet } from '../data/labels.js';
import { accuracy, confusionMatrix } from '../metrics.js';
import { encodeModel, modelJson } from '../io/model-file.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { lossCurveSvg } from '../viz/curve.js';
import { optimize, usesLineSearch, type OptimizerOptions } from '../train/optimize.js';
import { cpuNetworkObjective } from '../train/cpu-network.js';
import type { IterationInfo, Objective, ObjectiveReport, OptimizeResult } from '../train/types.js';
import type { Dispatch } from '../gpu/kernels.js';
import { acquireDevice, adapterLabel } from '../gpu/device.js';
import type { GpuModel } from '../gpu/model.js';
import type { GpuDataset } from '../gpu/dataset.js';
import { stageSpec, type AutoencoderStage, type ClassifierStage, type TrainConfig } from './config.js';
import { loadTrainingData, type TrainingData } from './data.js';
import { examplesPerEvaluation, featuresPng, plannedIterations, type StageSummary, type TrainOptions, type TrainSummary } from './stage.js';

/** Stage inputs: a Matrix (CPU backend, or raw inputs), or a data set already on the GPU. */
type StageInput = Matrix | GpuDataset;

function isMatrix(x: StageInput): x is Matrix {
  return (x as Matrix).data !== undefined;
}

interface Context {
  config: TrainConfig;
  opts: TrainOptions;
  outputDir: string;
  data: TrainingData;
  log: (line: string) => void;
  /** The device every model of the pipeline uses (set by the first GPU model). */
  device?: GPUDevice;
  gpuAdapter: string | null;
  seedOffset: number;
  stages: StageSummary[];
  t0: number;
}

async function newModel(ctx: Context, spec: NetworkSpec | Network, init: ClassifierStage['init'], parameters?: Float64Array): Promise<Model> {
  const seed = ctx.config.seed! + ctx.seedOffset++;
  const model = await createModel(spec, { backend: ctx.config.backend, init: init ?? ctx.config.init, seed, device: ctx.device, parameters });
  if (model.backend === 'webgpu') {
    const g = model as GpuModel;
    ctx.gpuAdapter ??= adapterLabel(g.adapter);
  }
  return model;
}

/**
 * Trains `model` on `input` (targets: one-hot Y for a Matrix input of a
 * classifier; a GPU data set carries its own) with `optimizer`; writes
 * stages/<name>/loss.svg and returns the stage's summary.
 */
async function trainStage(ctx: Context, name: string, model: Model, input: StageInput, Y: Matrix | undefined, optimizer: OptimizerOptions, rhoHatDecay?: number): Promise<StageSummary> {
  const m = input.rows;
  ctx.log(`${name}: ${JSON.stringify(model.network.layers)} on ${m} examples (${isMatrix(input) ? 'matrices on the CPU' : 'resident on the GPU'}), ${optimizer.method}`);
  let objective: Objective<unknown>;
  let dispose = (): void => {};
  const firstOrder = !usesLineSearch(optimizer.method);
  const noise = firstOrder ? ('fresh' as const) : ('fixed' as const); // denoising stages: see run.ts
  if (model.backend === 'webgpu') {
    const { GpuObjective } = await import('../gpu/objective.js');
    const o = new GpuObjective(model as GpuModel, input, isMatrix(input) ? Y : undefined, { rhoHatDecay, noise });
    objective = o as Objective<unknown>;
    dispose = () => o.dispose();
  } else {
    if (!isMatrix(input)) throw new Error('the CPU backend takes matrices');
    objective = cpuNetworkObjective(model.network, await model.readParameters(), input, Y, { rhoHatDecay, noise }) as Objective<unknown>;
  }
  const total = plannedIterations(optimizer, m);
  const perEval = examplesPerEvaluation(optimizer, m);
  const costEvery = ctx.config.costEvery ?? (firstOrder ? Math.max(1, Math.round((total ?? 100) / 50)) : 1);
  const curve: { x: number; y: number }[] = [];
  const t0 = performance.now();
  let interrupted = false;
  const options = {
    ...optimizer,
    ...(firstOrder ? { costEvery } : {}),
    onIteration: (info: IterationInfo): boolean => {
      if (info.cost !== null) curve.push({ x: info.iteration, y: info.cost });
      const s = (performance.now() - t0) / 1000;
      ctx.opts.onProgress?.({
        stage: name, iteration: info.iteration, total, epoch: info.epoch, cost: info.cost, report: objective.lastReport ?? null,
        samplesPerSecond: (info.evaluations * perEval) / Math.max(1e-9, s), seconds: (performance.now() - ctx.t0) / 1000,
        etaSeconds: total && info.iteration > 0 ? ((total - info.iteration) * s) / info.iteration : null,
      });
      if (ctx.opts.signal?.aborted) {
        interrupted = true;
        return false;
      }
      return true;
    },
  } as OptimizerOptions;
  let result: OptimizeResult;
  let finalCost: number;
  let report: ObjectiveReport | null;
  try {
    result = await optimize(objective, options);
    // The full-data cost at the final θ, its parts and ρ̂ (a forward pass only: no gradient).
    if (model.backend === 'webgpu') {
      const g = model as GpuModel;
      const pending = await (objective.ops as unknown as { drain(): Promise<Dispatch[]> }).drain();
      await g.evaluate(input as GpuDataset, { cost: true, gradient: false, before: pending });
      const r = await g.readCost();
      finalCost = r.cost;
      report = { parts: r.parts, rhoHatMean: r.rhoHatMean };
    } else {
      model.setParameters(await objective.ops.read(objective.theta));
      const r = await model.cost(input as Matrix, model.network.autoencoder ? undefined : Y, { gradient: false });
      const h = r.rhoHat[0];
      finalCost = r.cost;
      report = { parts: r.parts, rhoHatMean: h ? h.reduce((a, b) => a + b, 0) / h.length : null };
    }
  } finally {
    dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (interrupted) throw new SpecError(`interrupted during stage ${name}: pipelines keep no checkpoints, so run the configuration again`);
  const dir = join(ctx.outputDir, 'stages', name);
  writeFileAtomic(join(dir, 'loss.svg'), lossCurveSvg(curve, { title: `${ctx.config.name} ${name}: cost`, xLabel: 'iteration', yLabel: firstOrder ? 'batch cost J' : 'cost J', logY: true }));
  const summary: StageSummary = {
    name,
    layers: [...model.network.layers],
    finalCost,
    costParts: report?.parts ?? { data: finalCost, weightDecay: 0, sparsity: 0, l1: 0, contractive: 0 },
    iterations: result.iterations,
    evaluations: result.evaluations,
    stopReason: result.reason,
    seconds,
    examples: m,
    samplesPerSecond: (result.evaluations * perEval) / Math.max(1e-9, seconds),
    rhoHatMean: report?.rhoHatMean ?? null,
    input: isMatrix(input) ? 'cpu' : 'gpu',
  };
  ctx.stages.push(summary);
  ctx.log(`${name}: J = ${finalCost.toPrecision(5)} after ${result.iterations} iterations (${result.reason}), ${seconds.toFixed(1)} s`);
  return summary;
}

/** Writes stages/<name>/model.safetensors (and features.png for a first layer on images). */
async function saveStage(ctx: Context, name: string, model: Model, pictures: boolean): Promise<Float64Array> {
  const theta = await model.readParameters();
  const dir = join(ctx.outputDir, 'stages', name);
  writeFileAtomic(join(dir, 'model.safetensors'), encodeModel(model.network, theta, pictures ? ctx.data.preprocessing : null));
  if (pictures && ctx.data.image) writeFileAtomic(join(dir, 'features.png'), featurePng(ctx, model.network, theta));
  return theta;
}

function featurePng(ctx: Context, net: Network, theta: Float64Array): Uint8Array {
  return featuresPng(net, theta, ctx.data.image!.width);
}

/** W(1), b(1) and f of a one-layer-deep piece: an autoencoder's encoder, or a softmax layer. */
function encoderOf(net: Network, theta: Float64Array): { W: Float64Array; b: Float64Array; activation: Network['activations'][number] } {
  const s = paramLayout(net).slots[0]!;
  return { W: theta.slice(s.w, s.w + s.nOut * s.nIn), b: theta.slice(s.b, s.b + s.nOut), activation: net.activations[0]! };
}

/** Train and test accuracy of a classifier, and its test confusion matrix, into the summary and the stage that made it. */
async function scoreClassifier(model: Model, train: { X: Matrix; labels: Uint8Array; classes: number }, test: { X: Matrix; labels: Uint8Array } | null, summary: TrainSummary, stage: StageSummary): Promise<void> {
  summary.trainAccuracy = accuracy(await model.predict(train.X), train.labels);
  stage.trainAccuracy = summary.trainAccuracy;
  if (test) {
    const pred = await model.predict(test.X);
    summary.testAccuracy = accuracy(pred, test.labels);
    summary.confusionMatrix = confusionMatrix(pred, test.labels, train.classes);
  }
}

/** θ of [n1, h1, …, classes]: each encoder's W, b, then the softmax's. */
function assemble(net: Network, layers: { W: Float64Array; b: Float64Array }[]): Float64Array {
  const layout = paramLayout(net);
  const theta = new Float64Array(layout.size);
  layout.slots.forEach((s, k) => {
    const l = layers[k]!;
    if (l.W.length !== s.nOut * s.nIn || l.b.length !== s.nOut) throw new Error(`layer ${k + 1} does not fit the assembled network`);
    theta.set(l.W, s.w);
    theta.set(l.b, s.b);
  });
  return theta;
}

function classifierSpec(layers: number[], hidden: Network['activations'], lambda: number | undefined): NetworkSpec {
  return {
    layers,
    activation: [...hidden.map((a) => ({ ...a })), 'softmax'] as NetworkSpec['activation'],
    loss: 'softmax-cross-entropy',
    lambda: lambda ?? 0,
  };
}

function labeledSet(ctx: Context, which: 'train' | 'test'): LabeledSet {
  const ex = ctx.data[which];
  if (!ex?.labels || !ctx.data.classes) throw new SpecError(`data.source ${ctx.config.data.source} has no ${which} labels; a pipeline needs labeled ${which} examples`);
  return { X: ex.X, labels: ex.labels, classes: ctx.data.classes };
}

function stageNetwork(s: AutoencoderStage, nIn: number, key: string): Network {
  try {
    return resolveSpec(stageSpec(s, nIn));
  } catch (e) {
    throw new SpecError(`${key}.network: ${(e as Error).message}`);
  }
}

/** Frees a data set that `user` planned for and `owner` allocated (the same model or not). */
function releaseDataset(ds: GpuDataset, user: Model, owner: Model): void {
  (user as GpuModel).release(ds);
  if (owner !== user) (owner as GpuModel).release(ds);
}

/** Uploads raw inputs (GPU) or passes the matrix (CPU). */
function rawInput(model: Model, X: Matrix, Y?: Matrix): StageInput {
  return model.backend === 'webgpu' ? (model as GpuModel).upload(X, Y) : X;
}

/** Trains one autoencoder stage on `input` and returns its hidden features (on the GPU for the WebGPU backend). */
async function autoencoderStage(
  ctx: Context, name: string, key: string, s: AutoencoderStage, input: StageInput, owner: Model | null, targets: Matrix | undefined, pictures: boolean,
): Promise<{ model: Model; features: StageInput; theta: Float64Array; net: Network }> {
  const net = stageNetwork(s, input.cols, key);
  const model = await newModel(ctx, net, s.init);
  let own = input;
  let ownOwner = owner;
  if (isMatrix(input) && model.backend === 'webgpu') {
    own = rawInput(model, input);
    ownOwner = model;
  }
  await trainStage(ctx, name, model, own, undefined, s.optimizer, s.rhoHatDecay ?? ctx.config.rhoHatDecay);
  const theta = await saveStage(ctx, name, model, pictures);
  let features: StageInput;
  if (model.backend === 'webgpu') {
    features = await (model as GpuModel).encodeDataset(own as GpuDataset, 2, targets ? { targets } : {});
    if (ownOwner) releaseDataset(own as GpuDataset, model, ownOwner);
  } else {
    const h = await model.encode(own as Matrix, 2);
    features = { rows: h.rows, cols: h.cols, data: h.data };
  }
  return { model, features, theta, net };
}

function baseSummary(ctx: Context, final: StageSummary): TrainSummary {
  const seconds = ctx.stages.reduce((a, s) => a + s.seconds, 0);
  return {
    finalCost: final.finalCost,
    costParts: final.costParts,
    iterations: ctx.stages.reduce((a, s) => a + s.iterations, 0),
    evaluations: ctx.stages.reduce((a, s) => a + s.evaluations, 0),
    stopReason: final.stopReason,
    seconds,
    // Examples through the optimizers per second of training, over all stages.
    samplesPerSecond: ctx.stages.reduce((a, s) => a + s.samplesPerSecond * s.seconds, 0) / Math.max(1e-9, seconds),
    examples: ctx.data.train.X.rows,
    rhoHatMean: null,
    rhoHatMax: null,
    adapter: ctx.gpuAdapter,
    backend: ctx.config.backend!,
    config: { ...ctx.config, output: undefined },
    date: new Date().toISOString(),
  };
}

function writeFinal(ctx: Context, net: Network, theta: Float64Array, lastStage: string, summary: TrainSummary): void {
  writeFileAtomic(join(ctx.outputDir, 'model.safetensors'), encodeModel(net, theta, ctx.data.preprocessing));
  writeJsonAtomic(join(ctx.outputDir, 'model.json'), modelJson(net, ctx.data.preprocessing));
  writeFileAtomic(join(ctx.outputDir, 'loss.svg'), readStageFile(ctx, lastStage, 'loss.svg'));
  summary.stages = ctx.stages;
  summary.seconds = (performance.now() - ctx.t0) / 1000;
  writeJsonAtomic(join(ctx.outputDir, 'summary.json'), summary);
}

function readStageFile(ctx: Context, stage: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ctx.outputDir, 'stages', stage, file)));
}

async function stacked(ctx: Context): Promise<TrainSummary> {
  const s = ctx.config.stacked!;
  const train = labeledSet(ctx, 'train');
  const test = ctx.data.test?.labels ? labeledSet(ctx, 'test') : null;
  const Yhot = oneHot(train.labels, train.classes);
  const encoders: { W: Float64Array; b: Float64Array; activation: Network['activations'][number] }[] = [];
  const sizes = [train.X.cols];
  let input: StageInput = train.X;
  let owner: Model | null = null;
  for (let k = 0; k < s.autoencoders.length; k++) {
    const last = k === s.autoencoders.length - 1;
    const r = await autoencoderStage(ctx, `ae${k + 1}`, `stacked.autoencoders[${k}]`, s.autoencoders[k]!, input, owner, last ? Yhot : undefined, k === 0);
    // The previous model allocated this stage's input: free it (and the model) now that the features are out.
    if (owner && owner !== r.model) owner.dispose();
    encoders.push(encoderOf(r.net, r.theta));
    sizes.push(r.net.layers[1]!);
    input = r.features;
    owner = r.model;
  }

  // Softmax on the last features (GPU: a data set with the one-hot labels as Y).
  const hLast = sizes[sizes.length - 1]!;
  const softNet = resolveSpec({ layers: [hLast, train.classes], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: s.softmax.lambda ?? 0 });
  const softmax = await newModel(ctx, softNet, s.softmax.init);
  const softStage = await trainStage(ctx, 'softmax', softmax, input, isMatrix(input) ? Yhot : undefined, s.softmax.optimizer);
  if (isMatrix(input)) softStage.trainAccuracy = accuracy(await softmax.predict(input), train.labels);
  const softTheta = await saveStage(ctx, 'softmax', softmax, false);
  if (!isMatrix(input)) releaseDataset(input, softmax, owner!);
  owner?.dispose();
  softmax.dispose();
  const softLayer = encoderOf(softNet, softTheta);

  // The assembled network [n1, h1, …, classes] with the pretrained θ.
  const ft = s.fineTune;
  const deepNet = resolveSpec(classifierSpec([...sizes, train.classes], encoders.map((e) => e.activation), ft?.lambda ?? s.softmax.lambda));
  const theta0 = assemble(deepNet, [...encoders, softLayer]);
  const deep = await newModel(ctx, deepNet, undefined, theta0);
  let before: number | undefined;
  if (test) {
    before = accuracy(await deep.predict(test.X), test.labels);
    ctx.log(`before fine-tuning: test accuracy ${(100 * before).toFixed(2)}%`);
  }
  let lastStage = 'softmax';
  let finalStage = softStage;
  if (ft) {
    const X = rawInput(deep, train.X, Yhot);
    finalStage = await trainStage(ctx, 'fine-tune', deep, X, Yhot, ft.optimizer);
    if (!isMatrix(X)) (deep as GpuModel).release(X);
    lastStage = 'fine-tune';
  }
  const theta = await deep.readParameters();
  const summary = baseSummary(ctx, finalStage);
  await scoreClassifier(deep, train, test, summary, finalStage);
  if (test) summary.testAccuracyBeforeFineTuning = before;
  deep.dispose();
  if (ft) writeFileAtomic(join(ctx.outputDir, 'stages', 'fine-tune', 'model.safetensors'), encodeModel(deepNet, theta, ctx.data.preprocessing));
  if (ctx.data.image) writeFileAtomic(join(ctx.outputDir, 'features.png'), featurePng(ctx, deepNet, theta));
  writeFinal(ctx, deepNet, theta, lastStage, summary);
  return summary;
}

/** The labeled classes' examples, renumbered 0 … k−1 (what a self-taught classifier is trained and tested on). */
export function selfTaughtSplit(set: LabeledSet, labeledClasses: number[]): LabeledSet {
  return filterClasses(set, labeledClasses, { relabel: true });
}

async function selfTaught(ctx: Context): Promise<TrainSummary> {
  const s = ctx.config.selfTaught!;
  const all = labeledSet(ctx, 'train');
  const allTest = ctx.data.test?.labels ? labeledSet(ctx, 'test') : null;
  for (const c of [...s.unlabeledClasses, ...s.labeledClasses]) {
    if (c >= all.classes) throw new SpecError(`selfTaught: class ${c} is not in the data (classes 0 … ${all.classes - 1})`);
  }
  const unlabeled = filterClasses(all, s.unlabeledClasses);
  const train = selfTaughtSplit(all, s.labeledClasses);
  const test = allTest ? selfTaughtSplit(allTest, s.labeledClasses) : null;
  ctx.log(`self-taught: ${unlabeled.X.rows} unlabeled examples (classes ${s.unlabeledClasses.join(', ')}), ${train.X.rows} labeled (classes ${s.labeledClasses.join(', ')} → 0 … ${train.classes - 1})${test ? `, ${test.X.rows} test` : ''}`);
  const Yhot = oneHot(train.labels, train.classes);

  // The autoencoder on the unlabeled examples only.
  const aeNet = stageNetwork(s.autoencoder, all.X.cols, 'selfTaught.autoencoder');
  const ae = await newModel(ctx, aeNet, s.autoencoder.init);
  const unl = rawInput(ae, unlabeled.X);
  await trainStage(ctx, 'autoencoder', ae, unl, undefined, s.autoencoder.optimizer, s.autoencoder.rhoHatDecay ?? ctx.config.rhoHatDecay);
  if (!isMatrix(unl)) (ae as GpuModel).release(unl);
  const aeTheta = await saveStage(ctx, 'autoencoder', ae, true);

  // Its features of the labeled examples (on the GPU: encoded there, with the one-hot labels as Y).
  let features: StageInput;
  if (ae.backend === 'webgpu') {
    const lab = (ae as GpuModel).upload(train.X);
    features = await (ae as GpuModel).encodeDataset(lab, 2, { targets: Yhot });
    (ae as GpuModel).release(lab);
  } else {
    features = await ae.encode(train.X, 2);
  }
  const softNet = resolveSpec({ layers: [aeNet.layers[1]!, train.classes], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: s.softmax.lambda ?? 0 });
  const softmax = await newModel(ctx, softNet, s.softmax.init);
  const softStage = await trainStage(ctx, 'softmax', softmax, features, isMatrix(features) ? Yhot : undefined, s.softmax.optimizer);
  const softTheta = await saveStage(ctx, 'softmax', softmax, false);
  if (!isMatrix(features)) releaseDataset(features, softmax, ae);
  softmax.dispose();
  ae.dispose();

  // The classifier on raw inputs: [n1, h, classes] = encoder + softmax.
  const enc = encoderOf(aeNet, aeTheta);
  const net = resolveSpec(classifierSpec([all.X.cols, aeNet.layers[1]!, train.classes], [enc.activation], s.softmax.lambda));
  const theta = assemble(net, [enc, encoderOf(softNet, softTheta)]);
  const model = await newModel(ctx, net, undefined, theta);
  const summary = baseSummary(ctx, softStage);
  await scoreClassifier(model, train, test, summary, softStage);
  model.dispose();

  if (s.compareRawPixels) {
    const rawNet = resolveSpec({ layers: [all.X.cols, train.classes], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: s.softmax.lambda ?? 0 });
    const raw = await newModel(ctx, rawNet, s.softmax.init);
    const X = rawInput(raw, train.X, Yhot);
    const rawStage = await trainStage(ctx, 'raw-pixels', raw, X, Yhot, s.softmax.optimizer);
    if (!isMatrix(X)) (raw as GpuModel).release(X);
    await saveStage(ctx, 'raw-pixels', raw, false);
    rawStage.trainAccuracy = accuracy(await raw.predict(train.X), train.labels);
    if (test) summary.rawPixelTestAccuracy = accuracy(await raw.predict(test.X), test.labels);
    raw.dispose();
  }
  if (ctx.data.image) writeFileAtomic(join(ctx.outputDir, 'features.png'), featurePng(ctx, aeNet, aeTheta));
  writeFinal(ctx, net, theta, 'softmax', summary);
  return summary;
}

/** Runs a `stacked` or `selfTaught` configuration (already checked) end to end. */
export async function runPipeline(config: TrainConfig, opts: TrainOptions): Promise<{ summary: TrainSummary; outputDir: string }> {
  const log = opts.log ?? (() => {});
  const outputDir = resolve(config.output ?? join('runs', config.name!));
  log(`loading data (${config.data.source})…`);
  const data = await loadTrainingData(config.data, config.seed!, config.whiten);
  log(`${data.train.X.rows} training examples × ${data.train.X.cols} features${data.test ? `, ${data.test.X.rows} test examples` : ''}`);
  writeJsonAtomic(join(outputDir, 'config.json'), { ...config, output: undefined });
  const ctx: Context = { config, opts, outputDir, data, log, gpuAdapter: null, seedOffset: 0, stages: [], t0: performance.now() };
  // Every model of the pipeline shares one device: the caller's, or one this run creates and destroys at the end
  // (a model that created its own device would destroy it with itself, under the next stage's features).
  const own = config.backend === 'webgpu' && !opts.device ? await acquireDevice() : null;
  ctx.device = opts.device ?? own?.device;
  try {
    const summary = config.stacked ? await stacked(ctx) : await selfTaught(ctx);
    return { summary, outputDir };
  } finally {
    own?.destroy();
  }
}
