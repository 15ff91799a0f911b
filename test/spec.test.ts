// Bad specs, data and parameters: each is rejected with a SpecError whose
// message names the offending value.
import { describe, expect, it } from 'vitest';
import { cpuCost, cpuForward } from '../src/cpu/network.js';
import { initParameters } from '../src/params.js';
import { resolveSpec, SpecError, type NetworkSpec } from '../src/spec.js';
import { matrix } from '../src/matrix.js';

const base: NetworkSpec = { layers: [4, 3, 2], activation: 'sigmoid' };

function specError(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a SpecError matching ${pattern}`).toBeInstanceOf(SpecError);
  expect((err as Error).message).toMatch(pattern);
}

const ones = (rows: number, cols: number) => matrix(rows, cols, new Float64Array(rows * cols).fill(1));

describe('data errors', () => {
  const net = resolveSpec(base);
  const theta = initParameters(net, { seed: 1 });

  it('X columns vs n1', () => {
    specError(() => cpuCost(net, theta, ones(5, 3), ones(5, 2), { gradient: true }), /X has 3 features.*input layer has 4/);
    specError(() => cpuForward(net, theta, ones(5, 6)), /X has 6 features.*4 units/);
  });

  it('Y rows vs X rows, Y columns vs nL', () => {
    specError(() => cpuCost(net, theta, ones(5, 4), ones(6, 2), { gradient: true }), /Y has 6 examples but X has 5/);
    specError(() => cpuCost(net, theta, ones(5, 4), ones(5, 3), { gradient: true }), /Y has 3 values.*output layer has 2/);
  });

  it('missing targets for a network that is not an autoencoder', () => {
    specError(() => cpuCost(net, theta, ones(5, 4), undefined, { gradient: true }), /targets Y are required/);
  });

  it('NaN and Infinity in X or Y', () => {
    const X = ones(3, 4);
    X.data[6] = NaN;
    specError(() => cpuCost(net, theta, X, ones(3, 2), { gradient: true }), /X contains NaN at example 1, feature 2/);
    specError(() => cpuForward(net, theta, X), /X contains NaN/);
    const Y = ones(3, 2);
    Y.data[5] = -Infinity;
    specError(() => cpuCost(net, theta, ones(3, 4), Y, { gradient: true }), /Y contains -Infinity at example 2, feature 1/);
    const X2 = ones(2, 4);
    X2.data[0] = Infinity;
    specError(() => cpuForward(net, theta, X2), /X contains Infinity at example 0, feature 0/);
  });

  it('empty data (0 rows)', () => {
    specError(() => cpuCost(net, theta, matrix(0, 4), matrix(0, 2), { gradient: true }), /empty \(0 examples\)/);
    specError(() => cpuForward(net, theta, matrix(0, 4)), /empty \(0 examples\)/);
  });

  it('θ of the wrong length', () => {
    specError(() => cpuCost(net, new Float64Array(5), ones(2, 4), ones(2, 2), { gradient: false }), /θ has 5 values but the network needs 23/);
    specError(() => cpuForward(net, new Float64Array(24), ones(2, 4)), /θ has 24 values.*23/);
  });
});

describe('spec errors', () => {
  it('ρ outside (0, 1)', () => {
    for (const rho of [0, 1, 1.5, -0.1]) {
      specError(() => resolveSpec({ ...base, sparsity: { rho, beta: 3 } }), new RegExp(`rho must lie in \\(0, 1\\), got ${rho}`));
    }
  });

  it('negative λ or β', () => {
    specError(() => resolveSpec({ ...base, lambda: -1e-4 }), /lambda .*got -0\.0001/);
    specError(() => resolveSpec({ ...base, sparsity: { rho: 0.1, beta: -3 } }), /beta must be ≥ 0, got -3/);
  });

  it('unknown activation and loss', () => {
    specError(() => resolveSpec({ ...base, activation: 'swish' as never }), /unknown activation "swish"/);
    specError(() => resolveSpec({ ...base, loss: 'hinge' as never }), /unknown loss "hinge"/);
  });

  it('softmax with squared loss', () => {
    specError(() => resolveSpec({ layers: [4, 3], activation: 'softmax', loss: 'squared' }), /softmax output layer needs loss softmax-cross-entropy, got squared/);
  });

  it('step activation: cpuCost refuses to train, forward works', () => {
    const net = resolveSpec({ layers: [2, 2, 1], activation: ['step', 'sigmoid'] });
    const theta = Float64Array.of(1, 0, 0, 1, 0, 0, 1, 1, 0);
    specError(() => cpuCost(net, theta, ones(1, 2), ones(1, 1), { gradient: true }), /layer 2 uses the step activation/);
    const { A } = cpuForward(net, theta, matrix(2, 2, [1, -1, -1, -2]));
    expect(Array.from(A[0]!)).toEqual([1, 0, 0, 0]);
  });

  it('sparsity on the output or input layer', () => {
    specError(() => resolveSpec({ ...base, sparsity: { rho: 0.1, beta: 3, layers: [3] } }), /sparsity layer 3 is not a hidden layer/);
    specError(() => resolveSpec({ ...base, sparsity: { rho: 0.1, beta: 3, layers: [1] } }), /sparsity layer 1 is not a hidden layer/);
    specError(() => resolveSpec({ ...base, l1: { weight: 0.1, layers: [3] } }), /l1 layer 3 is not a hidden layer/);
  });
});
