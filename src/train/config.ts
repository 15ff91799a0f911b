// The training configuration: what `wgnn train --config FILE` reads and what
// the command-line flags override. Validated up front with messages that name
// the offending key and value.

import { INITIALIZERS, type InitializerName } from '../params.js';
import { CORRUPTION_SHAPE, NETWORK_SHAPE, resolveCorruption, resolveSpec, SpecError, type CorruptionSpec, type NetworkSpec } from '../spec.js';
import { METHODS, usesLineSearch, type OptimizerOptions } from '../optim/optimize.js';
import { OPTIMIZER_SHAPE } from '../optim/options-shape.js';
import { checkShape, type ObjectShape, type Shape } from '../schema.js';
import { checkParameterCount } from '../limits.js';
import { checkMaxDataBytes, type BackendName } from '../model-contract.js';
import { checkDataPrecision, type DataPrecision } from '../f16.js';
import { checkVaeEvalConfig, type VaeEvalConfig } from './vae-run.js';

/** Where the examples come from. */
export type DataConfig =
  | { source: 'mnist'; testFraction?: number; limit?: number; classes?: number[] }
  | { source: 'fashion-mnist'; limit?: number; classes?: number[] }
  | { source: 'idx'; images: string; labels?: string; testImages?: string; testLabels?: string; limit?: number }
  | { source: 'csv'; path: string; header?: boolean; labelColumn?: number; limit?: number }
  | { source: 'natural'; patches: PatchConfig }
  | { source: 'images'; dir: string; patches: PatchConfig };

export interface PatchConfig {
  /** Number of random patches. */
  count: number;
  /** Patch side p (p × p pixels). */
  size: number;
  /** 'ufldl': subtract each patch's mean, truncate to ±3σ, rescale to [0.1, 0.9]. Default 'ufldl'. */
  normalize?: 'ufldl' | 'none';
  /**
   * Whiten each image in the frequency domain before sampling (R(f) = f·e^(−(f/f₀)⁴),
   * as for the UFLDL exercise's IMAGES.mat). Default false.
   */
  whitenImages?: boolean;
  /**
   * ZCA-whiten the raw patches with this ε before normalizing, standing in for
   * the pre-whitened images of the UFLDL exercise (its IMAGES.mat). Default: none.
   */
  zcaEpsilon?: number;
}

export interface WhitenConfig {
  kind: 'zca' | 'pca';
  /** ε added to the eigenvalues. */
  epsilon: number;
  /** PCA only: keep this many components. */
  components?: number;
}

/** A network spec without its sizes: the settings of one stage of a pipeline (layers are filled in). */
export type StageNetwork = Omit<Partial<NetworkSpec>, 'layers'>;

/** One autoencoder of a pipeline: `hidden` units, trained on the previous stage's features. */
export interface AutoencoderStage {
  hidden: number;
  /** Spread into the stage's NetworkSpec (default activation sigmoid, loss squared); layers and autoencoder are set. */
  network?: StageNetwork;
  optimizer: OptimizerOptions;
  init?: InitializerName;
  /** Mini-batch ρ̂ running average (as the top-level rhoHatDecay). */
  rhoHatDecay?: number;
}

/** A softmax layer (or the fine-tuning of a whole stack): weight decay λ and an optimizer. */
export interface ClassifierStage {
  lambda?: number;
  optimizer: OptimizerOptions;
  init?: InitializerName;
}

/** Greedy layer-wise pretraining of autoencoders, a softmax on the last features, then fine-tuning. */
export interface StackedConfig {
  autoencoders: AutoencoderStage[];
  softmax: ClassifierStage;
  /** Fine-tuning of the assembled network [n1, h1, …, classes]; absent: no fine-tuning. */
  fineTune?: ClassifierStage;
}

/** Self-taught learning: an autoencoder on unlabeled classes, a softmax on its features of the labeled classes. */
export interface SelfTaughtConfig {
  unlabeledClasses: number[];
  labeledClasses: number[];
  autoencoder: AutoencoderStage;
  softmax: ClassifierStage;
  /** Also train a softmax on the raw inputs of the same labeled split (summary.rawPixelTestAccuracy). */
  compareRawPixels?: boolean;
}

export interface TrainConfig {
  /** A name for the run (used in the default output folder). */
  name?: string;
  /** The network (required unless `stacked` or `selfTaught` describes a pipeline). */
  network?: NetworkSpec;
  stacked?: StackedConfig;
  selfTaught?: SelfTaughtConfig;
  init?: InitializerName;
  seed?: number;
  data: DataConfig;
  whiten?: WhitenConfig;
  /** The optimizer (required with `network`; pipelines name one per stage). */
  optimizer?: OptimizerOptions;
  backend?: BackendName;
  /** Output folder (default runs/<name>). */
  output?: string;
  /** Write a checkpoint every N iterations (default 50; 0 = only on Ctrl-C and at the end). */
  checkpointEvery?: number;
  /**
   * Mini-batch methods: ρ̂ of the sparsity term. Default (absent or 0): each
   * batch's own ρ̂. A decay in (0, 1): an exponential running average over
   * batches, ρ̂ ← decay·ρ̂ + (1 − decay)·ρ̂_batch. Full-batch methods always use the exact ρ̂.
   */
  rhoHatDecay?: number;
  /** Record the full-data cost for the loss curve every N iterations of mini-batch methods (default: about 50 points per run). */
  costEvery?: number;
  /** WebGPU: cap on one storage binding's bytes (e.g. 134217728, a browser's default); data sets are split into buffers that fit. */
  maxBindingBytes?: number;
  /**
   * WebGPU, single-network runs with a mini-batch method: a training set over this
   * many bytes as float32 stays in host memory and streams to the GPU by mini-batches.
   */
  maxDataBytes?: number;
  /**
   * Single-network runs: 'f16' stores the training set on the GPU as half floats
   * (half the memory and upload; float32 arithmetic); the CPU backend rounds the
   * values to halves. Default 'f32'. README, "Half-precision data".
   */
  dataPrecision?: DataPrecision;
  /**
   * Autoencoders with a test set: also reconstruct test inputs corrupted this way
   * (fixed seed, default 12345) and report the error against the clean inputs
   * (summary.testCorruptedReconstructionError, denoising.png).
   */
  denoisingTest?: CorruptionSpec & { seed?: number };
  /** VAE runs: the test-set evaluation (importance samples k, default 1000; ε seed, default 1). */
  vaeEval?: VaeEvalConfig;
}

// The keys of every level of a configuration and their types (schema.ts).
const PATCHES_SHAPE: ObjectShape = {
  fields: { count: 'integer', size: 'integer', normalize: 'string', whitenImages: 'boolean', zcaEpsilon: 'number' },
  required: ['count', 'size'],
};
const CLASSES: Shape = { list: 'integer' };
const DATA_SHAPE: Shape = {
  tag: 'source',
  variants: {
    mnist: { fields: { testFraction: 'number', limit: 'integer', classes: CLASSES } },
    'fashion-mnist': { fields: { limit: 'integer', classes: CLASSES } },
    idx: {
      fields: { images: 'string', labels: 'string', testImages: 'string', testLabels: 'string', limit: 'integer' },
      required: ['images'],
      hints: { images: 'the path of an IDX images file' },
    },
    csv: { fields: { path: 'string', header: 'boolean', labelColumn: 'integer', limit: 'integer' }, required: ['path'], hints: { path: 'the path of a CSV file' } },
    natural: { fields: { patches: PATCHES_SHAPE }, required: ['patches'], hints: { patches: '{ count, size }' } },
    images: { fields: { dir: 'string', patches: PATCHES_SHAPE }, required: ['dir', 'patches'], hints: { dir: 'a folder of images', patches: '{ count, size }' } },
  },
};
const STAGE_NETWORK_SHAPE: ObjectShape = { fields: NETWORK_SHAPE.fields };
const AUTOENCODER_STAGE_SHAPE: ObjectShape = {
  fields: { hidden: 'integer', network: STAGE_NETWORK_SHAPE, optimizer: OPTIMIZER_SHAPE, init: 'string', rhoHatDecay: 'number' },
  required: ['hidden', 'optimizer'],
};
const CLASSIFIER_STAGE_SHAPE: ObjectShape = { fields: { lambda: 'number', optimizer: OPTIMIZER_SHAPE, init: 'string' }, required: ['optimizer'] };
/** Every key a training configuration may hold, at every level. */
export const CONFIG_SHAPE: ObjectShape = {
  fields: {
    name: 'string',
    network: NETWORK_SHAPE,
    stacked: { fields: { autoencoders: { list: AUTOENCODER_STAGE_SHAPE }, softmax: CLASSIFIER_STAGE_SHAPE, fineTune: CLASSIFIER_STAGE_SHAPE }, required: ['autoencoders', 'softmax'] },
    selfTaught: {
      fields: { unlabeledClasses: CLASSES, labeledClasses: CLASSES, autoencoder: AUTOENCODER_STAGE_SHAPE, softmax: CLASSIFIER_STAGE_SHAPE, compareRawPixels: 'boolean' },
      required: ['unlabeledClasses', 'labeledClasses', 'autoencoder', 'softmax'],
    },
    init: 'string',
    seed: 'integer',
    data: DATA_SHAPE,
    whiten: { fields: { kind: 'string', epsilon: 'number', components: 'integer' }, required: ['kind', 'epsilon'] },
    optimizer: OPTIMIZER_SHAPE,
    backend: 'string',
    output: 'string',
    checkpointEvery: 'integer',
    rhoHatDecay: 'number',
    costEvery: 'integer',
    maxBindingBytes: 'integer',
    maxDataBytes: 'integer',
    dataPrecision: 'string',
    denoisingTest: { fields: CORRUPTION_SHAPE.fields, required: CORRUPTION_SHAPE.required },
    vaeEval: { fields: { samples: 'integer', seed: 'integer' } },
  },
  required: ['data'],
  hints: { data: '{ source, … }' },
};

function checkOptimizer(o: OptimizerOptions | undefined, key: string): void {
  if (!o || typeof o !== 'object' || !(METHODS as readonly string[]).includes(o.method)) {
    throw new SpecError(`${key}.method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(o?.method)}`);
  }
}

function checkLambda(v: unknown, key: string): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new SpecError(`${key} must be a number ≥ 0, got ${JSON.stringify(v)}`);
}

function checkInit(v: unknown, key: string): void {
  if (v !== undefined && !(INITIALIZERS as readonly string[]).includes(v as string)) throw new SpecError(`${key} ${JSON.stringify(v)} is not one of ${INITIALIZERS.join(', ')}`);
}

function checkAutoencoderStage(s: AutoencoderStage | undefined, key: string): void {
  if (!s || typeof s !== 'object') throw new SpecError(`${key} must be an object { hidden, network, optimizer }, got ${JSON.stringify(s)}`);
  positiveInt(s.hidden, `${key}.hidden`);
  if (s.network !== undefined) {
    if (!s.network || typeof s.network !== 'object' || Array.isArray(s.network)) throw new SpecError(`${key}.network must be an object (a network spec without layers), got ${JSON.stringify(s.network)}`);
    if ('layers' in s.network) throw new SpecError(`${key}.network must not set layers (they follow from the data and ${key}.hidden), got ${JSON.stringify((s.network as { layers?: unknown }).layers)}`);
    // Validate the settings on a stand-in size; the real input width is checked again when the data are loaded.
    try {
      resolveSpec(stageSpec(s, 4));
    } catch (e) {
      throw new SpecError(`${key}.network: ${(e as Error).message}`);
    }
    // The assembled classifier is a plain feedforward net: it could not keep the top-k masks the stage was trained with.
    if (s.network.vae) throw new SpecError(`${key}.network: a VAE cannot be a stage of a pipeline (its code is a distribution, and the classifier would not sample it)`);
    if (s.network.kSparse) throw new SpecError(`${key}.network: kSparse autoencoders cannot be stacked into a classifier (its hidden layers would not keep the top-k masks)`);
  }
  checkOptimizer(s.optimizer, `${key}.optimizer`);
  checkInit(s.init, `${key}.init`);
  if (s.rhoHatDecay !== undefined && !(s.rhoHatDecay >= 0 && s.rhoHatDecay < 1)) throw new SpecError(`${key}.rhoHatDecay must lie in [0, 1), got ${JSON.stringify(s.rhoHatDecay)}`);
}

function checkClassifierStage(s: ClassifierStage | undefined, key: string): void {
  if (!s || typeof s !== 'object') throw new SpecError(`${key} must be an object { lambda, optimizer }, got ${JSON.stringify(s)}`);
  checkLambda(s.lambda, `${key}.lambda`);
  checkOptimizer(s.optimizer, `${key}.optimizer`);
  checkInit(s.init, `${key}.init`);
}

function checkClassList(v: unknown, key: string): void {
  if (!Array.isArray(v) || v.length === 0 || v.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
    throw new SpecError(`${key} must be a non-empty list of class numbers, got ${JSON.stringify(v)}`);
  }
  if (new Set(v).size !== v.length) throw new SpecError(`${key} lists a class twice: ${JSON.stringify(v)}`);
}

/** The NetworkSpec of an autoencoder stage on inputs of width nIn. */
export function stageSpec(s: AutoencoderStage, nIn: number): NetworkSpec {
  return { activation: 'sigmoid', loss: 'squared', ...s.network, layers: [nIn, s.hidden, nIn], autoencoder: true };
}

/** Checks `stacked` / `selfTaught`; true when the configuration is a pipeline. */
function checkPipeline(c: TrainConfig): boolean {
  if (c.stacked !== undefined && c.selfTaught !== undefined) throw new SpecError('a configuration holds either "stacked" or "selfTaught", not both');
  if (c.stacked === undefined && c.selfTaught === undefined) return false;
  if (c.network !== undefined) throw new SpecError(`"network" does not go with ${c.stacked ? '"stacked"' : '"selfTaught"'}: each stage names its own network settings`);
  if (c.optimizer !== undefined) throw new SpecError(`"optimizer" does not go with ${c.stacked ? '"stacked"' : '"selfTaught"'}: each stage names its own optimizer`);
  const labeled = ['mnist', 'fashion-mnist', 'idx', 'csv'];
  if (c.data && !labeled.includes((c.data as { source: string }).source)) {
    throw new SpecError(`a ${c.stacked ? 'stacked' : 'self-taught'} pipeline needs labeled data (data.source ${labeled.join(', ')}), got ${JSON.stringify((c.data as { source: string }).source)}`);
  }
  if (c.stacked !== undefined) {
    const s = c.stacked;
    if (!s || typeof s !== 'object') throw new SpecError(`stacked must be an object { autoencoders, softmax, fineTune }, got ${JSON.stringify(s)}`);
    if (!Array.isArray(s.autoencoders) || s.autoencoders.length === 0) throw new SpecError(`stacked.autoencoders must be a non-empty list, got ${JSON.stringify(s.autoencoders)}`);
    s.autoencoders.forEach((a, k) => checkAutoencoderStage(a, `stacked.autoencoders[${k}]`));
    checkClassifierStage(s.softmax, 'stacked.softmax');
    if (s.fineTune !== undefined) checkClassifierStage(s.fineTune, 'stacked.fineTune');
  } else {
    const s = c.selfTaught!;
    if (!s || typeof s !== 'object') throw new SpecError(`selfTaught must be an object { unlabeledClasses, labeledClasses, autoencoder, softmax }, got ${JSON.stringify(s)}`);
    checkClassList(s.unlabeledClasses, 'selfTaught.unlabeledClasses');
    checkClassList(s.labeledClasses, 'selfTaught.labeledClasses');
    const both = s.labeledClasses.filter((k) => s.unlabeledClasses.includes(k));
    if (both.length) throw new SpecError(`selfTaught: class ${both[0]} is both labeled and unlabeled`);
    if (s.labeledClasses.length < 2) throw new SpecError(`selfTaught.labeledClasses needs at least two classes, got ${JSON.stringify(s.labeledClasses)}`);
    checkAutoencoderStage(s.autoencoder, 'selfTaught.autoencoder');
    checkClassifierStage(s.softmax, 'selfTaught.softmax');
    if (s.compareRawPixels !== undefined && typeof s.compareRawPixels !== 'boolean') throw new SpecError(`selfTaught.compareRawPixels must be true or false, got ${JSON.stringify(s.compareRawPixels)}`);
  }
  return true;
}

/**
 * k-sparse annealing needs a first-order method (a line search needs a fixed
 * objective), and a run long enough for k to reach its target.
 */
function checkAnneal(network: NetworkSpec, o: OptimizerOptions): void {
  const a = network.kSparse?.anneal;
  if (!a) return;
  if (usesLineSearch(o.method)) {
    throw new SpecError(`network.kSparse.anneal changes k during training, but optimizer.method ${o.method} needs a fixed objective for its line search; use gd, sgd, momentum or adam, or drop the annealing`);
  }
  const planned = o.method === 'gd' ? (o.iterations ?? 100) : ((o as { epochs?: number }).epochs ?? ((o as { iterations?: number }).iterations === undefined ? 10 : Infinity));
  if (a.epochs > planned) {
    throw new SpecError(`network.kSparse.anneal.epochs (${a.epochs}) is more than the run's ${planned} epoch${planned === 1 ? '' : 's'} (optimizer.${o.method === 'gd' ? 'iterations' : 'epochs'}): training would end before k reaches ${network.kSparse!.k}`);
  }
}

const SOURCES = ['mnist', 'fashion-mnist', 'idx', 'csv', 'natural', 'images'];

function positiveInt(v: unknown, key: string): void {
  if (!Number.isInteger(v) || (v as number) < 1) throw new SpecError(`${key} must be a positive integer, got ${JSON.stringify(v)}`);
}

/** Checks a configuration; returns it with defaults filled in. */
export function checkConfig(raw: unknown): TrainConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError(`the training configuration must be a JSON object, got ${JSON.stringify(raw)}`);
  checkShape(raw, CONFIG_SHAPE, '');
  const c = raw as TrainConfig;
  const pipeline = checkPipeline(c);
  if (!pipeline) {
    if (!c.network) throw new SpecError('the configuration needs "network" (layers, activation, …), or "stacked" or "selfTaught" for a pipeline');
    checkParameterCount(resolveSpec(c.network));
  }
  if (c.init !== undefined && !(INITIALIZERS as readonly string[]).includes(c.init)) {
    throw new SpecError(`init ${JSON.stringify(c.init)} is not one of ${INITIALIZERS.join(', ')}`);
  }
  if (c.seed !== undefined && !Number.isInteger(c.seed)) throw new SpecError(`seed must be an integer, got ${JSON.stringify(c.seed)}`);
  if (!c.data || !SOURCES.includes((c.data as { source: string }).source)) {
    throw new SpecError(`data.source must be one of ${SOURCES.join(', ')}, got ${JSON.stringify((c.data as { source?: unknown } | undefined)?.source)}`);
  }
  const d = c.data as DataConfig & { limit?: number };
  if (d.limit !== undefined) positiveInt(d.limit, 'data.limit');
  if (d.source === 'natural' || d.source === 'images') {
    if (!d.patches) throw new SpecError(`data.source ${d.source} needs data.patches { count, size }`);
    positiveInt(d.patches.count, 'data.patches.count');
    positiveInt(d.patches.size, 'data.patches.size');
  }
  if (c.whiten) {
    if (c.whiten.kind !== 'zca' && c.whiten.kind !== 'pca') throw new SpecError(`whiten.kind must be zca or pca, got ${JSON.stringify(c.whiten.kind)}`);
    if (!(c.whiten.epsilon >= 0)) throw new SpecError(`whiten.epsilon must be ≥ 0, got ${JSON.stringify(c.whiten.epsilon)}`);
  }
  if (!pipeline) {
    checkOptimizer(c.optimizer, 'optimizer');
    checkAnneal(c.network!, c.optimizer!);
  }
  const backend = c.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') throw new SpecError(`backend must be webgpu or cpu, got ${JSON.stringify(backend)}`);
  if (c.checkpointEvery !== undefined && (!Number.isInteger(c.checkpointEvery) || c.checkpointEvery < 0)) {
    throw new SpecError(`checkpointEvery must be a non-negative integer, got ${JSON.stringify(c.checkpointEvery)}`);
  }
  if (c.costEvery !== undefined) positiveInt(c.costEvery, 'costEvery');
  checkVaeEvalConfig(c.vaeEval);
  if (c.denoisingTest !== undefined) {
    // The same rules as a network's corruption.
    try {
      resolveCorruption(c.denoisingTest);
    } catch (e) {
      throw new SpecError(`denoisingTest: ${(e as Error).message}`);
    }
  }
  if (c.rhoHatDecay !== undefined && !(c.rhoHatDecay >= 0 && c.rhoHatDecay < 1)) {
    throw new SpecError(`rhoHatDecay must lie in [0, 1), got ${JSON.stringify(c.rhoHatDecay)}`);
  }
  for (const key of ['maxBindingBytes'] as const) {
    if (c[key] !== undefined && !(c[key]! >= 16)) throw new SpecError(`${key} must be at least 16 bytes, got ${JSON.stringify(c[key])}`);
  }
  checkMaxDataBytes(c.maxDataBytes);
  if (pipeline && c.maxDataBytes !== undefined) {
    throw new SpecError(`maxDataBytes applies to single-network runs; a ${c.stacked ? 'stacked' : 'self-taught'} pipeline keeps each stage's features on the GPU (got maxDataBytes ${c.maxDataBytes})`);
  }
  checkDataPrecision(c.dataPrecision);
  if (pipeline && c.dataPrecision !== undefined) {
    throw new SpecError(`dataPrecision applies to single-network runs; a ${c.stacked ? 'stacked' : 'self-taught'} pipeline keeps its features as float32 (got dataPrecision ${JSON.stringify(c.dataPrecision)})`);
  }
  return { ...c, backend, seed: c.seed ?? 1, init: c.init ?? 'ufldl', checkpointEvery: c.checkpointEvery ?? 50, name: c.name ?? 'run' };
}
