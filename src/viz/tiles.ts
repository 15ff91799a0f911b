// Pictures of weights and images as RGBA pixels. Browser-safe and pure.
//
// Pixel order: a tile of width w shows input j at row ⌊j / w⌋, column j mod w
// (row-major), the order samplePatches and the MNIST loaders use.

import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';

/** 8-bit RGBA pixels, row-major, 4 bytes per pixel (as a canvas ImageData). */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export interface GridOptions {
  /** Tiles per row of the grid. Default: ⌈√(number of tiles)⌉ (a near-square grid). */
  cols?: number;
  /** Border in pixels around and between tiles. Default 1. */
  padding?: number;
  /** Gray level 0 … 255 of the border and of empty grid cells. Default 0 (black, as display_network). */
  background?: number;
  /** Integer magnification, nearest neighbour. Default 1. */
  zoom?: number;
}

export interface FeatureTileOptions extends GridOptions {
  /** Tile width in pixels. Default √nIn (nIn must then be a perfect square). */
  tileWidth?: number;
}

function checkInt(v: number, what: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new SpecError(`${what} must be an integer ≥ ${min}, got ${v}`);
}

interface Layout {
  tileW: number;
  tileH: number;
  cols: number;
  rows: number;
  pad: number;
  width: number;
  height: number;
}

function gridLayout(count: number, tileW: number, tileH: number, opts: GridOptions): Layout {
  const cols = opts.cols ?? Math.max(1, Math.ceil(Math.sqrt(count)));
  checkInt(cols, 'cols', 1);
  const pad = opts.padding ?? 1;
  checkInt(pad, 'padding', 0);
  const rows = Math.max(1, Math.ceil(count / cols));
  return { tileW, tileH, cols, rows, pad, width: cols * tileW + (cols + 1) * pad, height: rows * tileH + (rows + 1) * pad };
}

function blank(L: Layout, background: number): RgbaImage {
  const rgba = new Uint8ClampedArray(L.width * L.height * 4);
  for (let p = 0; p < rgba.length; p += 4) {
    rgba[p] = rgba[p + 1] = rgba[p + 2] = background;
    rgba[p + 3] = 255;
  }
  return { width: L.width, height: L.height, rgba };
}

// Writes gray levels gray(j) ∈ [0, 255] of tile t (j row-major within the tile).
function paintTile(img: RgbaImage, L: Layout, t: number, gray: (j: number) => number): void {
  const gx = t % L.cols;
  const gy = Math.floor(t / L.cols);
  const x0 = L.pad + gx * (L.tileW + L.pad);
  const y0 = L.pad + gy * (L.tileH + L.pad);
  for (let r = 0; r < L.tileH; r++) {
    for (let c = 0; c < L.tileW; c++) {
      const v = gray(r * L.tileW + c);
      const p = ((y0 + r) * img.width + x0 + c) * 4;
      img.rgba[p] = img.rgba[p + 1] = img.rgba[p + 2] = v;
    }
  }
}

/** Nearest-neighbour magnification by an integer factor. */
export function upscale(img: RgbaImage, factor: number): RgbaImage {
  checkInt(factor, 'zoom', 1);
  if (factor === 1) return img;
  const width = img.width * factor;
  const height = img.height * factor;
  const rgba = new Uint8ClampedArray(width * height * 4);
  const src = img.rgba;
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / factor) * img.width;
    for (let x = 0; x < width; x++) {
      const s = (sy + Math.floor(x / factor)) * 4;
      const d = (y * width + x) * 4;
      rgba[d] = src[s]!;
      rgba[d + 1] = src[s + 1]!;
      rgba[d + 2] = src[s + 2]!;
      rgba[d + 3] = src[s + 3]!;
    }
  }
  return { width, height, rgba };
}

/**
 * One tile per hidden unit i of a weight matrix W (nOut × nIn, row-major:
 * W[i·nIn + j] is the weight from input j to unit i, the layout of θ). Tile i shows
 * the norm-bounded input that maximally activates unit i (CS294A notes, §4):
 *   x_j = W_ij / √(Σ_j W_ij²),
 * then, as UFLDL's display_network, each tile is divided by its own max |x_j| and
 * [−1, 1] is mapped to [0, 255] (0 → mid gray). Tiles sit in a near-square grid
 * separated by a dark 1-pixel border; a unit with all-zero weights shows flat gray.
 */
export function featureTiles(W: Float64Array | Float32Array, nOut: number, nIn: number, opts: FeatureTileOptions = {}): RgbaImage {
  checkInt(nOut, 'featureTiles: nOut', 1);
  checkInt(nIn, 'featureTiles: nIn', 1);
  if (W.length !== nOut * nIn) throw new SpecError(`featureTiles: W of ${nOut} × ${nIn} needs ${nOut * nIn} values, got ${W.length}`);
  let tileW = opts.tileWidth;
  if (tileW === undefined) {
    tileW = Math.round(Math.sqrt(nIn));
    if (tileW * tileW !== nIn) throw new SpecError(`featureTiles: nIn = ${nIn} is not a perfect square; pass tileWidth`);
  }
  checkInt(tileW, 'featureTiles: tileWidth', 1);
  if (nIn % tileW !== 0) throw new SpecError(`featureTiles: tileWidth ${tileW} does not divide nIn = ${nIn}`);
  const L = gridLayout(nOut, tileW, nIn / tileW, opts);
  const img = blank(L, opts.background ?? 0);
  const x = new Float64Array(nIn);
  for (let i = 0; i < nOut; i++) {
    let ss = 0;
    for (let j = 0; j < nIn; j++) {
      const w = W[i * nIn + j]!;
      if (!Number.isFinite(w)) throw new SpecError(`featureTiles: W[${i}][${j}] is ${w}`);
      ss += w * w;
    }
    const norm = Math.sqrt(ss);
    let max = 0;
    for (let j = 0; j < nIn; j++) {
      x[j] = norm > 0 ? W[i * nIn + j]! / norm : 0;
      max = Math.max(max, Math.abs(x[j]!));
    }
    paintTile(img, L, i, (j) => Math.round(((max > 0 ? x[j]! / max : 0) + 1) * 127.5));
  }
  return upscale(img, opts.zoom ?? 1);
}

export interface ImageGridOptions extends GridOptions {
  /**
   * 'clamp' (default): values are taken as [0, 1] intensities, clamped.
   * 'minmax': each tile is stretched from its own min … max to 0 … 255.
   */
  scale?: 'clamp' | 'minmax';
}

function rowsOf(images: Float64Array[] | Float32Array[] | Matrix, n: number): ArrayLike<number>[] {
  if (Array.isArray(images)) return images;
  const m = images as Matrix;
  if (m.cols !== n) throw new SpecError(`imageGrid: rows have ${m.cols} values, but tiles are ${n} pixels`);
  const out: ArrayLike<number>[] = [];
  for (let i = 0; i < m.rows; i++) out.push(m.data.subarray(i * n, (i + 1) * n));
  return out;
}

/** Images (one per row, tileW × tileH, row-major) in a grid. */
export function imageGrid(images: Float64Array[] | Float32Array[] | Matrix, tileW: number, tileH: number, opts: ImageGridOptions = {}): RgbaImage {
  checkInt(tileW, 'imageGrid: tileW', 1);
  checkInt(tileH, 'imageGrid: tileH', 1);
  const n = tileW * tileH;
  const rows = rowsOf(images, n);
  const L = gridLayout(rows.length, tileW, tileH, opts);
  const img = blank(L, opts.background ?? 0);
  rows.forEach((row, t) => {
    if (row.length !== n) throw new SpecError(`imageGrid: image ${t} has ${row.length} values, expected ${tileW} × ${tileH} = ${n}`);
    if (opts.scale === 'minmax') {
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < n; j++) {
        lo = Math.min(lo, row[j]!);
        hi = Math.max(hi, row[j]!);
      }
      const span = hi - lo;
      paintTile(img, L, t, (j) => (span > 0 ? Math.round(((row[j]! - lo) / span) * 255) : 128));
    } else {
      paintTile(img, L, t, (j) => {
        const v = row[j]!;
        return Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, v)) * 255);
      });
    }
  });
  return upscale(img, opts.zoom ?? 1);
}

/**
 * Inputs next to their reconstructions: each pair (input i, output i) side by side,
 * `pairsPerRow` pairs per grid row (default ⌈√count⌉). The border defaults to dark
 * gray (96) so that pairs of dark-background images (MNIST) stay apart.
 */
export function reconstructionGrid(
  inputs: Matrix,
  outputs: Matrix,
  tileW: number,
  tileH: number,
  opts: Omit<ImageGridOptions, 'cols'> & { pairsPerRow?: number; count?: number } = {},
): RgbaImage {
  if (inputs.rows !== outputs.rows || inputs.cols !== outputs.cols) {
    throw new SpecError(`reconstructionGrid: inputs are ${inputs.rows} × ${inputs.cols} but outputs are ${outputs.rows} × ${outputs.cols}`);
  }
  const count = Math.min(opts.count ?? inputs.rows, inputs.rows);
  const a = rowsOf(inputs, tileW * tileH);
  const b = rowsOf(outputs, tileW * tileH);
  const tiles: Float64Array[] = [];
  for (let i = 0; i < count; i++) tiles.push(Float64Array.from(a[i]!), Float64Array.from(b[i]!));
  const pairsPerRow = opts.pairsPerRow ?? Math.max(1, Math.ceil(Math.sqrt(count)));
  return imageGrid(tiles, tileW, tileH, { background: 96, ...opts, cols: 2 * pairsPerRow });
}
