// Decoding PNG (pngjs) and JPEG (jpeg-js) bytes into grayscale images.
// pngjs relies on Node's zlib and Buffer, so this module is for Node; in a browser,
// decode with the platform (createImageBitmap + canvas) and call rgbaToGray.

import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { SpecError } from '../spec.js';
import { rgbaToGray, type GrayImage } from './gray.js';

export { rgbaToGray, LUMA, type GrayImage } from './gray.js';

export type ImageFormat = 'png' | 'jpeg';

/** Sniffs the format from the magic bytes, or null. */
export function imageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** 8-bit RGBA pixels of a PNG or JPEG. `name` (file name) appears in every error. */
export function decodeRgba(bytes: Uint8Array, name: string): { width: number; height: number; rgba: Uint8Array } {
  const format = imageFormat(bytes);
  if (format === 'png') {
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } catch (e) {
      throw new SpecError(`${name}: cannot decode PNG: ${(e as Error).message}`);
    }
  }
  if (format === 'jpeg') {
    try {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, rgba: img.data };
    } catch (e) {
      throw new SpecError(`${name}: cannot decode JPEG: ${(e as Error).message}`);
    }
  }
  throw new SpecError(`${name}: neither a PNG nor a JPEG (starts with bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
}

/** A PNG or JPEG as a grayscale image in [0, 1] (luma 0.299 R + 0.587 G + 0.114 B). */
export function decodeGray(bytes: Uint8Array, name: string): GrayImage {
  const { width, height, rgba } = decodeRgba(bytes, name);
  return rgbaToGray(rgba, width, height, name);
}
