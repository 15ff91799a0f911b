// Node file helpers: atomic writes (temporary file, fsync, rename) so that an
// interrupted run never leaves a half-written file behind.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, rmSync } from 'node:fs';
import { SpecError } from '../spec.js';
import { dirname } from 'node:path';

let counter = 0;

/** Writes a file atomically (temporary file in the same folder, fsync, rename); creates the folder. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${++counter}.tmp`;
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new Error(`cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${(e as Error).message}`);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Reads a JSON file and checks it with `check`; every error (missing, not JSON, refused) is a SpecError naming the file. */
export function readJsonFile<T>(path: string, check: (json: unknown) => T): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SpecError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  try {
    return check(json);
  } catch (e) {
    throw new SpecError(`${path}: ${(e as Error).message}`);
  }
}

