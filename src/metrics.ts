// Classification metrics: predicted classes, accuracy and the confusion matrix.
// Browser-safe (no node: imports).
//
// `pred` is either a matrix of class scores (m × classes, one example per row,
// e.g. the softmax outputs of Model.predict) — the predicted class is the
// column of the largest score, the first on ties — or the predicted classes
// themselves.

import { SpecError } from './spec.js';
import { type Matrix } from './matrix.js';

/** The predicted class of each row: the column of the largest score (the first on ties). */
export function argmaxRows(scores: Matrix): Uint16Array {
  const out = new Uint16Array(scores.rows);
  const n = scores.cols;
  for (let i = 0; i < scores.rows; i++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (scores.data[i * n + j]! > scores.data[i * n + best]!) best = j;
    out[i] = best;
  }
  return out;
}

function predicted(pred: Matrix | ArrayLike<number>): ArrayLike<number> {
  return 'rows' in pred && 'cols' in pred ? argmaxRows(pred as Matrix) : (pred as ArrayLike<number>);
}

function checkLengths(p: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (p.length !== labels.length) throw new SpecError(`${p.length} predictions for ${labels.length} labels`);
  if (p.length === 0) throw new SpecError('no examples to score');
}

/** Fraction of examples whose predicted class equals its label. */
export function accuracy(pred: Matrix | ArrayLike<number>, labels: ArrayLike<number>): number {
  const p = predicted(pred);
  checkLengths(p, labels);
  let right = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) right++;
  return right / p.length;
}

/**
 * counts[t][p]: how many examples of true class t were predicted as class p
 * (rows = true class, columns = predicted class).
 */
export function confusionMatrix(pred: Matrix | ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  if (!Number.isInteger(classes) || classes < 1) throw new SpecError(`classes must be a positive integer, got ${classes}`);
  const p = predicted(pred);
  checkLengths(p, labels);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < p.length; i++) {
    const t = labels[i]!;
    const q = p[i]!;
    if (!(t >= 0 && t < classes)) throw new SpecError(`label ${t} of example ${i} is not in [0, ${classes})`);
    if (!(q >= 0 && q < classes)) throw new SpecError(`prediction ${q} of example ${i} is not in [0, ${classes})`);
    m[t]![q]!++;
  }
  return m;
}

/** Accuracy from a confusion matrix (trace / total). */
export function confusionAccuracy(cm: number[][]): number {
  let right = 0;
  let all = 0;
  cm.forEach((row, t) => row.forEach((v, p) => ((all += v), t === p && (right += v))));
  return all ? right / all : 0;
}

/**
 * The confusion matrix as text: a header of predicted classes, one row per true
 * class with its recall, e.g.
 *
 *   true\pred     0     1 …  recall
 *           0   190     0 …   96.9%
 */
export function formatConfusionMatrix(cm: number[][], names?: readonly string[]): string {
  const k = cm.length;
  const label = (c: number): string => names?.[c] ?? String(c);
  const width = Math.max(5, ...cm.flat().map((v) => String(v).length + 1), ...Array.from({ length: k }, (_, c) => label(c).length + 1));
  const first = Math.max('true\\pred'.length, ...Array.from({ length: k }, (_, c) => label(c).length));
  const lines = [`${'true\\pred'.padStart(first)}${Array.from({ length: k }, (_, c) => label(c).padStart(width)).join('')}  recall`];
  cm.forEach((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    const recall = n ? `${((100 * row[t]!) / n).toFixed(1)}%` : '-';
    lines.push(`${label(t).padStart(first)}${row.map((v) => String(v).padStart(width)).join('')}  ${recall.padStart(6)}`);
  });
  return lines.join('\n') + '\n';
}
