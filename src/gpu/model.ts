// The WebGPU model: θ, ∇θ, activations, δ and the data stay in GPU buffers;
// one cost-and-gradient evaluation is one command encoder and one submit.
// This class holds the buffers and the public methods; the step itself (which
// dispatches an evaluation records, named as the CPU reference's steps) is built
// by plan.ts, and data sets (chunking, upload, encodeDataset) live in dataset.ts.

import { paramLayout, type ParamLayout } from '../params.js';
import { assertTrainable, SpecError, type Network } from '../spec.js';
import { assertFinite, checkData, type Matrix } from '../matrix.js';
import { checkLayer, checkMaxDataBytes, checkTheta, float32Bytes, type DatasetOptions, checkVaeEval, checkVaeLayer, type CostOptions, type CostParts, type CostReport, type Dataset, type Encoding, type Model, type ObjectiveOptions, type VaeEvalOptions, type VaeEvaluation } from '../model-contract.js';
import { defaultVaeNoiseSeed, reconstructionConstant } from '../cpu/vae.js';
import { evaluationSeed } from '../noise.js';
import { BufferPool, readF32, STORAGE, writeF32, type PoolStats } from './buffers.js';
import { acquireDevice, adapterLabel, type AdapterDescription, type GpuContext } from './device.js';
import type { EvaluateOptions } from './evaluate-options.js';
export type { EvaluateOptions } from './evaluate-options.js';
import { COLSUM_STRIPS, GEMM_VARIANTS, indirectArgs, Kernels, recordDispatches, type Dispatch, type GemmVariant, type IndirectArgs } from './kernels.js';
import { checkGpuLimits } from '../limits.js';
import { PipelineCache } from './shaders.js';
import { chooseGemmVariant } from './autotune.js';
import { buildPlan, columnMeans, planDispatches, SLOT, SLOTS, type Plan, type PlanContext } from './plan.js';
import { checkEncodeTargets, chunkRows, emptyDataset, encodeDataset, evaluationChunks, GpuDataset, HostDataset, releaseDataset, streamedChunks, uploadDataset, type StreamedChunks } from './dataset.js';
import { checkDataPrecision, type DataPrecision } from '../f16.js';
import { GpuObjective } from './objective.js';

/**
 * The dispatches of one evaluation in order, in segments that each need at most
 * one chunk of the data set: the caller's `before`, the ρ̂ pass chunk by chunk,
 * each chunk's forward, ρ̂ (or the running estimate), terms, cost and backward
 * passes, then the final gradient and cost and the caller's `then`. `evaluate`
 * records them all in one pass; `evaluateStreamed` submits each segment after
 * uploading its chunk, so both run the same dispatches in the same order.
 */
function evaluationSegments(plan: Plan, what: EvaluateOptions, running: Dispatch[] | null): { chunk: number | null; lists: (readonly Dispatch[])[] }[] {
  const wantCost = what.cost ?? true;
  const wantGrad = what.gradient ?? true;
  return [
    { chunk: null, lists: [what.before ?? []] },
    ...plan.rhoChunks.map((part, ci) => ({ chunk: ci, lists: [part] })),
    ...plan.chunks.map((c, ci) => ({ chunk: ci, lists: [c.forward, running ?? c.rho, c.terms, wantCost ? c.cost : [], wantGrad ? c.backward : []] })),
    { chunk: null, lists: [wantGrad ? plan.finalGrad : [], wantCost ? plan.finalCost : [], what.then ?? []] },
  ];
}

function asGpuDataset(ds: Dataset): GpuDataset {
  if (ds instanceof HostDataset) throw new SpecError(`this data set is kept in host memory (${ds.streamed.bytes} bytes as float32, over maxDataBytes ${ds.cap}): it streams to the GPU for training (model.objective, fit), and this operation needs it resident`);
  if (!(ds instanceof GpuDataset)) throw new SpecError(`a WebGPU model trains on GPU data sets (model.dataset(X, Y)); got one on the ${ds.location === 'cpu' ? 'CPU' : ds.location}`);
  return ds;
}

export interface GpuModelOptions {
  /** Force a GEMM variant instead of timing them on first use. */
  gemmVariant?: GemmVariant;
  /** Cap on examples per chunk (default: as many as fit a storage binding). */
  maxChunkRows?: number;
  /**
   * Cap on the bytes of one storage binding, below the device's
   * maxStorageBufferBindingSize (e.g. 134217728, the WebGPU default a browser
   * keeps): data sets are chunked and buffers checked against it.
   */
  maxBindingBytes?: number;
  /** Milliseconds added to every readback, as a browser's mapAsync round trip (benchmarks; default 0). */
  readbackLatencyMs?: number;
}

export class GpuModel implements Model {
  readonly backend = 'webgpu' as const;
  readonly layout: ParamLayout;
  readonly adapter: AdapterDescription;
  /** θ (f32, order of params.ts). Apps may bind it to render weights. */
  readonly thetaBuffer: GPUBuffer;
  /** ∇θ of the last evaluation, same layout as θ. */
  readonly gradBuffer: GPUBuffer;
  /** The parts of J of the last evaluation that computed the cost (see SLOT). */
  readonly scalarsBuffer: GPUBuffer;
  /** ρ̂ of every hidden layer, concatenated (offsets in rhoOffsets). */
  readonly rhoHatBuffer: GPUBuffer;
  /** Denoising: [seed, enabled] (u32) of the input corruption, written before each submit. */
  private readonly noiseState: GPUBuffer;
  /** VAE: [seed, enabled] (u32) of ε, written before each submit (enabled = 0: z = μ). */
  private readonly vaeState: GPUBuffer;
  /** k-sparse: [k] (u32) the top-k kernels read, and the value it holds (rewritten only when it changes). */
  private readonly kState: GPUBuffer | null;
  private kStateValue = 0;
  readonly rhoOffsets: number[];
  private readonly pool: BufferPool;
  /** Kernel launchers on this model's device and pool (optimizers build their updates with it). */
  readonly kernels: Kernels;
  /** Scratch of the column sums (COLSUM_STRIPS × widest layer). */
  private readonly colPartials: GPUBuffer;
  private readonly plans = new Map<GpuDataset, Plan>();
  private disposed = false;

  constructor(
    readonly network: Network,
    readonly ctx: GpuContext,
    theta: Float64Array,
    private readonly opts: GpuModelOptions,
  ) {
    if (opts.maxBindingBytes !== undefined && !(Number.isInteger(opts.maxBindingBytes) && opts.maxBindingBytes >= 16)) {
      throw new SpecError(`maxBindingBytes must be an integer of at least 16 bytes (got ${opts.maxBindingBytes})`);
    }
    this.layout = paramLayout(network);
    this.adapter = ctx.adapter;
    this.pool = new BufferPool(ctx.device, ctx.limits.maxBufferSize, { readbackLatencyMs: opts.readbackLatencyMs, maxBindingSize: this.bindingLimit });
    this.kernels = new Kernels(ctx, this.pool, new PipelineCache(ctx.device));
    const bytes = this.layout.size * 4;
    this.checkBinding(bytes, 'θ');
    this.thetaBuffer = this.pool.acquire(bytes, STORAGE, 'theta');
    this.gradBuffer = this.pool.acquire(bytes, STORAGE, 'grad');
    this.scalarsBuffer = this.pool.acquire(SLOTS * 4, STORAGE, 'scalars');
    this.colPartials = this.pool.acquire(COLSUM_STRIPS * Math.max(...network.layers) * 4, STORAGE, 'column partials');
    this.rhoOffsets = [];
    let off = 0;
    for (let k = 0; k < network.layers.length - 2; k++) {
      this.rhoOffsets.push(off);
      off += network.layers[k + 1]!;
    }
    this.rhoHatBuffer = this.pool.acquire(Math.max(1, off) * 4, STORAGE, 'rhoHat');
    this.noiseState = this.pool.acquire(8, STORAGE, 'noise state');
    this.vaeState = this.pool.acquire(8, STORAGE, 'vae ε state');
    this.kState = network.kSparse ? this.pool.acquire(4, STORAGE, 'k-sparse k') : null;
    this.setKSparse(undefined);
    writeF32(ctx.device, this.thetaBuffer, theta);
  }

  /** The bytes one storage binding may hold: the device's limit, or maxBindingBytes below it. */
  get bindingLimit(): number {
    return Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.opts.maxBindingBytes ?? Infinity);
  }

  private checkBinding(bytes: number, what: string): void {
    const max = this.bindingLimit;
    if (bytes > max) throw new SpecError(`${what} needs ${bytes} bytes, over the storage binding limit of ${max} bytes (maxStorageBufferBindingSize, or maxBindingBytes when lower)`);
  }

  /** Sets the input corruption of the next submit: on with `seed`, or off (clean input). */
  private setNoise(seed: number | undefined): void {
    if (!this.network.corruption) return;
    this.ctx.device.queue.writeBuffer(this.noiseState, 0, Uint32Array.of((seed ?? 0) >>> 0, seed === undefined ? 0 : 1));
  }

  /** Sets ε of the next submit: drawn under `seed`, or off (ε = 0, z = μ: inference). */
  private setEps(seed: number | null): void {
    if (!this.network.vae) return;
    this.ctx.device.queue.writeBuffer(this.vaeState, 0, Uint32Array.of((seed ?? 0) >>> 0, seed === null ? 0 : 1));
  }

  /** Sets the k of the next submits' top-k selection: `k` (a training evaluation's annealed k) or the network's. */
  private setKSparse(k: number | undefined): void {
    const ks = this.network.kSparse;
    if (!ks || !this.kState) return;
    const want = k ?? ks.k;
    if (want === this.kStateValue) return;
    if (!Number.isInteger(want) || want < 1 || ks.onLayer.some((on, l) => on && want > this.network.layers[l + 1]!)) throw new SpecError(`kSparseK must be an integer from 1 to the units of each k-sparse layer, got ${want}`);
    this.ctx.device.queue.writeBuffer(this.kState, 0, Uint32Array.of(want));
    this.kStateValue = want;
  }

  private live(): void {
    if (this.disposed) throw new SpecError('this model has been disposed');
    this.ctx.check();
  }

  /** Buffers this model holds (for leak tests). */
  poolStats(): PoolStats {
    return this.pool.stats();
  }

  setParameters(theta: ArrayLike<number>): void {
    this.live();
    checkTheta(this.layout, theta);
    writeF32(this.ctx.device, this.thetaBuffer, theta);
  }

  async readParameters(): Promise<Float64Array> {
    this.live();
    const [t] = await readF32(this.ctx.device, this.pool, [{ buffer: this.thetaBuffer, count: this.layout.size }]);
    return Float64Array.from(t!);
  }

  /** Uploads examples (and targets) once; reuse the result across evaluations. `precision` 'f16': as halves (DatasetOptions.dataPrecision). */
  upload(X: Matrix, Y?: Matrix | null, precision: DataPrecision = 'f32'): GpuDataset {
    this.live();
    return uploadDataset(this.ctx.device, this.pool, this.network, X, Y, this.bindingLimit, this.opts.maxChunkRows, precision);
  }

  get deviceLabel(): string {
    return adapterLabel(this.adapter);
  }

  /**
   * Model.dataset: uploads X (and Y) once, in chunks that each fit one storage
   * binding; over `maxDataBytes` (as float32), keeps them in host memory instead
   * (a HostDataset: its objective streams mini-batches). `dataPrecision` 'f16':
   * uploaded as halves (dataset.ts; refused if it would still stream).
   */
  dataset(X: Matrix, Y?: Matrix | null, opts: DatasetOptions = {}): GpuDataset | HostDataset {
    this.live();
    const cap = checkMaxDataBytes(opts.maxDataBytes);
    const precision = checkDataPrecision(opts.dataPrecision);
    if (cap !== undefined) {
      const T = checkData(this.network, X, Y);
      const bytes = float32Bytes(X, T);
      // f16 halves the bytes on the GPU; a set over the cap even so would stream, and streaming is float32.
      if (precision === 'f16' && bytes / 2 > cap) {
        throw new SpecError(`dataPrecision 'f16' keeps the data set on the GPU, but it takes ${bytes / 2} bytes as f16, over maxDataBytes (${cap}); a streamed set stays float32 (raise maxDataBytes, or use dataPrecision 'f32' to stream)`);
      }
      if (precision === 'f32' && bytes > cap) return new HostDataset(X, T, bytes, cap);
    }
    return this.upload(X, Y, precision);
  }

  /**
   * Host examples X (and targets T; null for an autoencoder) in chunks of the
   * resident path's size sharing one buffer, uploaded one at a time (evaluateStreamed).
   */
  streamChunks(X: Matrix, T: Matrix | null, maxRows = Infinity): StreamedChunks {
    this.live();
    const per = Math.min(maxRows, chunkRows(this.network, X.rows, this.bindingLimit, this.opts.maxChunkRows));
    return streamedChunks(this.ctx.device, this.pool, X, T, per, (ds) => this.forget(ds));
  }

  /**
   * The training objective over `ds`: θ and ∇θ are this model's buffers; the
   * data set stays the caller's (free it with `release`).
   */
  objective(ds: Dataset, opts: ObjectiveOptions = {}): GpuObjective {
    this.live();
    if (ds instanceof HostDataset) return new GpuObjective(this, ds.X, ds.T === ds.X ? undefined : ds.T, { ...opts, maxDataBytes: ds.cap });
    return new GpuObjective(this, asGpuDataset(ds), undefined, opts);
  }

  /** A data set of `rows` examples whose buffers the caller fills (mini-batches). */
  emptyDataset(rows: number): GpuDataset {
    return emptyDataset(this.pool, this.network, rows);
  }

  /** Frees a data set's plan, and its buffers when this model made them. */
  release(ds: Dataset): void {
    if (ds instanceof HostDataset) return; // host memory: nothing on the GPU
    const g = asGpuDataset(ds);
    this.forget(g);
    releaseDataset(this.pool, g);
  }

  /** Frees only what this model built for a data set (its plan); the data stay. */
  forget(ds: GpuDataset): void {
    const plan = this.plans.get(ds);
    if (plan) {
      for (const b of plan.owned) this.pool.release(b);
      for (const list of planDispatches(plan)) this.kernels.release(list);
    }
    this.plans.delete(ds);
  }

  private async gemmVariant(M: number, N: number, K: number, transA: boolean, transB: boolean): Promise<GemmVariant> {
    return this.opts.gemmVariant ?? chooseGemmVariant(this.kernels, { M, N, K, transA, transB });
  }

  /** What plan.ts records against: this model's buffers and kernels. */
  private planContext(): PlanContext {
    return {
      net: this.network, layout: this.layout, kernels: this.kernels, pool: this.pool,
      theta: this.thetaBuffer, grad: this.gradBuffer, scalars: this.scalarsBuffer, rhoHat: this.rhoHatBuffer, rhoOffsets: this.rhoOffsets,
      colPartials: this.colPartials, noiseState: this.noiseState, vaeState: this.vaeState, kState: this.kState,
      maxBindingBytes: this.bindingLimit,
      gemmVariant: (M, N, K, transA, transB) => this.gemmVariant(M, N, K, transA, transB),
    };
  }

  /** The plan of a data set, built on first use (buildPlan, plan.ts). */
  private async plan(ds: GpuDataset): Promise<Plan> {
    const hit = this.plans.get(ds);
    if (hit) return hit;
    const plan = await buildPlan(this.planContext(), ds);
    this.plans.set(ds, plan);
    return plan;
  }

  /** Whether the running ρ̂ estimate has been started (see EvaluateOptions.rhoHatDecay). */
  private runningStarted = false;

  /** Restarts the running ρ̂ estimate: the next running evaluation uses its batch's ρ̂ alone. */
  resetRunningRhoHat(): void {
    this.runningStarted = false;
  }

  /**
   * Records one evaluation into one command encoder and submits it. Nothing is
   * read back: ∇θ lands in gradBuffer, the parts of J (when `cost`) in
   * scalarsBuffer, ρ̂ in rhoHatBuffer.
   */
  async evaluate(ds: GpuDataset, what: EvaluateOptions = {}): Promise<void> {
    this.live();
    assertTrainable(this.network);
    const plan = await this.plan(ds);
    const decay = what.rhoHatDecay ?? 0;
    let running: Dispatch[] | null = null;
    if (decay > 0 && this.network.layers.length > 2) {
      const views = evaluationChunks(ds);
      if (views.length !== 1) throw new SpecError('a running ρ̂ estimate applies to mini-batches that fit one storage binding');
      let r = plan.running.get(decay);
      if (!r) {
        const c = views[0]!;
        const pc = this.planContext();
        r = { first: await columnMeans(pc, c.rows, plan.layers, c.rows, 0, 1), next: await columnMeans(pc, c.rows, plan.layers, c.rows, decay, 1 - decay) };
        plan.running.set(decay, r);
      }
      running = this.runningStarted ? r.next : r.first;
      this.runningStarted = true;
    }
    this.setNoise(what.noiseSeed);
    this.setKSparse(what.kSparseK);
    if (this.network.vae) this.setEps(what.epsSeed ?? defaultVaeNoiseSeed(this.network));
    const enc = what.encoder ?? this.ctx.device.createCommandEncoder();
    const lists = evaluationSegments(plan, what, running).flatMap((seg) => seg.lists);
    const gate = what.gate;
    if (gate) {
      const gated = lists.flat();
      this.ctx.device.queue.writeBuffer(gate.args.buffer, gate.args.offset, indirectArgs(gated));
      const pass = enc.beginComputePass();
      recordDispatches(pass, [gate.check]);
      recordDispatches(pass, gated, gate.args);
      recordDispatches(pass, what.tail ?? []);
      pass.end();
    } else {
      if (what.cost ?? true) enc.clearBuffer(this.scalarsBuffer);
      const pass = enc.beginComputePass();
      for (const l of [...lists, what.tail ?? []]) recordDispatches(pass, l);
      pass.end();
    }
    if (!what.encoder) this.ctx.device.queue.submit([enc.finish()]);
  }

  /**
   * `evaluate` over streamed chunks: the same dispatches in the same order, in
   * one submit per chunk with the chunk's upload before it (the ρ̂ pass of
   * chunked sparsity uploads each chunk once more), so the results are bitwise
   * those of the resident data set while one chunk at a time is on the GPU.
   */
  async evaluateStreamed(s: StreamedChunks, what: EvaluateOptions = {}): Promise<void> {
    if (what.gate || what.tail || what.encoder) throw new Error('evaluateStreamed: gate, tail and encoder apply to resident sets');
    const ds = s.ds;
    if (ds.chunks.length === 1) {
      s.fill(0);
      return this.evaluate(ds, what);
    }
    this.live();
    assertTrainable(this.network);
    if (what.rhoHatDecay) throw new SpecError('a running ρ̂ estimate applies to mini-batches that fit one storage binding');
    const plan = await this.plan(ds);
    this.setNoise(what.noiseSeed);
    this.setKSparse(what.kSparseK);
    if (this.network.vae) this.setEps(what.epsSeed ?? defaultVaeNoiseSeed(this.network));
    evaluationSegments(plan, what, null).forEach((seg, k) => {
      if (seg.chunk !== null) s.fill(seg.chunk);
      const enc = this.ctx.device.createCommandEncoder();
      if (k === 0 && (what.cost ?? true)) enc.clearBuffer(this.scalarsBuffer);
      const pass = enc.beginComputePass();
      for (const l of seg.lists) recordDispatches(pass, l);
      pass.end();
      this.ctx.device.queue.submit([enc.finish()]);
    });
  }

  /** The number of dispatches of evaluate(ds, what) without `before` and `then` (to size a gate's indirect arguments). */
  async evaluationDispatches(ds: GpuDataset, what: Pick<EvaluateOptions, 'cost' | 'gradient'>): Promise<number> {
    const plan = await this.plan(ds);
    return evaluationSegments(plan, what, null).reduce((n, seg) => n + seg.lists.reduce((m, l) => m + l.length, 0), 0);
  }

  /** Reads the parts of J written by the last evaluate({ cost: true }). */
  async readCost(): Promise<{ cost: number; parts: CostParts; rhoHatMean: number | null }> {
    this.live();
    const [s] = await readF32(this.ctx.device, this.pool, [{ buffer: this.scalarsBuffer, count: SLOTS }]);
    return this.costFromScalars(s!);
  }

  /** The scalars buffer's readback source (to read it together with other values in one readback). */
  get costSource(): { buffer: GPUBuffer; count: number } {
    return { buffer: this.scalarsBuffer, count: SLOTS };
  }

  /** J, its parts and mean ρ̂ from the values of `costSource`. */
  costFromScalars(s: Float32Array): { cost: number; parts: CostParts; rhoHatMean: number | null } {
    const parts: CostParts = { data: s![SLOT.data]!, weightDecay: s![SLOT.weightDecay]!, sparsity: s![SLOT.sparsity]!, l1: s![SLOT.l1]!, contractive: s![SLOT.contractive]! };
    const rhoHatMean = this.network.layers.length > 2 ? s![SLOT.rhoHatMean]! : null;
    const vae = this.network.vae;
    if (vae) parts.kl = s![SLOT.kl]!;
    return { cost: parts.data + parts.weightDecay + parts.sparsity + parts.l1 + parts.contractive + (vae ? vae.beta * parts.kl! : 0), parts, rhoHatMean };
  }

  /** J = Σₖ wₖ·scalars[k]: the weight of each slot of `costSource` (β for the VAE's KL, 0 for ρ̂'s mean), as costFromScalars sums them. */
  get costWeights(): number[] {
    const w = new Array<number>(SLOTS).fill(0);
    for (const k of ['data', 'weightDecay', 'sparsity', 'l1', 'contractive'] as const) w[SLOT[k]] = 1;
    if (this.network.vae) w[SLOT.kl] = this.network.vae.beta;
    return w;
  }

  async readGradient(): Promise<Float64Array> {
    this.live();
    const [g] = await readF32(this.ctx.device, this.pool, [{ buffer: this.gradBuffer, count: this.layout.size }]);
    return Float64Array.from(g!);
  }

  async readRhoHat(): Promise<Float64Array[]> {
    const total = this.rhoOffsets.length ? this.rhoOffsets[this.rhoOffsets.length - 1]! + this.network.layers[this.rhoOffsets.length]! : 0;
    if (total === 0) return [];
    const [r] = await readF32(this.ctx.device, this.pool, [{ buffer: this.rhoHatBuffer, count: total }]);
    return this.rhoOffsets.map((o, l) => Float64Array.from(r!.subarray(o, o + this.network.layers[l + 1]!)));
  }

  /** Streams X (and Y) through one chunk buffer (evaluateStreamed): one chunk at a time on the GPU. */
  async cost(X: Matrix, Y?: Matrix, opts: CostOptions = {}): Promise<CostReport> {
    this.live();
    const T = checkData(this.network, X, Y);
    const s = this.streamChunks(X, T === X ? null : T);
    try {
      const gradient = opts.gradient ?? true;
      await this.evaluateStreamed(s, { cost: true, gradient, epsSeed: opts.noiseSeed });
      const [{ cost, parts }, rhoHat, grad] = await Promise.all([this.readCost(), this.readRhoHat(), gradient ? this.readGradient() : Promise.resolve(undefined)]);
      this.ctx.check();
      return grad ? { cost, parts, grad, rhoHat } : { cost, parts, rhoHat };
    } finally {
      s.done();
    }
  }

  async predict(X: Matrix): Promise<Matrix> {
    return this.encode(X, this.network.layers.length);
  }

  async encode(X: Matrix, layer?: number): Promise<Encoding> {
    this.live();
    if (this.network.vae) return this.vaeEncode(X, checkVaeLayer(this.network, layer));
    layer ??= 2;
    checkLayer(this.network, layer);
    const n = this.network.layers[layer - 1]!;
    // Targets are irrelevant for inference; pass zeros only where the spec needs them.
    const nL = this.network.layers[this.network.layers.length - 1]!;
    const zeros = this.network.autoencoder ? null : { rows: X.rows, cols: nL, data: new Float32Array(X.rows * nL) };
    checkData(this.network, X, zeros);
    // Streamed chunk by chunk: one chunk of X at a time on the GPU.
    const s = this.streamChunks(X, zeros);
    const ds = s.ds;
    try {
      const plan = await this.plan(ds);
      const out = new Float64Array(X.rows * n);
      let r0 = 0;
      for (let ci = 0; ci < ds.chunks.length; ci++) {
        s.fill(ci);
        // Clean input and the final k, set before every submit (an evaluation may run between chunks).
        this.setNoise(undefined);
        this.setKSparse(undefined);
        this.setEps(null);
        const enc = this.ctx.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        recordDispatches(pass, plan.chunks[ci]!.forward);
        pass.end();
        this.ctx.device.queue.submit([enc.finish()]);
        const rows = ds.chunks[ci]!.rows;
        const [a] = await readF32(this.ctx.device, this.pool, [{ buffer: plan.layers[layer - 2]!.A, count: rows * n }]);
        out.set(a!, r0 * n);
        r0 += rows;
      }
      this.ctx.check();
      return { rows: X.rows, cols: n, data: out };
    } finally {
      s.done();
    }
  }

  /** VAE: μ (with log σ² as `logvar`) or the output through z = μ, chunk by chunk (ε off). */
  private async vaeEncode(X: Matrix, layer: number): Promise<Encoding> {
    const net = this.network;
    const d = net.layers[net.vae!.latent]!;
    const output = layer === net.layers.length;
    const n = output ? net.layers[net.layers.length - 1]! : d;
    const ds = this.upload(X);
    try {
      const plan = await this.plan(ds);
      const mu = new Float64Array(X.rows * n);
      const logvar = new Float64Array(output ? 0 : X.rows * d);
      let r0 = 0;
      for (let ci = 0; ci < ds.chunks.length; ci++) {
        this.setNoise(undefined);
        this.setEps(null);
        const enc = this.ctx.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        recordDispatches(pass, output ? plan.chunks[ci]!.forward : plan.vae!.chunks[ci]!.encode);
        pass.end();
        this.ctx.device.queue.submit([enc.finish()]);
        const rows = ds.chunks[ci]!.rows;
        const [a] = await readF32(this.ctx.device, this.pool, [{ buffer: output ? plan.vae!.output : plan.vae!.H, count: rows * (output ? n : 2 * d) }]);
        for (let i = 0; i < rows; i++) {
          if (output) {
            for (let j = 0; j < n; j++) mu[(r0 + i) * n + j] = a![i * n + j]!;
          } else {
            for (let j = 0; j < d; j++) {
              mu[(r0 + i) * d + j] = a![i * 2 * d + j]!;
              logvar[(r0 + i) * d + j] = a![i * 2 * d + d + j]!;
            }
          }
        }
        r0 += rows;
      }
      this.ctx.check();
      return output ? { rows: X.rows, cols: n, data: mu } : { rows: X.rows, cols: d, data: mu, logvar: { rows: X.rows, cols: d, data: logvar } };
    } finally {
      this.release(ds);
    }
  }

  /**
   * VAE: decodes n codes on the GPU without reading them back. `codes` gives Z (m × d);
   * otherwise z ~ N(0, I) is drawn by the reparameterize kernel from H = 0 under `seed`
   * (the values of normalMatrix(seed, n, d)). Returns the output buffer (n × n_out) and
   * z, valid until `release()`.
   */
  async decodeToBuffer(n: number, what: { codes?: Matrix; seed?: number }): Promise<{ output: GPUBuffer; z: GPUBuffer; rows: number; cols: number; release: () => void }> {
    this.live();
    const net = this.network;
    if (!net.vae) throw new SpecError('decode and sample need a variational autoencoder (a spec with "vae")');
    if (!Number.isInteger(n) || n < 1) throw new SpecError(`the number of codes must be a positive integer, got ${n}`);
    const ds = this.emptyDataset(n);
    const plan = await this.plan(ds);
    const v = plan.vae!;
    const enc = this.ctx.device.createCommandEncoder();
    if (what.codes) {
      assertFinite('Z', what.codes);
      writeF32(this.ctx.device, v.z, what.codes.data);
      this.setEps(null);
    } else {
      const seed = what.seed ?? 1;
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SpecError(`sample seed must be an integer in [0, 2³²), got ${seed}`);
      enc.clearBuffer(v.H); // μ = 0, log σ² = 0: z = ε
      this.setEps(seed);
    }
    const pass = enc.beginComputePass();
    if (!what.codes) recordDispatches(pass, v.chunks[0]!.sample);
    recordDispatches(pass, v.chunks[0]!.decode);
    pass.end();
    this.ctx.device.queue.submit([enc.finish()]);
    return { output: v.output, z: v.z, rows: n, cols: net.layers[net.layers.length - 1]!, release: () => this.release(ds) };
  }

  async decode(Z: Matrix): Promise<Matrix> {
    const d = this.network.vae ? this.network.layers[this.network.vae.latent]! : 0;
    if (this.network.vae && Z.cols !== d) throw new SpecError(`Z has ${Z.cols} values per example but the latent layer has ${d} units`);
    return this.readDecoded(await this.decodeToBuffer(Z.rows, { codes: Z }));
  }

  async sample(n: number, opts: { seed?: number } = {}): Promise<Matrix> {
    return this.readDecoded(await this.decodeToBuffer(n, { seed: opts.seed ?? 1 }));
  }

  private async readDecoded(r: { output: GPUBuffer; rows: number; cols: number; release: () => void }): Promise<Matrix> {
    try {
      const [a] = await readF32(this.ctx.device, this.pool, [{ buffer: r.output, count: r.rows * r.cols }]);
      this.ctx.check();
      return { rows: r.rows, cols: r.cols, data: Float64Array.from(a!) };
    } finally {
      r.release();
    }
  }

  /**
   * VAE: −ELBO (one ε draw under `seed`) from the cost passes, and the importance-weighted
   * −log p(x), streaming X one chunk at a time (any test-set size): per chunk, the encoder once, then per sample s (ε seed evaluationSeed(seed, s))
   * ε, z, the decoder, −log p(x|z) per row and a running logsumexp of log w per example,
   * one submit per sample and one readback per chunk.
   */
  async evaluateVae(X: Matrix, opts: VaeEvalOptions = {}): Promise<VaeEvaluation> {
    this.live();
    const net = this.network;
    if (!net.vae) throw new SpecError('evaluateVae needs a variational autoencoder (a spec with "vae")');
    const { samples, seed } = checkVaeEval(opts);
    checkData(net, X, null);
    // Streamed chunk by chunk (one chunk of X at a time on the GPU): the bound reads back per chunk anyway.
    const s = this.streamChunks(X, null);
    const ds = s.ds;
    try {
      this.setNoise(undefined);
      await this.evaluateStreamed(s, { cost: true, gradient: false, epsSeed: seed });
      const { parts } = await this.readCost();
      const negElbo = parts.data + parts.kl! + reconstructionConstant(net);
      if (!samples) return { negElbo, nll: null, samples };
      const plan = await this.plan(ds);
      const v = plan.vae!;
      let total = 0;
      for (let ci = 0; ci < ds.chunks.length; ci++) {
        const c = v.chunks[ci]!;
        s.fill(ci);
        for (let k = 0; k < samples; k++) {
          this.setEps(evaluationSeed(seed, k));
          const enc = this.ctx.device.createCommandEncoder();
          const pass = enc.beginComputePass();
          if (k === 0) recordDispatches(pass, c.encode);
          recordDispatches(pass, c.sample);
          recordDispatches(pass, c.decode);
          recordDispatches(pass, c.nll);
          recordDispatches(pass, k === 0 ? c.accFirst : c.accNext);
          pass.end();
          this.ctx.device.queue.submit([enc.finish()]);
        }
        const rows = ds.chunks[ci]!.rows;
        const [acc] = await readF32(this.ctx.device, this.pool, [{ buffer: v.acc, count: rows * 2 }]);
        for (let i = 0; i < rows; i++) total -= acc![2 * i]! + Math.log(acc![2 * i + 1]!) - Math.log(samples);
      }
      this.ctx.check();
      return { negElbo, nll: total / X.rows, samples };
    } finally {
      s.done();
    }
  }

  /**
   * Layer `layer`'s activations over `ds`, as a new data set resident on the GPU
   * (one submit, no readback): the input of the next stage of a stacked
   * autoencoder. `targets` (e.g. one-hot labels) become its Y. Its buffers
   * belong to this model: keep it alive while another model uses them, and free
   * them with `release` (or `dispose`).
   */
  async encodeDataset(data: Dataset, layer = 2, opts: { targets?: Matrix } = {}): Promise<GpuDataset> {
    this.live();
    const ds = asGpuDataset(data);
    checkLayer(this.network, layer);
    checkEncodeTargets(this.network, ds, opts.targets);
    const plan = await this.plan(ds);
    this.setNoise(undefined);
    this.setKSparse(undefined);
    this.setEps(null);
    return encodeDataset(this.ctx.device, this.pool, this.network, ds, layer, plan.chunks.map((c) => c.forward), plan.layers[layer - 2]!.A, opts.targets);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ds of [...this.plans.keys()]) this.release(ds);
    this.pool.destroy();
    this.kernels.cache.clear();
    this.ctx.destroy();
  }
}

/** `theta`: θ, or a function that makes it once the device limits passed (checkGpuLimits, before any allocation). */
export async function createGpuModel(net: Network, theta: Float64Array | (() => Float64Array), device?: GPUDevice, opts: GpuModelOptions = {}): Promise<GpuModel> {
  if (opts.gemmVariant !== undefined && !Object.hasOwn(GEMM_VARIANTS, opts.gemmVariant)) {
    throw new SpecError(`options.gemmVariant ${JSON.stringify(opts.gemmVariant)} is not one of ${Object.keys(GEMM_VARIANTS).join(', ')}`);
  }
  const ctx = await acquireDevice({ device });
  try {
    checkGpuLimits(net, ctx.limits);
    return new GpuModel(net, ctx, typeof theta === 'function' ? theta() : theta, opts);
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
