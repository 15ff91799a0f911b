// The training configuration: what `wgnn train --config FILE` reads and what
// the command-line flags override. Validated up front with messages that name
// the offending key and value.

import { INITIALIZERS, type InitializerName } from '../params.js';
import { resolveSpec, SpecError, type NetworkSpec } from '../spec.js';
import { METHODS, type OptimizerOptions } from '../train/optimize.js';
import type { BackendName } from '../model.js';

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

export interface TrainConfig {
  /** A name for the run (used in the default output folder). */
  name?: string;
  network: NetworkSpec;
  init?: InitializerName;
  seed?: number;
  data: DataConfig;
  whiten?: WhitenConfig;
  optimizer: OptimizerOptions;
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
}

const SOURCES = ['mnist', 'fashion-mnist', 'idx', 'csv', 'natural', 'images'];

function positiveInt(v: unknown, key: string): void {
  if (!Number.isInteger(v) || (v as number) < 1) throw new SpecError(`${key} must be a positive integer, got ${JSON.stringify(v)}`);
}

/** Checks a configuration; returns it with defaults filled in. */
export function checkConfig(raw: unknown): TrainConfig {
  if (!raw || typeof raw !== 'object') throw new SpecError(`the training configuration must be a JSON object, got ${JSON.stringify(raw)}`);
  const c = raw as TrainConfig;
  if (!c.network) throw new SpecError('the configuration needs "network" (layers, activation, …)');
  resolveSpec(c.network);
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
  if (!c.optimizer || !(METHODS as readonly string[]).includes(c.optimizer.method)) {
    throw new SpecError(`optimizer.method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(c.optimizer?.method)}`);
  }
  const backend = c.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') throw new SpecError(`backend must be webgpu or cpu, got ${JSON.stringify(backend)}`);
  if (c.checkpointEvery !== undefined && (!Number.isInteger(c.checkpointEvery) || c.checkpointEvery < 0)) {
    throw new SpecError(`checkpointEvery must be a non-negative integer, got ${JSON.stringify(c.checkpointEvery)}`);
  }
  if (c.costEvery !== undefined) positiveInt(c.costEvery, 'costEvery');
  if (c.rhoHatDecay !== undefined && !(c.rhoHatDecay >= 0 && c.rhoHatDecay < 1)) {
    throw new SpecError(`rhoHatDecay must lie in [0, 1), got ${JSON.stringify(c.rhoHatDecay)}`);
  }
  return { ...c, backend, seed: c.seed ?? 1, init: c.init ?? 'ufldl', checkpointEvery: c.checkpointEvery ?? 50, name: c.name ?? 'run' };
}
