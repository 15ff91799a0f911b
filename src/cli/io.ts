// Files the CLI reads and writes: NetworkSpec JSON and raw little-endian
// float64 vectors and matrices. Read errors become UsageErrors that name the file.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/files.js';
import type { Matrix } from '../matrix.js';
import { UsageError } from './args.js';

/** Where the CLI writes: stdout and stderr, injectable for tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`cannot read ${what} file ${path}: ${why}`);
  }
}

export function readJsonFile(path: string, what: string): unknown {
  const text = new TextDecoder().decode(readBytes(path, what));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A raw little-endian float64 file. */
export function readFloat64File(path: string, what: string): Float64Array {
  const bytes = readBytes(path, what);
  if (bytes.byteLength % 8 !== 0) {
    throw new UsageError(`${what} file ${path} has ${bytes.byteLength} bytes, not a whole number of float64 values (8 bytes each)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** A float64 file of examples × `cols` values, row-major; the row count is inferred. */
export function readMatrixFile(path: string, cols: number, what: string): Matrix {
  const data = readFloat64File(path, what);
  if (data.length % cols !== 0) {
    throw new UsageError(`${what} file ${path} has ${data.length * 8} bytes (${data.length} float64 values), not a whole number of rows of ${cols} values`);
  }
  return { rows: data.length / cols, cols, data };
}

/** Little-endian float64 bytes of `values`. */
export function float64Bytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return bytes;
}

/** Writes `values` as little-endian float64, atomically (temporary file `path.tmp-<pid>`, then rename). */
export function writeFloat64File(path: string, values: ArrayLike<number>): void {
  writeFileAtomic(path, float64Bytes(values));
}
