// The float64 CPU backend of the Model contract: θ in a Float64Array, every
// method a call into the CPU reference (src/cpu/network.ts).

import { cpuCost, cpuForward } from './network.js';
import { paramLayout, type ParamLayout } from '../params.js';
import { SpecError, type Network } from '../spec.js';
import { checkData, type Matrix } from '../matrix.js';
import { checkDataPrecision, roundedToF16 } from '../f16.js';
import { checkLayer, checkMaxDataBytes, checkTheta, checkVaeEval, checkVaeLayer, type CostOptions, type CostReport, type Dataset, type DatasetOptions, type Encoding, type Model, type ModelObjective, type ObjectiveOptions, type VaeEvalOptions, type VaeEvaluation } from '../model-contract.js';
import { cpuVaeDecode, cpuVaeEncode, cpuVaeNegElbo, cpuVaeNll, sampleLatent } from './vae.js';
import { asCpuDataset, cpuDataset, cpuModelObjective, CpuDataset } from './objective.js';

export class CpuModel implements Model {
  readonly backend = 'cpu' as const;
  readonly deviceLabel = null;
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
    return cpuCost(this.network, this.theta, X, Y, { gradient: opts.gradient ?? true, noiseSeed: opts.noiseSeed });
  }

  async predict(X: Matrix): Promise<Matrix> {
    return this.encode(X, this.network.layers.length);
  }

  async encode(X: Matrix, layer?: number): Promise<Encoding> {
    this.live();
    const net = this.network;
    if (net.vae) {
      layer = checkVaeLayer(net, layer);
      const { mu, logvar } = cpuVaeEncode(net, this.theta, X);
      return layer === net.layers.length ? cpuVaeDecode(net, this.theta, mu) : { ...mu, logvar };
    }
    layer ??= 2;
    checkLayer(this.network, layer);
    const { A } = cpuForward(this.network, this.theta, X);
    return { rows: X.rows, cols: this.network.layers[layer - 1]!, data: A[layer - 2]! };
  }

  /**
   * The examples as they are; `maxDataBytes` is checked and ignored (a CPU data set
   * lives in host memory already). dataPrecision 'f16': each value rounded to the
   * nearest half in float64 (ties to even, subnormals kept), the values a WebGPU
   * f16 data set holds, so this reference computes the same objective.
   */
  dataset(X: Matrix, Y?: Matrix | null, opts: DatasetOptions = {}): CpuDataset {
    this.live();
    checkMaxDataBytes(opts.maxDataBytes);
    if (checkDataPrecision(opts.dataPrecision) === 'f32') return cpuDataset(this.network, X, Y);
    checkData(this.network, X, Y);
    const half = (M: Matrix, what: string): Matrix => ({ rows: M.rows, cols: M.cols, data: roundedToF16(M.data, what, M.cols) });
    return cpuDataset(this.network, half(X, 'X'), Y ? half(Y, 'Y') : Y);
  }

  async encodeDataset(ds: Dataset, layer = 2, opts: { targets?: Matrix } = {}): Promise<CpuDataset> {
    const h = await this.encode(asCpuDataset(ds).X, layer);
    if (opts.targets && opts.targets.rows !== h.rows) throw new SpecError(`targets have ${opts.targets.rows} examples but the data set has ${h.rows}`);
    return new CpuDataset(h, opts.targets);
  }

  objective(ds: Dataset, opts: ObjectiveOptions = {}): ModelObjective<Float64Array> {
    this.live();
    return cpuModelObjective(this.network, this.theta, ds, opts, (theta) => this.setParameters(theta));
  }

  /** Nothing to free: a CPU data set is garbage-collected. */
  release(ds: Dataset): void {
    asCpuDataset(ds);
  }


  async decode(Z: Matrix): Promise<Matrix> {
    return cpuVaeDecode(this.network, this.theta, Z);
  }

  async sample(n: number, opts: { seed?: number } = {}): Promise<Matrix> {
    return cpuVaeDecode(this.network, this.theta, sampleLatent(this.network, n, opts.seed ?? 1));
  }

  async evaluateVae(X: Matrix, opts: VaeEvalOptions = {}): Promise<VaeEvaluation> {
    const { samples, seed } = checkVaeEval(opts);
    const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    const negElbo = mean(cpuVaeNegElbo(this.network, this.theta, X, seed));
    return { negElbo, nll: samples ? mean(cpuVaeNll(this.network, this.theta, X, samples, seed)) : null, samples };
  }

  private live(): void {
    if (this.disposed) throw new SpecError('this model has been disposed');
  }

  dispose(): void {
    this.disposed = true;
  }
}
