// Reading IDX files (plain or gzip-compressed) from disk. Node only.

import { readFileSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { SpecError } from '../spec.js';
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
  if (isGzip(bytes)) bytes = gunzipIdx(bytes, path);
  return parseIdx(bytes, path);
}

/** Deflate cannot compress better than about 1032 : 1; a header declaring more than this is not to be believed. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Gunzips an IDX file with a size cap derived from its own header: the
 * header is read from a small prefix first, and the whole file may inflate to
 * no more than the header + data size it declares (so a small file that
 * inflates to gigabytes is refused after inflating only what it declared).
 */
export function gunzipIdx(gz: Uint8Array, path: string): Uint8Array {
  const fail = (why: string): Error => new SpecError(`${path}: corrupt or truncated gzip data: ${why}`);
  let head: Uint8Array = new Uint8Array(0);
  for (const n of [64, 1024, 16384]) {
    try {
      // Z_SYNC_FLUSH: inflate what this prefix holds without requiring the end of the stream (≤ 1032·n bytes).
      head = gunzipSync(gz.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (e) {
      throw fail((e as Error).message);
    }
    if (head.length >= 4 && head.length >= 4 + 4 * head[3]! ) break;
    if (n >= gz.length) break;
  }
  if (head.length < 4 || head.length < 4 + 4 * head[3]!) {
    // Too short to hold a header: let parseIdx name the problem on the (small) whole.
    try {
      return gunzipSync(gz, { maxOutputLength: 4 + 4 * 255 });
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  const nd = head[3]!;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let declared = 4 + 4 * nd;
  let size = 1;
  for (let k = 0; k < nd; k++) size *= view.getUint32(4 + 4 * k, false);
  declared += size;
  if (declared > MAX_DEFLATE_RATIO * gz.length + 1024) {
    throw new SpecError(`${path}: its IDX header declares ${declared} bytes, more than its ${gz.length} compressed bytes can hold (corrupt or truncated file)`);
  }
  try {
    return gunzipSync(gz, { maxOutputLength: Math.max(declared, 1) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SpecError(`${path}: inflates to more than the ${declared} bytes its IDX header declares (dimensions ${Array.from({ length: nd }, (_, k) => view.getUint32(4 + 4 * k, false)).join(' × ')}); refused`);
    }
    throw fail((e as Error).message);
  }
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
