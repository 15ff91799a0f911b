// What a training run (and `wgnn eval`) adds for a variational autoencoder: the
// test-set −ELBO and importance-weighted NLL, and the pictures (samples, and for a
// 2-D latent space the manifold and the codes of the test set). Node only.

import { join } from 'node:path';
import type { Model } from '../model-contract.js';
import { SpecError, type Network } from '../spec.js';
import type { Matrix } from '../matrix.js';
import { writeFileAtomic } from '../io/files.js';
import { imageGrid, upscale } from '../viz/tiles.js';
import { latentScatter, manifoldCodes } from '../viz/latent.js';
import { encodePng } from '../viz/png-node.js';

/** `vaeEval` of a training configuration: importance samples k (default 1000) and the ε seed (default 1). */
export interface VaeEvalConfig {
  samples?: number;
  seed?: number;
}

/** The ranges of `vaeEval` (its keys and types are checked with the configuration's shape). */
export function checkVaeEvalConfig(v: unknown): void {
  if (v === undefined) return;
  const { samples, seed } = v as VaeEvalConfig;
  if (samples !== undefined && !(Number.isInteger(samples) && samples >= 0)) throw new SpecError(`vaeEval.samples must be an integer ≥ 0, got ${JSON.stringify(samples)}`);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new SpecError(`vaeEval.seed must be an integer in [0, 2³²), got ${JSON.stringify(seed)}`);
}

export interface VaeNumbers {
  /** −ELBO per test example (nats; β = 1; one ε draw under `evalSeed`). */
  testNegElbo: number;
  /** Importance-weighted −log p(x) per test example (nats), k = importanceSamples; null when k = 0. */
  testNll: number | null;
  importanceSamples: number;
  evalSeed: number;
}

export async function vaeTestNumbers(model: Model, X: Matrix, cfg: VaeEvalConfig = {}): Promise<VaeNumbers> {
  const samples = cfg.samples ?? 1000;
  const seed = cfg.seed ?? 1;
  const r = await model.evaluateVae(X, { samples, seed });
  return { testNegElbo: r.negElbo, testNll: r.nll, importanceSamples: samples, evalSeed: seed };
}

/**
 * samples.png: 100 decoded draws z ~ N(0, I) (seed 1); for a 2-D latent space also
 * manifold.png (the decoder over a 20 × 20 grid of Φ⁻¹ codes) and latent.png (μ of
 * the examples `codesOf`, coloured by label).
 */
export async function writeVaePictures(model: Model, net: Network, image: { width: number; height: number }, outputDir: string, codesOf: { X: Matrix; labels?: Uint8Array } | null): Promise<string[]> {
  const written: string[] = [];
  const { width, height } = image;
  const samples = await model.sample(100, { seed: 1 });
  writeFileAtomic(join(outputDir, 'samples.png'), encodePng(upscale(imageGrid(samples, width, height, { cols: 10 }), 2)));
  written.push('samples.png');
  if (net.layers[net.vae!.latent] === 2) {
    const grid = await model.decode(manifoldCodes(20));
    writeFileAtomic(join(outputDir, 'manifold.png'), encodePng(upscale(imageGrid(grid, width, height, { cols: 20, padding: 0 }), 2)));
    written.push('manifold.png');
    if (codesOf) {
      const mu = await model.encode(codesOf.X);
      writeFileAtomic(join(outputDir, 'latent.png'), encodePng(latentScatter(mu, codesOf.labels ?? null, { size: 500 })));
      written.push('latent.png');
    }
  }
  return written;
}
