// Data matrices: the row-major m × n layout every part of the engine uses
// (one example per row), their construction and the checks of data against a
// network (shapes, finiteness, targets). The network itself is described in spec.ts.

import { SpecError, type Network } from './spec.js';
import { describeValue } from './schema.js';

/** A row-major matrix of examples: `rows` examples × `cols` features (the data layout everywhere). */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array | Float32Array;
}

export function matrix(rows: number, cols: number, data?: ArrayLike<number> | Float64Array | Float32Array): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new SpecError(`matrix shape must be non-negative integers, got ${rows} × ${cols}`);
  }
  if (data === undefined) return { rows, cols, data: new Float64Array(rows * cols) };
  if (data.length !== rows * cols) {
    throw new SpecError(`matrix ${rows} × ${cols} needs ${rows * cols} values, got ${data.length}`);
  }
  const arr = data instanceof Float64Array || data instanceof Float32Array ? data : Float64Array.from(data);
  return { rows, cols, data: arr };
}

/** A matrix's shape and storage: integer rows and cols, a Float64Array or Float32Array (both backends refuse anything else alike). */
export function checkMatrix(name: string, M: Matrix): void {
  if (!M || typeof M !== 'object') throw new SpecError(`${name} must be a matrix { rows, cols, data }, got ${describeValue(M)}`);
  for (const k of ['rows', 'cols'] as const) {
    if (!Number.isInteger(M[k]) || M[k] < 0) throw new SpecError(`${name}.${k} must be a non-negative integer, got ${describeValue(M[k])}`);
  }
  if (!(M.data instanceof Float64Array || M.data instanceof Float32Array)) {
    throw new SpecError(`${name}.data must be a Float64Array or Float32Array (matrix(rows, cols, values) converts a plain list), got ${describeValue(M.data)}`);
  }
}

export function assertFinite(name: string, m: Matrix): void {
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      const r = Math.floor(i / m.cols);
      throw new SpecError(`${name} contains ${d[i]} at example ${r}, feature ${i - r * m.cols}`);
    }
  }
}

/** The X half of checkData (inference needs no targets): X is m × n1, not empty, finite. */
export function checkInput(net: Network, X: Matrix): void {
  const n1 = net.layers[0]!;
  checkMatrix('X', X);
  if (X.rows === 0) throw new SpecError('the data set is empty (0 examples)');
  if (X.cols !== n1) throw new SpecError(`X has ${X.cols} features per example but the input layer has ${n1} units`);
  if (X.data.length !== X.rows * X.cols) throw new SpecError(`X says ${X.rows} × ${X.cols} but holds ${X.data.length} values`);
  assertFinite('X', X);
}

/**
 * Checks data against the network: X is m × n1, Y is m × nL (Y is X for an autoencoder).
 * Returns the target matrix to use.
 */
export function checkData(net: Network, X: Matrix, Y?: Matrix | null): Matrix {
  const nL = net.layers[net.layers.length - 1]!;
  checkInput(net, X);
  if (Y) checkMatrix('Y', Y);
  if (net.autoencoder) {
    if (Y && Y !== X) throw new SpecError('an autoencoder takes no targets (y = x); pass Y = undefined');
    return X;
  }
  if (!Y) throw new SpecError('targets Y are required for a network that is not an autoencoder');
  if (Y.rows !== X.rows) throw new SpecError(`Y has ${Y.rows} examples but X has ${X.rows}`);
  if (Y.cols !== nL) throw new SpecError(`Y has ${Y.cols} values per example but the output layer has ${nL} units`);
  if (Y.data.length !== Y.rows * Y.cols) throw new SpecError(`Y says ${Y.rows} × ${Y.cols} but holds ${Y.data.length} values`);
  assertFinite('Y', Y);
  return Y;
}
