// Random image patches and the UFLDL sparse-autoencoder normalization. Browser-safe.
//
// A patch of size s is s × s pixels stored row-major as one matrix row of s² values:
// pixel (r, c) of the patch is column r·s + c. featureTiles in src/viz/tiles.ts uses
// the same order, so learned features display the right way up.

import { Rng } from '../prng.js';
import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import type { GrayImage } from './gray.js';

export interface PatchOptions {
  /** Number of patches (rows of the result). */
  count: number;
  /** Side of a square patch in pixels. */
  size: number;
  seed: number;
}

/**
 * count × size² matrix of square patches cut at random from the images: as in the
 * UFLDL exercise, each patch picks an image uniformly, then a uniformly random
 * top-left corner that keeps the patch inside it. Seeded: the same seed gives the same patches.
 */
export function samplePatches(images: GrayImage[], opts: PatchOptions): Matrix {
  const { count, size, seed } = opts;
  if (!Number.isInteger(count) || count < 1) throw new SpecError(`samplePatches: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(size) || size < 1) throw new SpecError(`samplePatches: size must be a positive integer, got ${size}`);
  images.forEach((img, i) => {
    if (img.data.length !== img.width * img.height) {
      throw new SpecError(`samplePatches: image ${img.name ?? i} says ${img.width} × ${img.height} but holds ${img.data.length} pixels`);
    }
  });
  const usable = images.filter((img) => img.width >= size && img.height >= size);
  if (usable.length === 0) {
    throw new SpecError(`samplePatches: no image is at least ${size} × ${size} pixels (${images.length} images given)`);
  }
  const rng = new Rng(seed);
  const n = size * size;
  const out = new Float64Array(count * n);
  for (let p = 0; p < count; p++) {
    const img = usable[rng.int(usable.length)]!;
    const r0 = rng.int(img.height - size + 1);
    const c0 = rng.int(img.width - size + 1);
    let o = p * n;
    for (let r = 0; r < size; r++) {
      const row = (r0 + r) * img.width + c0;
      for (let c = 0; c < size; c++) out[o++] = img.data[row + c]!;
    }
  }
  return { rows: count, cols: n, data: out };
}

/** Subtracts from each row (example) its own mean. Returns a new float64 matrix. */
export function removeRowMeans(m: Matrix): Matrix {
  const { rows, cols } = m;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += m.data[i * cols + j]!;
    const mean = cols > 0 ? s / cols : 0;
    for (let j = 0; j < cols; j++) out[i * cols + j] = m.data[i * cols + j]! - mean;
  }
  return { rows, cols, data: out };
}

/**
 * The normalization of the UFLDL sparse autoencoder exercise (sampleIMAGES.m):
 *   1. subtract from each patch its own mean;
 *   2. pstd = 3 · std of all values (sample std, N − 1, as MATLAB's std);
 *      truncate to [−pstd, pstd] and divide by pstd, giving [−1, 1];
 *   3. rescale to [0.1, 0.9] by (x + 1) · 0.4 + 0.1 (the range of a sigmoid output
 *      that the autoencoder can reach).
 * A patch none of whose values was truncated keeps mean exactly 0.5. If every
 * value is 0 after step 1 (constant patches), every output is 0.5.
 */
export function normalizePatches(m: Matrix): Matrix {
  const centered = removeRowMeans(m);
  const d = centered.data as Float64Array;
  const N = d.length;
  let ss = 0;
  let s = 0;
  for (let i = 0; i < N; i++) s += d[i]!;
  const mean = N > 0 ? s / N : 0; // 0 up to rounding after step 1
  for (let i = 0; i < N; i++) ss += (d[i]! - mean) ** 2;
  const pstd = N > 1 ? 3 * Math.sqrt(ss / (N - 1)) : 0;
  for (let i = 0; i < N; i++) {
    const x = pstd > 0 ? Math.max(-pstd, Math.min(pstd, d[i]!)) / pstd : 0;
    d[i] = (x + 1) * 0.4 + 0.1;
  }
  return centered;
}
