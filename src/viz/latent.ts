// Pictures of a 2-D latent space (Kingma & Welling 2013, Fig. 4): the codes of a
// manifold grid, and a scatter of codes coloured by class. Browser-safe and pure.

import { SpecError } from '../spec.js';
import type { Matrix } from '../matrix.js';
import type { RgbaImage } from './tiles.js';

/**
 * Φ⁻¹(p), the standard normal quantile, for p in (0, 1): Acklam's rational
 * approximation (relative error < 1.2e-9), one Newton step on erfc omitted.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new SpecError(`normalQuantile needs p in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * The n × n codes of a manifold picture: row i, column j is z = (Φ⁻¹(pⱼ), Φ⁻¹(p_{n−1−i})) with
 * pₖ = (k + ½)/n, so equal areas of the prior N(0, I) get equal tiles (z₂ grows upwards).
 */
export function manifoldCodes(n: number): Matrix {
  if (!Number.isInteger(n) || n < 1) throw new SpecError(`manifold size must be a positive integer, got ${n}`);
  const data = new Float64Array(n * n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      data[(i * n + j) * 2] = normalQuantile((j + 0.5) / n);
      data[(i * n + j) * 2 + 1] = normalQuantile((n - 1 - i + 0.5) / n);
    }
  }
  return { rows: n * n, cols: 2, data };
}

/** Ten distinguishable colours (Tableau 10), class k mod 10. */
const PALETTE = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]] as const;

/**
 * A scatter of 2-D points (the first two columns of P), coloured by label, on a white
 * size × size square spanning ±`range` (default: the points' largest |coordinate|), with axes
 * through 0 and a legend strip of the classes at the bottom.
 */
export function latentScatter(P: Matrix, labels: ArrayLike<number> | null, opts: { size?: number; range?: number } = {}): RgbaImage {
  if (P.cols < 2) throw new SpecError(`latentScatter needs 2-D points, got ${P.cols} columns`);
  if (labels && labels.length !== P.rows) throw new SpecError(`latentScatter: ${labels.length} labels for ${P.rows} points`);
  const size = opts.size ?? 400;
  let range = opts.range ?? 0;
  if (!range) for (let i = 0; i < P.rows; i++) range = Math.max(range, Math.abs(P.data[i * P.cols]!), Math.abs(P.data[i * P.cols + 1]!));
  range = range > 0 && Number.isFinite(range) ? range * 1.05 : 1;
  const legend = 14;
  const width = size;
  const height = size + legend;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  const put = (x: number, y: number, c: readonly number[]): void => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const o = (y * width + x) * 4;
    rgba[o] = c[0]!;
    rgba[o + 1] = c[1]!;
    rgba[o + 2] = c[2]!;
  };
  const toPx = (v: number): number => Math.round(((v + range) / (2 * range)) * (size - 1));
  const axis = [200, 200, 200];
  for (let t = 0; t < size; t++) {
    put(toPx(0), t, axis);
    put(t, size - 1 - toPx(0), axis);
  }
  for (let i = 0; i < P.rows; i++) {
    const x = toPx(P.data[i * P.cols]!);
    const y = size - 1 - toPx(P.data[i * P.cols + 1]!);
    const c = PALETTE[labels ? labels[i]! % 10 : 0]!;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) put(x + dx, y + dy, c);
  }
  const classes = labels ? Math.min(10, Math.max(...Array.from(labels)) + 1) : 0;
  for (let k = 0; k < classes; k++) {
    const x0 = Math.round((k * width) / 10);
    for (let y = size + 3; y < height - 2; y++) for (let x = x0 + 2; x < x0 + width / 10 - 2; x++) put(x, y, PALETTE[k]!);
  }
  return { width, height, rgba };
}
