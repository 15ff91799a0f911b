// The float64 CPU backend of the Model contract: θ in a Float64Array, every
// method a call into the CPU reference (src/cpu/network.ts).

import { cpuCost, cpuForward } from './network.js';
import { paramLayout, type ParamLayout } from '../params.js';
import { SpecError, type Network } from '../spec.js';
import type { Matrix } from '../matrix.js';
import { checkLayer, checkTheta, type CostOptions, type CostReport, type Model } from '../model-contract.js';

export class CpuModel implements Model {
  readonly backend = 'cpu' as const;
  readonly layout: ParamLayout;
  private theta: Float64Array;
  private disposed = false;

  constructor(readonly network: Network, theta: Float64Array) {
    this.layout = paramLayout(network);
    this.theta = theta;
  }

  setParameters(theta: ArrayLike<number>): void {
    this.live();
    checkTheta(this.layout, theta);
    this.theta = Float64Array.from(theta);
  }

  async readParameters(): Promise<Float64Array> {
    this.live();
    return this.theta.slice();
  }

  async cost(X: Matrix, Y?: Matrix, opts: CostOptions = {}): Promise<CostReport> {
    this.live();
    return cpuCost(this.network, this.theta, X, Y, { gradient: opts.gradient ?? true });
  }

  async predict(X: Matrix): Promise<Matrix> {
    return this.encode(X, this.network.layers.length);
  }

  async encode(X: Matrix, layer = 2): Promise<Matrix> {
    this.live();
    checkLayer(this.network, layer);
    const { A } = cpuForward(this.network, this.theta, X);
    return { rows: X.rows, cols: this.network.layers[layer - 1]!, data: A[layer - 2]! };
  }

  private live(): void {
    if (this.disposed) throw new SpecError('this model has been disposed');
  }

  dispose(): void {
    this.disposed = true;
  }
}
