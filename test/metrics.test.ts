// Accuracy and the confusion matrix (rows = true class, columns = predicted).
import { describe, expect, it } from 'vitest';
import { accuracy, argmaxRows, confusionAccuracy, confusionMatrix, formatConfusionMatrix } from '../src/metrics.js';

describe('classification metrics', () => {
  const scores = { rows: 5, cols: 3, data: Float64Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.5, 0.5, 0, 0.1, 0.1, 0.8]) };
  const labels = Uint8Array.from([0, 1, 1, 1, 2]);

  it('argmax takes the first of tied scores', () => {
    expect(Array.from(argmaxRows(scores))).toEqual([0, 1, 2, 0, 2]);
  });

  it('accuracy from scores or from predicted classes', () => {
    expect(accuracy(scores, labels)).toBe(3 / 5);
    expect(accuracy([0, 1, 2, 0, 2], labels)).toBe(3 / 5);
  });

  it('confusion matrix: rows are true classes, columns predictions; its trace is the accuracy', () => {
    const cm = confusionMatrix(scores, labels, 3);
    expect(cm).toEqual([
      [1, 0, 0],
      [1, 1, 1],
      [0, 0, 1],
    ]);
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(5);
    expect(confusionAccuracy(cm)).toBe(accuracy(scores, labels));
    const text = formatConfusionMatrix(cm);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/true\\pred\s+0\s+1\s+2\s+recall/);
    expect(lines[2]).toMatch(/^\s*1\s+1\s+1\s+1\s+33\.3%$/);
  });

  it('errors name the offending value', () => {
    expect(() => accuracy([0, 1], labels)).toThrow(/2 predictions for 5 labels/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/prediction 3 of example 1/);
    expect(() => confusionMatrix([0, 1], [0, 7], 3)).toThrow(/label 7 of example 1/);
    expect(() => confusionMatrix([0], [0], 0)).toThrow(/classes must be a positive integer, got 0/);
  });
});
