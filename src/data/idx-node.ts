// Reading IDX files (plain or gzip-compressed) from disk. Node only.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { LabeledSet } from './labels.js';
import { idxDataset, idxImages, idxLabels, isGzip, parseIdx, type IdxArray, type IdxImages } from './idx.js';

/** Reads and parses an IDX file, gunzipping it when it starts with 0x1f 0x8b. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read IDX file ${path}: ${(e as Error).message}`);
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: corrupt or truncated gzip data: ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}

export function loadIdxImages(path: string): IdxImages {
  return idxImages(readIdxFile(path), path);
}

export function loadIdxLabels(path: string): Uint8Array {
  return idxLabels(readIdxFile(path), path);
}

/** Images (pixels scaled to [0, 1]) with their labels; the counts must match. */
export function loadIdxDataset(
  imagesPath: string,
  labelsPath: string,
  opts: { dtype?: 'float64' | 'float32'; classes?: number } = {},
): LabeledSet {
  return idxDataset(loadIdxImages(imagesPath), loadIdxLabels(labelsPath), { images: imagesPath, labels: labelsPath }, opts);
}
