// Writing pictures to disk. Node only.

import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { RgbaImage } from './tiles.js';

export { writeFileAtomic } from '../io/files.js';
import { writeFileAtomic } from '../io/files.js';

/** PNG bytes of an RGBA image. */
export function encodePng(img: RgbaImage): Uint8Array {
  if (img.rgba.length !== img.width * img.height * 4) {
    throw new Error(`encodePng: ${img.width} × ${img.height} needs ${img.width * img.height * 4} bytes, got ${img.rgba.length}`);
  }
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.rgba.buffer, img.rgba.byteOffset, img.rgba.byteLength);
  return PNG.sync.write(png);
}

/** Writes the image as a PNG, atomically. */
export function writePng(path: string, img: RgbaImage): void {
  writeFileAtomic(path, encodePng(img));
}

/** Reads a PNG file as 8-bit RGBA. */
export function readPng(path: string): RgbaImage {
  let png: PNG;
  try {
    png = PNG.sync.read(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read PNG ${path}: ${(e as Error).message}`);
  }
  return { width: png.width, height: png.height, rgba: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}
