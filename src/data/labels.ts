// Labeled data sets and label helpers. Browser-safe (no node: imports).
//
// Layout: X is a row-major Matrix with one example per row; labels[i] is the
// class of row i, an integer in [0, classes).

import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';

export interface LabeledSet {
  /** One example per row. */
  X: Matrix;
  /** labels[i] ∈ [0, classes) is the class of row i of X. */
  labels: Uint8Array;
  /** Number of classes (the width of a one-hot target). */
  classes: number;
}

/** Checks that a LabeledSet is consistent; throws SpecError naming `what` otherwise. */
export function checkLabeledSet(set: LabeledSet, what = 'data set'): void {
  const { X, labels, classes } = set;
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
    throw new SpecError(`${what}: classes must be an integer in 1 … 256, got ${classes}`);
  }
  if (X.data.length !== X.rows * X.cols) {
    throw new SpecError(`${what}: X says ${X.rows} × ${X.cols} but holds ${X.data.length} values`);
  }
  if (labels.length !== X.rows) {
    throw new SpecError(`${what}: ${labels.length} labels for ${X.rows} examples`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) throw new SpecError(`${what}: label ${labels[i]} of example ${i} is not below classes = ${classes}`);
  }
}

/** m × classes matrix with Y[i][labels[i]] = 1 and zeros elsewhere. */
export function oneHot(labels: ArrayLike<number>, classes: number): Matrix {
  if (!Number.isInteger(classes) || classes < 1) throw new SpecError(`oneHot: classes must be a positive integer, got ${classes}`);
  const m = labels.length;
  const data = new Float64Array(m * classes);
  for (let i = 0; i < m; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new SpecError(`oneHot: label ${c} of example ${i} is not an integer in [0, ${classes})`);
    }
    data[i * classes + c] = 1;
  }
  return { rows: m, cols: classes, data };
}

/** The examples whose index is listed, in that order (copies the rows). */
export function selectRows(set: LabeledSet, indices: ArrayLike<number>): LabeledSet {
  const { X } = set;
  const n = X.cols;
  const out = X.data instanceof Float32Array ? new Float32Array(indices.length * n) : new Float64Array(indices.length * n);
  const labels = new Uint8Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= X.rows) throw new SpecError(`selectRows: index ${i} is outside 0 … ${X.rows - 1}`);
    out.set(X.data.subarray(i * n, (i + 1) * n), r * n);
    labels[r] = set.labels[i]!;
  }
  return { X: { rows: indices.length, cols: n, data: out }, labels, classes: set.classes };
}

export interface FilterOptions {
  /**
   * Renumber the kept classes 0 … classes.length − 1 in the order given (so
   * filterClasses(set, [5, 6, 7, 8, 9], { relabel: true }) maps 5 → 0 … 9 → 4)
   * and set `classes` to classes.length. Default false: labels and `classes` are kept.
   */
  relabel?: boolean;
}

/**
 * The examples whose label is one of `classes`, in their original order.
 * For self-taught learning on MNIST: filterClasses(set, [5, 6, 7, 8, 9]) for the
 * unlabeled autoencoder data and filterClasses(set, [0, 1, 2, 3, 4]) for the
 * labeled classifier data.
 */
export function filterClasses(set: LabeledSet, classes: number[], opts: FilterOptions = {}): LabeledSet {
  if (classes.length === 0) throw new SpecError('filterClasses: the list of classes is empty');
  const map = new Int16Array(256).fill(-1);
  classes.forEach((c, k) => {
    if (!Number.isInteger(c) || c < 0 || c >= set.classes) {
      throw new SpecError(`filterClasses: class ${c} is not an integer in [0, ${set.classes})`);
    }
    if (map[c] !== -1) throw new SpecError(`filterClasses: class ${c} is listed twice`);
    map[c] = k;
  });
  const keep: number[] = [];
  for (let i = 0; i < set.labels.length; i++) if (map[set.labels[i]!] !== -1) keep.push(i);
  const out = selectRows(set, keep);
  if (opts.relabel) {
    for (let i = 0; i < out.labels.length; i++) out.labels[i] = map[out.labels[i]!]!;
    out.classes = classes.length;
  }
  return out;
}

/** How many examples of each class: counts[c] for c in [0, classes). */
export function classCounts(set: LabeledSet): number[] {
  const counts = new Array<number>(set.classes).fill(0);
  for (let i = 0; i < set.labels.length; i++) counts[set.labels[i]!]!++;
  return counts;
}
