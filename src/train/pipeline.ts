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

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createModel, sharedDevice } from '../model.js';
import type { Dataset, Model } from '../model-contract.js';
import { paramLayout } from '../params.js';
import { resolveSpec, SpecError, type Network, type NetworkSpec } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { filterClasses, oneHot, type LabeledSet } from '../data/labels.js';
import { accuracy, confusionMatrix } from '../metrics.js';
import { decodeModel, encodeModel, modelJson } from '../io/model-file.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { lossCurveSvg } from '../viz/curve.js';
import { usesLineSearch, type OptimizerOptions } from '../optim/optimize.js';
import { stageSpec, type AutoencoderStage, type ClassifierStage, type TrainConfig } from './config.js';
import { loadTrainingData, type TrainingData } from './data.js';
import { findCheckpoint, runStage } from './loop.js';
import { featuresPng, type StageSummary, type TrainOptions, type TrainSummary } from './stage.js';

/** Stage inputs: raw examples (a Matrix), or a data set another stage's model made (its features). */
type StageInput = Matrix | Dataset;

function isMatrix(x: StageInput): x is Matrix {
  return (x as Matrix).data !== undefined;
}

interface Context {
  config: TrainConfig;
  opts: TrainOptions;
  outputDir: string;
  data: TrainingData;
  log: (line: string) => void;
  /** The device every model of the pipeline uses (WebGPU backend). */
  device?: GPUDevice;
  gpuAdapter: string | null;
  seedOffset: number;
  stages: StageSummary[];
  t0: number;
}

/** Thrown by a stage stopped by the signal, after its checkpoint was written; runPipeline turns it into the run's summary. */
class Interrupted extends Error {
  constructor(readonly stage: StageSummary) {
    super(`interrupted during stage ${stage.name}`);
  }
}

async function newModel(ctx: Context, spec: NetworkSpec | Network, init: ClassifierStage['init'], parameters?: Float64Array): Promise<Model> {
  const seed = ctx.config.seed! + ctx.seedOffset++;
  const model = await createModel(spec, { backend: ctx.config.backend, init: init ?? ctx.config.init, seed, device: ctx.device, parameters });
  ctx.gpuAdapter ??= model.deviceLabel;
  return model;
}

/** What a stage writes into stages/<name>/ besides loss.svg: the preprocessing in its model file, features.png (first layers on images). */
interface StageFiles {
  preprocessing?: boolean;
  features?: boolean;
}

/**
 * Trains `model` on the data set `ds` (targets inside it) with `optimizer`
 * through the stage loop (loop.ts), with its checkpoint in stages/<name>/;
 * writes stages/<name>/loss.svg, model.safetensors, resume.safetensors (θ in
 * float64) and stage.json (the stage's summary: written last, it marks the
 * stage complete). Resuming, a complete
 * stage is loaded from its folder instead of trained again, and the stage
 * that was running continues from its checkpoint.
 */
async function trainStage(ctx: Context, name: string, model: Model, ds: Dataset, optimizer: OptimizerOptions, rhoHatDecay: number | undefined, files: StageFiles = {}): Promise<StageSummary> {
  const dir = join(ctx.outputDir, 'stages', name);
  const done = ctx.opts.resume ? completedStage(dir) : null;
  if (done) {
    model.setParameters(done.theta);
    ctx.log(`${name}: complete in ${dir}, loaded`);
    ctx.stages.push(done.summary);
    return done.summary;
  }
  const resume = ctx.opts.resume ? findCheckpoint(dir) : null;
  ctx.log(`${name}: ${JSON.stringify(model.network.layers)} on ${ds.rows} examples (${ds.location === 'gpu' ? 'resident on the GPU' : ds.location === 'host' ? 'streamed from host memory' : 'matrices on the CPU'}), ${optimizer.method}${resume ? `, resumed at iteration ${resume.progress.iteration}` : ''}`);
  const r = await runStage({
    model, data: ds, optimizer, rhoHatDecay, costEvery: ctx.config.costEvery, dir, checkpointEvery: ctx.config.checkpointEvery,
    preprocessing: files.preprocessing ? ctx.data.preprocessing : null, resume, opts: ctx.opts, stage: name, clock: () => (performance.now() - ctx.t0) / 1000,
  });
  const summary: StageSummary = {
    name,
    layers: [...model.network.layers],
    finalCost: r.cost,
    costParts: r.parts,
    iterations: r.iterations,
    evaluations: r.evaluations,
    stopReason: r.reason,
    seconds: r.seconds,
    examples: ds.rows,
    samplesPerSecond: r.samplesPerSecond,
    rhoHatMean: r.rhoHatMean,
    input: ds.location,
  };
  if (r.interrupted) throw new Interrupted(summary);
  const firstOrder = !usesLineSearch(optimizer.method);
  writeFileAtomic(join(dir, 'loss.svg'), lossCurveSvg(r.curve, { title: `${ctx.config.name} ${name}: cost`, xLabel: 'iteration', yLabel: firstOrder ? 'batch cost J' : 'cost J', logY: true }));
  const theta = await model.readParameters();
  writeFileAtomic(join(dir, 'model.safetensors'), encodeModel(model.network, theta, files.preprocessing ? ctx.data.preprocessing : null));
  // θ in float64 for --resume: the next stages continue exactly as if the run had never stopped.
  writeFileAtomic(join(dir, 'resume.safetensors'), encodeModel(model.network, theta, null, 'F64'));
  if (files.features && ctx.data.image) writeFileAtomic(join(dir, 'features.png'), featurePng(ctx, model.network, theta));
  writeJsonAtomic(join(dir, 'stage.json'), summary);
  rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
  ctx.stages.push(summary);
  ctx.log(`${name}: J = ${r.cost.toPrecision(5)} after ${r.iterations} iterations (${r.reason}), ${r.seconds.toFixed(1)} s`);
  return summary;
}

/** A stage folder's θ and summary when the stage completed (stage.json written), else null. */
function completedStage(dir: string): { theta: Float64Array; summary: StageSummary } | null {
  const stageJson = join(dir, 'stage.json');
  const modelFile = join(dir, 'resume.safetensors');
  if (!existsSync(stageJson) || !existsSync(modelFile)) return null;
  let summary: StageSummary;
  try {
    summary = JSON.parse(readFileSync(stageJson, 'utf8')) as StageSummary;
  } catch (e) {
    throw new SpecError(`${stageJson}: ${(e as Error).message}`);
  }
  return { theta: decodeModel(new Uint8Array(readFileSync(modelFile)), modelFile).theta, summary };
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

/** Frees a data set that `user` trained on and `owner` made (the same model or not). */
function releaseDataset(ds: Dataset, user: Model, owner: Model): void {
  user.release(ds);
  if (owner !== user) owner.release(ds);
}

/**
 * Trains one autoencoder stage on `input` (raw examples, or the previous
 * stage's features made by `owner`) and returns its hidden features as a data
 * set of its model (on the GPU for the WebGPU backend), with `targets` as Y.
 */
async function autoencoderStage(
  ctx: Context, name: string, key: string, s: AutoencoderStage, input: StageInput, owner: Model | null, targets: Matrix | undefined, first: boolean,
): Promise<{ model: Model; features: Dataset; theta: Float64Array; net: Network }> {
  const net = stageNetwork(s, input.cols, key);
  const model = await newModel(ctx, net, s.init);
  const ds = isMatrix(input) ? model.dataset(input) : input;
  await trainStage(ctx, name, model, ds, s.optimizer, s.rhoHatDecay ?? ctx.config.rhoHatDecay, { preprocessing: first, features: first });
  const theta = await model.readParameters();
  const features = await model.encodeDataset(ds, 2, targets ? { targets } : {});
  releaseDataset(ds, model, isMatrix(input) ? model : owner!);
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

  // Softmax on the last features (a data set of the last autoencoder's model, with the one-hot labels as Y).
  const features = input as Dataset;
  const hLast = sizes[sizes.length - 1]!;
  const softNet = resolveSpec({ layers: [hLast, train.classes], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: s.softmax.lambda ?? 0 });
  const softmax = await newModel(ctx, softNet, s.softmax.init);
  const softStage = await trainStage(ctx, 'softmax', softmax, features, s.softmax.optimizer, undefined);
  const softTheta = await softmax.readParameters();
  releaseDataset(features, softmax, owner!);
  owner?.dispose();
  softmax.dispose();
  const softLayer = encoderOf(softNet, softTheta);

  // The assembled network [n1, h1, …, classes] with the pretrained θ.
  const ft = s.fineTune;
  const deepNet = resolveSpec(classifierSpec([...sizes, train.classes], encoders.map((e) => e.activation), ft?.lambda ?? s.softmax.lambda));
  const theta0 = assemble(deepNet, [...encoders, softLayer]);
  const deep = await newModel(ctx, deepNet, undefined, theta0);
  // The softmax's own training accuracy: the assembled network before fine-tuning computes exactly it.
  softStage.trainAccuracy ??= accuracy(await deep.predict(train.X), train.labels);
  let before: number | undefined;
  if (test) {
    before = accuracy(await deep.predict(test.X), test.labels);
    ctx.log(`before fine-tuning: test accuracy ${(100 * before).toFixed(2)}%`);
  }
  let lastStage = 'softmax';
  let finalStage = softStage;
  if (ft) {
    const ds = deep.dataset(train.X, Yhot);
    try {
      finalStage = await trainStage(ctx, 'fine-tune', deep, ds, ft.optimizer, undefined, { preprocessing: true });
    } finally {
      deep.release(ds);
    }
    lastStage = 'fine-tune';
  }
  const theta = await deep.readParameters();
  const summary = baseSummary(ctx, finalStage);
  await scoreClassifier(deep, train, test, summary, finalStage);
  if (test) summary.testAccuracyBeforeFineTuning = before;
  deep.dispose();
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
  const unl = ae.dataset(unlabeled.X);
  try {
    await trainStage(ctx, 'autoencoder', ae, unl, s.autoencoder.optimizer, s.autoencoder.rhoHatDecay ?? ctx.config.rhoHatDecay, { preprocessing: true, features: true });
  } finally {
    ae.release(unl);
  }
  const aeTheta = await ae.readParameters();

  // Its features of the labeled examples (on the GPU: encoded there, with the one-hot labels as Y).
  const lab = ae.dataset(train.X);
  const features = await ae.encodeDataset(lab, 2, { targets: Yhot });
  ae.release(lab);
  const softNet = resolveSpec({ layers: [aeNet.layers[1]!, train.classes], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: s.softmax.lambda ?? 0 });
  const softmax = await newModel(ctx, softNet, s.softmax.init);
  const softStage = await trainStage(ctx, 'softmax', softmax, features, s.softmax.optimizer, undefined);
  const softTheta = await softmax.readParameters();
  releaseDataset(features, softmax, ae);
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
    const X = raw.dataset(train.X, Yhot);
    let rawStage: StageSummary;
    try {
      rawStage = await trainStage(ctx, 'raw-pixels', raw, X, s.softmax.optimizer, undefined);
    } finally {
      raw.release(X);
    }
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
  const shared = await sharedDevice(config.backend!, opts.device);
  ctx.device = shared.device;
  try {
    const summary = config.stacked ? await stacked(ctx) : await selfTaught(ctx);
    return { summary, outputDir };
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    // Ctrl-C: the stage's checkpoint is written; `wgnn train --resume` continues from there.
    ctx.stages.push(e.stage);
    const summary = baseSummary(ctx, e.stage);
    summary.stopReason = 'interrupted';
    summary.stages = ctx.stages;
    summary.seconds = (performance.now() - ctx.t0) / 1000;
    return { summary, outputDir };
  } finally {
    shared.release();
  }
}
