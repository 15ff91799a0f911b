// What single runs and pipeline stages share: progress reports, summaries,
// planned iterations and the features.png writer. Both run.ts and pipeline.ts
// import this module (neither imports the other statically).

import type { CostReport } from '../model-contract.js';
import type { Network } from '../spec.js';
import { paramLayout } from '../params.js';
import { featureTiles, upscale } from '../viz/tiles.js';
import { encodePng } from '../viz/png-node.js';
import type { ObjectiveReport, OptimizeResult } from '../optim/types.js';
import type { TrainConfig } from './config.js';

export { examplesPerEvaluation, plannedIterations } from '../fit.js';

export interface Progress {
  /** Pipelines (stacked, self-taught): the stage being trained, e.g. "ae1", "softmax", "fine-tune". */
  stage?: string;
  iteration: number;
  /** Planned iterations (null when the optimizer decides, e.g. L-BFGS stopping early). */
  total: number | null;
  epoch: number;
  cost: number | null;
  /** Parts of J and mean ρ̂ at the last evaluation that computed the cost. */
  report: ObjectiveReport | null;
  samplesPerSecond: number;
  seconds: number;
  etaSeconds: number | null;
}

export interface TrainOptions {
  onProgress?: (p: Progress) => void;
  /** Log lines (data loading, checkpoints). */
  log?: (line: string) => void;
  /** Aborting stops at the next iteration boundary, after writing a checkpoint. */
  signal?: AbortSignal;
  /** Continue from the checkpoint in the configuration's output folder. */
  resume?: boolean;
  /** WebGPU backend: a device owned by the caller. */
  device?: GPUDevice;
}

/** What one optimization did: shared by a run's summary and each stage of a pipeline. */
export interface OptimizationSummary {
  finalCost: number;
  costParts: CostReport['parts'];
  iterations: number;
  evaluations: number;
  stopReason: OptimizeResult['reason'] | 'interrupted' | 'early-stopping';
  seconds: number;
  /** Examples through the optimizer per second (mini-batch methods: batch size × evaluations). */
  samplesPerSecond: number;
  examples: number;
  /** Set when the training set was over maxDataBytes: its bytes as float32 and the cap (it streamed from host memory). */
  streamed?: { bytes: number; cap: number };
  rhoHatMean: number | null;
  /** Classifiers: accuracy on their own training examples. */
  trainAccuracy?: number;
}

export interface TrainSummary extends OptimizationSummary {
  rhoHatMax: number | null;
  adapter: string | null;
  backend: string;
  testAccuracy?: number;
  /** Classifiers with test labels: counts[true class][predicted class] on the test set. */
  confusionMatrix?: number[][];
  testReconstructionError?: number;
  /** With `denoisingTest`: ½‖x̂(x̃) − x‖² per test example, x̃ the corrupted test input. */
  testCorruptedReconstructionError?: number;
  /** VAE with a test set: −ELBO per test example (nats, β = 1, one ε draw). */
  testNegElbo?: number;
  /** VAE with a test set: importance-weighted −log p(x) per test example (nats), k = importanceSamples. */
  testNll?: number | null;
  importanceSamples?: number;
  evalSeed?: number;
  /** Stacked pipelines: test accuracy of the assembled network before fine-tuning. */
  testAccuracyBeforeFineTuning?: number;
  /** Self-taught pipelines with compareRawPixels: a softmax on the raw inputs of the same labeled split. */
  rawPixelTestAccuracy?: number;
  /** Pipelines: each stage's final cost, iterations, seconds and input. */
  stages?: StageSummary[];
  config: TrainConfig;
  date: string;
}

export interface StageSummary extends OptimizationSummary {
  name: string;
  layers: number[];
  /** Where the stage's training inputs lived: 'gpu' (a data set resident on the GPU, e.g. the previous stage's features), 'cpu' (a Matrix) or 'host' (streamed to the GPU). */
  input: 'gpu' | 'cpu' | 'host';
}

/** features.png: the first layer's W as tiles of images `imageWidth` wide, enlarged 4× (small patches) or 2×. */
export function featuresPng(net: Network, theta: Float64Array, imageWidth: number): Uint8Array {
  const s0 = paramLayout(net).slots[0]!;
  const tiles = featureTiles(theta.subarray(s0.w, s0.w + s0.nOut * s0.nIn), s0.nOut, s0.nIn, { tileWidth: imageWidth });
  return encodePng(upscale(tiles, imageWidth <= 8 ? 4 : 2));
}
