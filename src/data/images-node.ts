// Loading PNG/JPEG files from disk as grayscale images. Node only.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeGray, type GrayImage } from './images.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** One PNG or JPEG file as a grayscale image in [0, 1]; `name` is the file's base name. */
export function loadImage(path: string): GrayImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read image ${path}: ${(e as Error).message}`);
  }
  const img = decodeGray(bytes, path);
  img.name = basename(path);
  return img;
}

/** Every .png/.jpg/.jpeg file directly in `dir`, sorted by name, as grayscale images. */
export function loadImageFolder(dir: string): GrayImage[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`cannot read image folder ${dir}: ${(e as Error).message}`);
  }
  const files = names.filter((n) => IMAGE_EXT.test(n)).sort();
  if (files.length === 0) throw new Error(`image folder ${dir} holds no .png, .jpg or .jpeg files`);
  return files.map((n) => loadImage(join(dir, n)));
}
