// The demo's data sources: the embedded MNIST digits, patches of the natural
// photographs (when the build has them), and patches of images dropped on the
// page. Each gives training rows and held-out rows (the held-out cost, ρ̂, the
// reconstructions shown and the inputs that excite a unit most).

import { normalizePatches, rgbaToGray, samplePatches, type GrayImage, type Matrix } from '../src/index.js';
import { whitenImage } from '../src/data/whiten-images.js';
import type { Controls } from './controls.js';

export interface DemoData {
  X: Matrix;
  heldOut: Matrix;
  side: number;
  /** Pixel range, for the reconstruction error in words. */
  range: [number, number];
  /** What the examples are, for the page and for the held-out wording ("digits", "patches"). */
  description: string;
  noun: string;
  preprocessing: Record<string, unknown>;
  /** The held-out rows' digits 0 … 9 (the digits; null when the build has no labels), to colour a VAE's codes. */
  heldOutLabels?: Uint8Array | null;
}

/** Held-out inputs shown with their reconstructions. */
export const SHOWN = 10;

let mnistBytes: Promise<Uint8Array | null> | null = null;
let mnistLabels: Promise<Uint8Array | null> | null = null;
let naturalP: Promise<GrayImage[] | null> | null = null;
export const droppedImages: GrayImage[] = [];

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url).catch(() => null);
  if (!r || !r.ok) return null;
  return new Uint8Array(await r.arrayBuffer());
}

/** Whether this build has the natural photographs (a HEAD request; nothing is downloaded). */
export async function naturalAvailable(): Promise<boolean> {
  const r = await fetch('data/natural.bin', { method: 'HEAD' }).catch(() => null);
  return !!r && r.ok;
}

async function mnistData(): Promise<DemoData> {
  mnistBytes ??= fetchBytes('data/mnist.bin');
  mnistLabels ??= fetchBytes('data/mnist-labels.bin');
  const [bytes, labels] = await Promise.all([mnistBytes, mnistLabels]);
  if (!bytes) throw new Error('The digits (data/mnist.bin) are missing from this build of the page.');
  const n = bytes.length / 784;
  const held = Math.min(500, Math.floor(n / 10));
  const m = n - held;
  const X = new Float32Array(m * 784);
  for (let i = 0; i < X.length; i++) X[i] = bytes[i]! / 255;
  const H = new Float32Array(held * 784);
  for (let i = 0; i < H.length; i++) H[i] = bytes[m * 784 + i]! / 255;
  return {
    X: { rows: m, cols: 784, data: X },
    heldOut: { rows: held, cols: 784, data: H },
    side: 28,
    range: [0, 1],
    description: `${m} MNIST digits (28 × 28, pixels in [0, 1]); ${held} held out`,
    noun: 'digits',
    preprocessing: { demo: 'mnist', scale: '1/255' },
    heldOutLabels: labels && labels.length === n ? labels.slice(m, n) : null,
  };
}

function decodeNatural(b: Uint8Array): GrayImage[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(0, true);
  const images: GrayImage[] = [];
  let off = 4 + 8 * count;
  for (let i = 0; i < count; i++) {
    const width = dv.getUint32(4 + 8 * i, true);
    const height = dv.getUint32(8 + 8 * i, true);
    const data = Float64Array.from(new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + width * height * 4)));
    images.push({ width, height, data, name: `natural ${i + 1}` });
    off += width * height * 4;
  }
  return images;
}

const TRAIN_PATCHES = 10000;
const HELD_PATCHES = 500;

function patchData(images: GrayImage[], size: number, what: string): DemoData {
  const count = TRAIN_PATCHES + HELD_PATCHES;
  const P = normalizePatches(samplePatches(images, { count, size, seed: 1 }));
  const n = size * size;
  return {
    X: { rows: TRAIN_PATCHES, cols: n, data: Float32Array.from(P.data.subarray(0, TRAIN_PATCHES * n)) },
    heldOut: { rows: HELD_PATCHES, cols: n, data: Float32Array.from(P.data.subarray(TRAIN_PATCHES * n)) },
    side: size,
    range: [0.1, 0.9],
    description: `${TRAIN_PATCHES} random ${size} × ${size} patches of ${what}, scaled to [0.1, 0.9] as UFLDL; ${HELD_PATCHES} held out`,
    noun: 'patches',
    preprocessing: { demo: 'patches', size, normalize: 'ufldl' },
  };
}

/** The examples the controls ask for (`side`: a loaded model's patch size). */
export async function loadData(c: Controls, side?: number): Promise<DemoData> {
  if (c.data === 'mnist' || c.data === 'mnist-vae') return mnistData();
  const size = side ?? c.patch;
  if (c.data === 'natural') {
    naturalP ??= fetchBytes('data/natural.bin').then((b) => (b ? decodeNatural(b) : null));
    const imgs = await naturalP;
    if (!imgs) throw new Error('The natural photographs are not in this build of the page: choose the digits, or drop your own photographs.');
    return patchData(imgs, size, `${imgs.length} whitened photographs`);
  }
  if (droppedImages.length === 0) throw new Error('Drop one or more images on the page (or click the drop zone) first.');
  const imgs = c.whiten ? droppedImages.map((im) => whitenImage(im)) : droppedImages;
  return patchData(imgs, size, `${droppedImages.length} dropped image(s)${c.whiten ? ', whitened' : ''}`);
}

export async function imageFromFile(file: File): Promise<GrayImage> {
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 512 / Math.max(bmp.width, bmp.height));
  const w = Math.max(1, Math.round(bmp.width * scale));
  const h = Math.max(1, Math.round(bmp.height * scale));
  const cv = document.createElement('canvas');
  cv.width = w;
  cv.height = h;
  const g = cv.getContext('2d')!;
  g.drawImage(bmp, 0, 0, w, h);
  return rgbaToGray(g.getImageData(0, 0, w, h).data, w, h, file.name);
}
