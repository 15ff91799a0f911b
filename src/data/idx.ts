// The IDX file format of MNIST and Fashion-MNIST. Browser-safe (no node: imports);
// file reading and gunzip live in idx-node.ts.
//
// Layout (all integers big-endian):
//   bytes 0–1  zero
//   byte  2    element type: 0x08 = unsigned byte (the only type MNIST uses)
//   byte  3    number of dimensions d
//   4 · d      the size of each dimension, uint32
//   then       the elements, last dimension fastest
// So labels are 0x00000801 (d = 1) and images 0x00000803 (d = 3: count, rows, cols).

import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import type { LabeledSet } from './labels.js';

export interface IdxArray {
  dims: number[];
  /** The elements, a view into the input bytes (no copy). */
  data: Uint8Array;
}

/** True when the bytes start with the gzip magic 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses an unsigned-byte IDX file. `name` (a path or URL) appears in every error. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (isGzip(bytes)) throw new SpecError(`${name}: is gzip-compressed; decompress it first (loadIdxImages/loadIdxLabels do)`);
  if (bytes.length < 4) throw new SpecError(`${name}: truncated IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const hex = '0x' + magic.toString(16).padStart(8, '0');
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new SpecError(`${name}: not an IDX file: bad magic number ${hex} (expected 0x00000801 for labels or 0x00000803 for images)`);
  }
  if (bytes[2] !== 0x08) {
    throw new SpecError(`${name}: IDX element type 0x${bytes[2]!.toString(16).padStart(2, '0')} (magic ${hex}) is not supported; only unsigned bytes (0x08)`);
  }
  const nd = bytes[3]!;
  if (nd === 0) throw new SpecError(`${name}: bad magic number ${hex}: zero dimensions`);
  const header = 4 + 4 * nd;
  if (bytes.length < header) {
    throw new SpecError(`${name}: truncated IDX file: ${bytes.length} bytes, but the header of a ${nd}-dimensional array needs ${header}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let k = 0; k < nd; k++) {
    const d = view.getUint32(4 + 4 * k, false);
    dims.push(d);
    size *= d;
  }
  const expected = header + size;
  if (bytes.length < expected) {
    throw new SpecError(
      `${name}: truncated IDX file: dimensions ${dims.join(' × ')} need ${expected} bytes (${header} header + ${size} data), the file has ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new SpecError(`${name}: IDX file has ${bytes.length - expected} bytes beyond the ${expected} that dimensions ${dims.join(' × ')} need`);
  }
  return { dims, data: bytes.subarray(header, expected) };
}

/** Builds an unsigned-byte IDX file (big-endian header); the inverse of parseIdx. */
export function encodeIdx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new SpecError(`encodeIdx: dimensions ${dims.join(' × ')} need ${size} values, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** count × height × width bytes, row-major. */
  pixels: Uint8Array;
}

/** Interprets a parsed IDX array as images (3 dimensions: count, rows, cols). */
export function idxImages(idx: IdxArray, name: string): IdxImages {
  if (idx.dims.length !== 3) {
    throw new SpecError(`${name}: an IDX image file has 3 dimensions (magic 0x00000803), this one has ${idx.dims.length}: ${idx.dims.join(' × ')}`);
  }
  const [count, height, width] = idx.dims as [number, number, number];
  return { count, height, width, pixels: idx.data };
}

/** Interprets a parsed IDX array as labels (1 dimension). */
export function idxLabels(idx: IdxArray, name: string): Uint8Array {
  if (idx.dims.length !== 1) {
    throw new SpecError(`${name}: an IDX label file has 1 dimension (magic 0x00000801), this one has ${idx.dims.length}: ${idx.dims.join(' × ')}`);
  }
  return idx.data;
}

/** count × (height·width) matrix with pixels scaled to [0, 1] (byte / 255). */
export function imagesToMatrix(images: IdxImages, dtype: 'float64' | 'float32' = 'float64'): Matrix {
  const n = images.height * images.width;
  const src = images.pixels;
  const data = dtype === 'float32' ? new Float32Array(src.length) : new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = src[i]! / 255;
  return { rows: images.count, cols: n, data };
}

/** Pairs images with labels; the counts must match. `classes` defaults to max label + 1. */
export function idxDataset(
  images: IdxImages,
  labels: Uint8Array,
  names: { images: string; labels: string },
  opts: { dtype?: 'float64' | 'float32'; classes?: number } = {},
): LabeledSet {
  if (images.count !== labels.length) {
    throw new SpecError(`${names.images} holds ${images.count} images but ${names.labels} holds ${labels.length} labels`);
  }
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  const classes = opts.classes ?? max + 1;
  if (max >= classes) throw new SpecError(`${names.labels}: label ${max} is not below classes = ${classes}`);
  return { X: imagesToMatrix(images, opts.dtype), labels: labels.slice(), classes };
}
