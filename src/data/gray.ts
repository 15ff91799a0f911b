// Grayscale images as float64 arrays. Browser-safe (no node: imports, no decoders).

import { SpecError } from '../spec.js';

/** A grayscale image: height rows of width pixels, row-major, values in [0, 1]. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float64Array;
  /** Where it came from (file name), when known. */
  name?: string;
}

/** ITU-R BT.601 luma weights, as MATLAB's rgb2gray. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Converts 8-bit RGBA pixels (as from a canvas ImageData, pngjs or jpeg-js) to a
 * grayscale image in [0, 1] with luma 0.299 R + 0.587 G + 0.114 B; alpha is ignored.
 */
export function rgbaToGray(rgba: ArrayLike<number>, width: number, height: number, name?: string): GrayImage {
  if (rgba.length !== width * height * 4) {
    throw new SpecError(`${name ?? 'image'}: ${width} × ${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  const data = new Float64Array(width * height);
  for (let p = 0, q = 0; p < data.length; p++, q += 4) {
    data[p] = (LUMA[0] * rgba[q]! + LUMA[1] * rgba[q + 1]! + LUMA[2] * rgba[q + 2]!) / 255;
  }
  return name === undefined ? { width, height, data } : { width, height, data, name };
}
