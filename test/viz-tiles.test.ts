import { describe, expect, it } from 'vitest';
import { featureTiles, imageGrid, reconstructionGrid, upscale, type RgbaImage } from '../src/viz/tiles.js';
import { Rng } from '../src/prng.js';

function gray(img: RgbaImage, x: number, y: number): number {
  const p = (y * img.width + x) * 4;
  expect(img.rgba[p]).toBe(img.rgba[p + 1]);
  expect(img.rgba[p]).toBe(img.rgba[p + 2]);
  expect(img.rgba[p + 3]).toBe(255);
  return img.rgba[p]!;
}

/** The tile at grid cell t (cols per row, tile w × h, 1-pixel padding) as gray levels. */
function tile(img: RgbaImage, t: number, cols: number, w: number, h: number): number[] {
  const x0 = 1 + (t % cols) * (w + 1);
  const y0 = 1 + Math.floor(t / cols) * (h + 1);
  const out: number[] = [];
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out.push(gray(img, x0 + c, y0 + r));
  return out;
}

describe('featureTiles', () => {
  // 10 hidden units on 8 × 8 inputs: a 4 × 3 grid.
  const nOut = 10;
  const nIn = 64;
  const rng = new Rng(1);
  const W = Float64Array.from({ length: nOut * nIn }, () => rng.normal());
  // Unit 5 is a known pattern: a vertical edge, −1 on the left half, +1 on the right, scaled by 7.
  const pattern = Array.from({ length: nIn }, (_, j) => (j % 8 < 4 ? -1 : 1));
  pattern.forEach((v, j) => (W[5 * nIn + j] = 7 * v));
  // Unit 2 is all zero.
  W.fill(0, 2 * nIn, 3 * nIn);
  const img = featureTiles(W, nOut, nIn);

  it('has the grid dimensions of display_network: near-square, 1-pixel dark borders', () => {
    expect(img.width).toBe(4 * 8 + 5);
    expect(img.height).toBe(3 * 8 + 4);
    expect(img.rgba.length).toBe(img.width * img.height * 4);
    for (let x = 0; x < img.width; x++) expect(gray(img, x, 0)).toBe(0);
    for (let y = 0; y < img.height; y++) expect(gray(img, 9, y)).toBe(0);
    // Cells 10 and 11 are empty.
    expect(tile(img, 11, 4, 8, 8).every((v) => v === 0)).toBe(true);
  });

  it('shows a unit’s pattern in its tile, row-major, independent of the weights’ scale', () => {
    const t = tile(img, 5, 4, 8, 8);
    expect(t).toEqual(pattern.map((v) => (v < 0 ? 0 : 255)));
    // Zero weights show flat mid gray.
    expect(tile(img, 2, 4, 8, 8).every((v) => v === 128)).toBe(true);
  });

  it('maps each tile by x_j = W_ij/‖W_i‖, then /max|x|, [−1, 1] → [0, 255]', () => {
    const row = W.subarray(0, nIn);
    const norm = Math.sqrt(row.reduce((a, b) => a + b * b, 0));
    const x = Array.from(row, (w) => w / norm);
    const m = Math.max(...x.map(Math.abs));
    expect(tile(img, 0, 4, 8, 8)).toEqual(x.map((v) => Math.round((v / m + 1) * 127.5)));
    // Each random tile reaches 0 or 255 at its largest |weight|.
    const t0 = tile(img, 0, 4, 8, 8);
    expect(t0.includes(0) || t0.includes(255)).toBe(true);
  });

  it('takes non-square inputs with tileWidth, cols, padding, zoom; rejects bad shapes', () => {
    const w = Float32Array.from({ length: 3 * 12 }, (_, k) => k % 12);
    const a = featureTiles(w, 3, 12, { tileWidth: 4, cols: 3, padding: 2, zoom: 3 });
    expect(a.width).toBe(3 * (3 * 4 + 4 * 2));
    expect(a.height).toBe(3 * (3 + 2 * 2));
    expect(() => featureTiles(w, 3, 12)).toThrow(/nIn = 12 is not a perfect square; pass tileWidth/);
    expect(() => featureTiles(w, 4, 12, { tileWidth: 4 })).toThrow(/W of 4 × 12 needs 48 values, got 36/);
    expect(() => featureTiles(w, 3, 12, { tileWidth: 5 })).toThrow(/tileWidth 5 does not divide nIn = 12/);
  });
});

describe('imageGrid and reconstructionGrid', () => {
  it('clamps [0, 1] intensities or stretches each tile min–max', () => {
    const rows = [Float64Array.from([0, 0.5, 1, 2]), Float64Array.from([-1, 0.25, 3, 7])];
    const clamp = imageGrid(rows, 2, 2);
    expect(clamp.width).toBe(2 * 2 + 3);
    expect(clamp.height).toBe(1 * 2 + 2);
    expect(tile(clamp, 0, 2, 2, 2)).toEqual([0, 128, 255, 255]);
    expect(tile(clamp, 1, 2, 2, 2)).toEqual([0, 64, 255, 255]);
    const mm = imageGrid({ rows: 2, cols: 4, data: Float64Array.from([...rows[0]!, ...rows[1]!]) }, 2, 2, { scale: 'minmax' });
    expect(tile(mm, 1, 2, 2, 2)).toEqual([0, Math.round((1.25 / 8) * 255), Math.round((4 / 8) * 255), 255]);
    expect(() => imageGrid({ rows: 1, cols: 5, data: new Float64Array(5) }, 2, 2)).toThrow(/rows have 5 values, but tiles are 4 pixels/);
  });

  it('puts each input next to its reconstruction', () => {
    const X = { rows: 3, cols: 4, data: Float64Array.from([1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0]) };
    const Y = { rows: 3, cols: 4, data: Float64Array.from([0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1, 0, 1, 0, 1]) };
    const g = reconstructionGrid(X, Y, 2, 2, { pairsPerRow: 2 });
    expect(g.width).toBe(4 * 2 + 5);
    expect(g.height).toBe(2 * 2 + 3);
    expect(gray(g, 0, 0)).toBe(96);
    expect(tile(g, 0, 4, 2, 2)).toEqual([255, 255, 255, 255]);
    expect(tile(g, 1, 4, 2, 2)).toEqual([128, 128, 128, 128]);
    expect(tile(g, 4, 4, 2, 2)).toEqual([255, 0, 255, 0]);
    expect(tile(g, 5, 4, 2, 2)).toEqual([0, 255, 0, 255]);
  });

  it('upscales by nearest neighbour', () => {
    const img = imageGrid([Float64Array.from([0, 1])], 2, 1, { padding: 0 });
    const big = upscale(img, 2);
    expect(big.width).toBe(4);
    expect(big.height).toBe(2);
    expect([0, 1, 2, 3].map((x) => gray(big, x, 1))).toEqual([0, 0, 255, 255]);
  });
});
