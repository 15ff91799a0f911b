// The float64 CPU backend of the Model contract: θ in a Float64Array, every
// method a call into the CPU reference (src/cpu/network.ts).

import { cpuCost, cpuForward } from './network.js';
import { paramLayout, type ParamLayout } from '../params.js';
import { SpecError, type Network } from '../spec.js';
import type { Matrix } from '../matrix.js';
import { checkLayer, checkTheta, type CostOptions, type CostReport, type Dataset, type Model, type ModelObjective, type ObjectiveOptions } from '../model-contract.js';
import { asCpuDataset, cpuDataset, cpuModelObjective, CpuDataset } from './objective.js';

export class CpuModel implements Model {
  readonly backend = 'cpu' as const;
  readonly deviceLabel = null;
  readonly layout: ParamLayout;
  private theta: Float64Array;

  constructor(readonly network: Network, theta: Float64Array) {
    this.layout = paramLayout(network);
    this.theta = theta;
  }

  setParameters(theta: ArrayLike<number>): void {
    checkTheta(this.layout, theta);
    this.theta = Float64Array.from(theta);
  }

  async readParameters(): Promise<Float64Array> {
    return this.theta.slice();
  }

  async cost(X: Matrix, Y?: Matrix, opts: CostOptions = {}): Promise<CostReport> {
    return cpuCost(this.network, this.theta, X, Y, { gradient: opts.gradient ?? true });
  }

  async predict(X: Matrix): Promise<Matrix> {
    return this.encode(X, this.network.layers.length);
  }

  async encode(X: Matrix, layer = 2): Promise<Matrix> {
    checkLayer(this.network, layer);
    const { A } = cpuForward(this.network, this.theta, X);
    return { rows: X.rows, cols: this.network.layers[layer - 1]!, data: A[layer - 2]! };
  }

  dataset(X: Matrix, Y?: Matrix | null): CpuDataset {
    return cpuDataset(this.network, X, Y);
  }

  async encodeDataset(ds: Dataset, layer = 2, opts: { targets?: Matrix } = {}): Promise<CpuDataset> {
    const h = await this.encode(asCpuDataset(ds).X, layer);
    if (opts.targets && opts.targets.rows !== h.rows) throw new SpecError(`targets have ${opts.targets.rows} examples but the data set has ${h.rows}`);
    return new CpuDataset(h, opts.targets);
  }

  objective(ds: Dataset, opts: ObjectiveOptions = {}): ModelObjective<Float64Array> {
    return cpuModelObjective(this.network, this.theta, ds, opts, (theta) => this.setParameters(theta));
  }

  /** Nothing to free: a CPU data set is garbage-collected. */
  release(ds: Dataset): void {
    asCpuDataset(ds);
  }

  dispose(): void {}
}
