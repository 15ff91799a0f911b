// The WebGPU model: θ, ∇θ, activations, δ and the data stay in GPU buffers;
// one cost-and-gradient evaluation is one command encoder and one submit.
//
// Data are stored example-major (m × n row-major, as the user passes them), so
// the notes' Z = W·A + b becomes Z = A_prev·Wᵀ + b row by row. An evaluation over
// a data set larger than one storage binding runs chunk by chunk, accumulating
// ∇θ; with KL sparsity it first accumulates ρ̂ over every chunk (the notes' two
// forward passes) so the gradient is exactly that of the full-batch objective.

import { paramLayout, storedWeights, type ParamLayout } from '../params.js';
import { assertFinite, assertTrainable, checkData, SpecError, type Matrix, type Network } from '../spec.js';
import { checkLayer, checkTheta, checkVaeEval, checkVaeLayer, type CostOptions, type CostParts, type CostReport, type Encoding, type Model, type VaeEvalOptions, type VaeEvaluation } from '../model.js';
import { BufferPool, readF32, STORAGE, writeF32, type PoolStats } from './buffers.js';
import { acquireDevice, type AdapterDescription, type GpuContext } from './device.js';
import { COLSUM_STRIPS, derivativeNeedsZ, Kernels, recordDispatches, SUM_GROUPS, type Dispatch, type GemmVariant } from './kernels.js';
import { PipelineCache } from './shaders.js';
import { chooseGemmVariant } from './autotune.js';
import { buildVaePlan, type VaePlanParts } from './vae-plan.js';
import { defaultVaeNoiseSeed, reconstructionConstant } from '../cpu/vae.js';
import { evaluationSeed } from '../noise.js';

/** Slots of the scalars buffer: each holds one already-scaled part of J. */
const SLOT = { data: 0, weightDecay: 1, sparsity: 2, l1: 3, rhoHatMean: 4, contractive: 5, kl: 6 } as const;
const SLOTS = 7;

/** Examples resident on the GPU, split into chunks that each fit one storage binding. */
export class GpuDataset {
  readonly chunks: { rows: number; X: GPUBuffer; Y: GPUBuffer | null }[] = [];
  /**
   * `owner`: the pool the chunk buffers came from. A model frees a data set's
   * buffers only if they are its own; another model's data set (features passed
   * between the stages of a stacked autoencoder) only loses its plan.
   */
  constructor(readonly rows: number, readonly cols: number, readonly targetCols: number, readonly owner: object | null = null) {}
}

interface LayerBuffers {
  A: GPUBuffer;
  Z: GPUBuffer | null;
  D: GPUBuffer;
  /** k-sparse layers: 1 for the kept units of each example, 0 for the zeroed. */
  M: GPUBuffer | null;
}

/** Everything one evaluation over a data set records, built once per data set. */
interface Plan {
  /** Pass 1 with chunked sparsity: forward + ρ̂ accumulation for every chunk. */
  rhoPass: Dispatch[];
  /**
   * Per chunk, in order: forward, ρ̂ sums (unless rhoPass did them), terms the
   * gradient needs whether or not the cost is computed (contractive), loss sums, backward.
   */
  chunks: { forward: Dispatch[]; rho: Dispatch[]; terms: Dispatch[]; cost: Dispatch[]; backward: Dispatch[] }[];
  /** Single-chunk data sets: ρ̂ as a running average, by decay (built on first use). */
  running: Map<number, { first: Dispatch[]; next: Dispatch[] }>;
  /** After the chunks: weight decay and KL sums. */
  finalCost: Dispatch[];
  /** After the chunks' backward passes: gradient terms over all examples (contractive). */
  finalGrad: Dispatch[];
  /** Activation buffers, sized for one chunk. */
  layers: LayerBuffers[];
  /** VAE: the per-sample pieces and buffers (see vae-plan.ts). */
  vae?: VaePlanParts;
}

export interface EvaluateOptions {
  /** Compute the parts of J into scalarsBuffer (default true). */
  cost?: boolean;
  /** Compute ∇θ into gradBuffer (default true). */
  gradient?: boolean;
  /** Dispatches recorded before the evaluation in the same pass (an optimizer's update, a batch gather). */
  before?: readonly Dispatch[];
  /** Dispatches recorded after the evaluation in the same pass. */
  then?: readonly Dispatch[];
  /**
   * Mini-batches: use an exponential running average of ρ̂ instead of the batch's
   * own, ρ̂ ← decay·ρ̂ + (1 − decay)·ρ̂_batch (the first batch starts it). 0 or
   * absent: ρ̂ of the evaluated examples (the default, and exact for full batches).
   */
  rhoHatDecay?: number;
  /**
   * Denoising networks: the seed of this evaluation's input corruption (a training
   * evaluation; fresh noise needs a fresh seed). Absent: the clean input.
   */
  noiseSeed?: number;
  /** VAE: the seed of this evaluation's ε (default: defaultVaeNoiseSeed, the ε stream's first evaluation). */
  epsSeed?: number;
}

export interface GpuModelOptions {
  /** Force a GEMM variant instead of timing them on first use. */
  gemmVariant?: GemmVariant;
  /** Cap on examples per chunk (default: as many as fit a storage binding). */
  maxChunkRows?: number;
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
  readonly rhoOffsets: number[];
  private readonly pool: BufferPool;
  /** Kernel launchers on this model's device and pool (optimizers build their updates with it). */
  readonly kernels: Kernels;
  private readonly partials: GPUBuffer;
  /** Scratch of the column sums (COLSUM_STRIPS × widest layer). */
  private readonly colPartials: GPUBuffer;
  private readonly plans = new Map<GpuDataset, Plan>();
  private readonly planBuffers = new Map<GpuDataset, GPUBuffer[]>();
  private disposed = false;

  constructor(
    readonly network: Network,
    readonly ctx: GpuContext,
    theta: Float64Array,
    private readonly opts: GpuModelOptions,
  ) {
    this.layout = paramLayout(network);
    this.adapter = ctx.adapter;
    this.pool = new BufferPool(ctx.device, ctx.limits.maxBufferSize);
    this.kernels = new Kernels(ctx, this.pool, new PipelineCache(ctx.device));
    const bytes = this.layout.size * 4;
    this.checkBinding(bytes, 'θ');
    this.thetaBuffer = this.pool.acquire(bytes, STORAGE, 'theta');
    this.gradBuffer = this.pool.acquire(bytes, STORAGE, 'grad');
    this.scalarsBuffer = this.pool.acquire(SLOTS * 4, STORAGE, 'scalars');
    this.partials = this.pool.acquire(SUM_GROUPS * 4, STORAGE, 'partials');
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
    writeF32(ctx.device, this.thetaBuffer, theta);
  }

  private checkBinding(bytes: number, what: string): void {
    const max = this.ctx.limits.maxStorageBufferBindingSize;
    if (bytes > max) throw new SpecError(`${what} needs ${bytes} bytes, over this device's maxStorageBufferBindingSize of ${max} bytes`);
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

  private live(): void {
    if (this.disposed) throw new Error('this model has been disposed');
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

  /** Uploads examples (and targets) once; reuse the result across evaluations. */
  upload(X: Matrix, Y?: Matrix | null): GpuDataset {
    this.live();
    const T = checkData(this.network, X, Y);
    const net = this.network;
    const widest = Math.max(...net.layers);
    const maxRows = Math.max(1, Math.floor(this.ctx.limits.maxStorageBufferBindingSize / 4 / widest));
    const chunkRows = Math.min(maxRows, this.opts.maxChunkRows ?? Infinity, X.rows);
    const ds = new GpuDataset(X.rows, X.cols, T.cols, this.pool);
    for (let r0 = 0; r0 < X.rows; r0 += chunkRows) {
      const rows = Math.min(chunkRows, X.rows - r0);
      const xb = this.pool.acquire(rows * X.cols * 4, STORAGE, 'X');
      writeF32(this.ctx.device, xb, X.data.subarray(r0 * X.cols, (r0 + rows) * X.cols));
      let yb: GPUBuffer | null = null;
      if (T !== X) {
        yb = this.pool.acquire(rows * T.cols * 4, STORAGE, 'Y');
        writeF32(this.ctx.device, yb, T.data.subarray(r0 * T.cols, (r0 + rows) * T.cols));
      }
      ds.chunks.push({ rows, X: xb, Y: yb });
    }
    return ds;
  }

  /** A data set of `rows` examples whose buffers the caller fills (mini-batches). */
  emptyDataset(rows: number): GpuDataset {
    const net = this.network;
    const n1 = net.layers[0]!;
    const nL = net.layers[net.layers.length - 1]!;
    const ds = new GpuDataset(rows, n1, nL, this.pool);
    const X = this.pool.acquire(rows * n1 * 4, STORAGE, 'batch X');
    const Y = net.autoencoder ? null : this.pool.acquire(rows * nL * 4, STORAGE, 'batch Y');
    ds.chunks.push({ rows, X, Y });
    return ds;
  }

  /** Frees a data set's plan, and its buffers when this model made them. */
  release(ds: GpuDataset): void {
    this.forget(ds);
    if (ds.owner !== this.pool) return;
    for (const c of ds.chunks) {
      this.pool.release(c.X);
      if (c.Y) this.pool.release(c.Y);
    }
    ds.chunks.length = 0;
  }

  /** Frees only what this model built for a data set (its plan); the data stay. */
  forget(ds: GpuDataset): void {
    for (const b of this.planBuffers.get(ds) ?? []) this.pool.release(b);
    this.planBuffers.delete(ds);
    const plan = this.plans.get(ds);
    if (plan) {
      const all = [plan.rhoPass, plan.finalCost, plan.finalGrad, ...plan.chunks.flatMap((c) => [c.forward, c.rho, c.terms, c.cost, c.backward]), ...[...plan.running.values()].flatMap((r) => [r.first, r.next])];
      // The VAE's encode/sample/decode lists are the forward list's own dispatches.
      if (plan.vae) all.push(...plan.vae.chunks.flatMap((c) => [c.nll, c.accFirst, c.accNext]));
      for (const list of all) this.kernels.release(list);
    }
    this.plans.delete(ds);
  }

  private async gemmVariant(M: number, N: number, K: number, transA: boolean, transB: boolean): Promise<GemmVariant> {
    return this.opts.gemmVariant ?? chooseGemmVariant(this.kernels, { M, N, K, transA, transB });
  }

  private async plan(ds: GpuDataset): Promise<Plan> {
    const hit = this.plans.get(ds);
    if (hit) return hit;
    if (this.network.vae) return this.vaePlan(ds);
    const net = this.network;
    const Lw = net.layers.length - 1; // weight layers
    const out = net.activations[Lw - 1]!;
    const chunkRows = ds.chunks[0]!.rows;
    const owned: GPUBuffer[] = [];
    const buf = (elements: number, label: string): GPUBuffer => {
      const b = this.pool.acquire(Math.max(1, elements) * 4, STORAGE, label);
      owned.push(b);
      return b;
    };
    // Activation, pre-activation and δ buffers per weight layer, sized for one chunk.
    const layers: LayerBuffers[] = [];
    for (let k = 0; k < Lw; k++) {
      const n = net.layers[k + 1]!;
      const act = net.activations[k]!;
      const isOut = k === Lw - 1;
      const needZ = derivativeNeedsZ(act) || (isOut && (net.loss !== 'squared'));
      this.checkBinding(chunkRows * n * 4, `layer ${k + 2}'s activations`);
      const kSparse = !!net.kSparse?.onLayer[k];
      layers.push({ A: buf(chunkRows * n, `A${k + 2}`), Z: needZ ? buf(chunkRows * n, `Z${k + 2}`) : null, D: buf(chunkRows * n, `D${k + 2}`), M: kSparse ? buf(chunkRows * n, `mask${k + 2}`) : null });
    }
    const rowLoss = out.name === 'softmax' ? buf(chunkRows, 'rowLoss') : null;
    const n1 = net.layers[0]!;
    const n2 = net.layers[1]!;
    // Denoising: the corrupted input x̃ of one chunk (the loss still reads the clean X).
    const noisyInput = net.corruption ? buf(chunkRows * n1, 'noisy X') : null;
    // Contractive: Sⱼ = Σₖ W(1)ⱼₖ², qⱼ = (1/m) Σᵢ (hⱼ(1−hⱼ))² and its per-example terms.
    const contractive = net.contractive
      ? { rowSq: buf(n2, 'contractive S'), q: buf(n2, 'contractive q'), slopeSq: buf(chunkRows * n2, 'contractive (h(1−h))²') }
      : null;
    this.planBuffers.set(ds, owned);

    const k = this.kernels;
    const m = ds.rows;
    const multi = ds.chunks.length > 1;
    const sparse = net.sparsity;
    const rhoPass: Dispatch[] = [];
    const chunks: Plan['chunks'] = [];

    const rowOffsets = ds.chunks.map((_, ci) => ds.chunks.slice(0, ci).reduce((n, c) => n + c.rows, 0));
    /** The input layer of a chunk: X, or x̃ for a denoising network. */
    const inputOf = (c: GpuDataset['chunks'][number]): GPUBuffer => noisyInput ?? c.X;
    const forwardChunk = async (c: GpuDataset['chunks'][number], into: Dispatch[]): Promise<void> => {
      if (noisyInput) {
        // x̃ = corrupt(x), seeded per evaluation through noiseState (a plain copy when off).
        const rowOffset = rowOffsets[ds.chunks.indexOf(c)]!;
        into.push(await k.corrupt({ rows: c.rows, cols: n1, rowOffset, X: { buffer: c.X }, out: noisyInput, spec: net.corruption!, state: this.noiseState }));
      }
      for (let l = 0; l < Lw; l++) {
        const s = this.layout.slots[l]!;
        const Ain = l === 0 ? inputOf(c) : layers[l - 1]!.A;
        const act = net.activations[l]!;
        const L = layers[l]!;
        const softmax = act.name === 'softmax';
        // Z = A·W(l)ᵀ + b; a tied layer's W(l)ᵀ is the stored mirror matrix itself.
        into.push(
          await k.gemm({
            M: c.rows, N: s.nOut, K: s.nIn, transB: !s.transposed,
            A: { buffer: Ain }, B: { buffer: this.thetaBuffer, offset: s.w },
            C: { buffer: softmax ? L.Z! : L.A },
            bias: { buffer: this.thetaBuffer, offset: s.b },
            activation: softmax ? null : act,
            Z: softmax ? undefined : L.Z ?? undefined,
            variant: await this.gemmVariant(c.rows, s.nOut, s.nIn, false, !s.transposed),
          }),
        );
        if (softmax) {
          into.push(await k.softmax({ rows: c.rows, n: s.nOut, Z: L.Z!, Y: { buffer: c.Y ?? c.X }, A: L.A, rowLoss: rowLoss! }));
        }
        if (L.M) {
          // k-sparse: keep the k largest activations of each example.
          into.push(await k.topKMask({ rows: c.rows, n: s.nOut, k: net.kSparse!.k, A: L.A, mask: L.M }));
          into.push(await k.maskMultiply({ count: c.rows * s.nOut, A: L.A, mask: L.M }));
        }
      }
    };
    const rhoSums = async (c: GpuDataset['chunks'][number], first: boolean, into: Dispatch[]): Promise<void> => {
      into.push(...(await this.rhoDispatches(c, layers, m, first ? 0 : 1, 1)));
    };


    for (let ci = 0; ci < ds.chunks.length; ci++) {
      const c = ds.chunks[ci]!;
      const first = ci === 0;
      const Y = { buffer: c.Y ?? c.X };
      if (multi && sparse) {
        await forwardChunk(c, rhoPass);
        await rhoSums(c, first, rhoPass);
      }
      // Forward, then (cost) loss sums, then backward — per chunk. Chunk ci's
      // dispatches go into one list so that they stay in order in the pass.
      const fw: Dispatch[] = [];
      await forwardChunk(c, fw);
      const rho: Dispatch[] = [];
      if (!(multi && sparse)) await rhoSums(c, first, rho);
      const terms: Dispatch[] = [];
      if (contractive) {
        const s0 = this.layout.slots[0]!;
        if (first) terms.push(await k.rowSumSq({ rows: n2, cols: n1, W: { buffer: this.thetaBuffer, offset: s0.w }, out: { buffer: contractive.rowSq } }));
        terms.push(await k.slopeSq({ count: c.rows * n2, A: layers[0]!.A, out: contractive.slopeSq }));
        terms.push(...(await k.colsum({ rows: c.rows, cols: n2, X: { buffer: contractive.slopeSq }, out: { buffer: contractive.q }, scale: 1 / m, beta: first ? 0 : 1, partials: this.colPartials })));
      }
      const cost: Dispatch[] = [];
      const outL = layers[Lw - 1]!;
      const nL = net.layers[Lw]!;
      if (net.loss === 'squared') {
        cost.push(...(await k.sum({ count: c.rows * nL, map: 'halfSqDiff', x: { buffer: outL.A }, y: Y, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.data, scale: 1 / m })));
      } else if (net.loss === 'cross-entropy') {
        cost.push(...(await k.sum({ count: c.rows * nL, map: 'bceLogits', x: { buffer: outL.Z! }, y: Y, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.data, scale: 1 / m })));
      } else {
        cost.push(...(await k.sum({ count: c.rows, map: 'identity', x: { buffer: rowLoss! }, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.data, scale: 1 / m })));
      }
      if (net.l1) {
        for (let l = 0; l < Lw - 1; l++) {
          if (!net.l1.onLayer[l]) continue;
          cost.push(...(await k.sum({ count: c.rows * net.layers[l + 1]!, map: 'abs', x: { buffer: layers[l]!.A }, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.l1, scale: net.l1.weight / m })));
        }
      }
      const bw: Dispatch[] = [];
      bw.push(await k.outputDelta({ rows: c.rows, n: nL, activation: out, squared: net.loss === 'squared', A: outL.A, Y, D: outL.D, Z: outL.Z ?? undefined }));
      const written = new Set<number>(); // stored matrices of ∇θ written so far in this chunk
      for (let l = Lw - 1; l >= 0; l--) {
        const s = this.layout.slots[l]!;
        const Ain = l === 0 ? inputOf(c) : layers[l - 1]!.A;
        const D = layers[l]!.D;
        // ∇W(l) = (1/m) δ(l+1)ᵀ·A(l) + λW(l), accumulated over chunks (λW once). A tied
        // layer adds its gradient transposed, (1/m) A(l)ᵀ·δ(l+1), to the mirror matrix.
        const fresh = first && !written.has(s.w);
        written.add(s.w);
        bw.push(
          await k.gemm({
            ...(s.transposed
              ? { M: s.nIn, N: s.nOut, A: { buffer: Ain }, B: { buffer: D } }
              : { M: s.nOut, N: s.nIn, A: { buffer: D }, B: { buffer: Ain } }),
            K: c.rows, transA: true,
            C: { buffer: this.gradBuffer, offset: s.w },
            alpha: 1 / m, beta: fresh ? 0 : 1,
            E: { buffer: this.thetaBuffer, offset: s.w }, gamma: fresh ? net.lambda : 0,
            variant: s.transposed ? await this.gemmVariant(s.nIn, s.nOut, c.rows, true, false) : await this.gemmVariant(s.nOut, s.nIn, c.rows, true, false),
          }),
        );
        // ∇b(l) = (1/m) Σᵢ δ(l+1).
        bw.push(...(await k.colsum({ rows: c.rows, cols: s.nOut, X: { buffer: D }, out: { buffer: this.gradBuffer, offset: s.b }, scale: 1 / m, beta: first ? 0 : 1, partials: this.colPartials })));
        if (l === 0) continue;
        // δ(l) = ((δ(l+1)·W(l) + sparsity + L1) • f′(z(l)) + contractive) • k-sparse mask.
        const below = layers[l - 1]!;
        bw.push(
          await k.gemm({
            M: c.rows, N: s.nIn, K: s.nOut, transB: s.transposed,
            A: { buffer: D }, B: { buffer: this.thetaBuffer, offset: s.w }, C: { buffer: below.D },
            variant: await this.gemmVariant(c.rows, s.nIn, s.nOut, false, s.transposed),
          }),
        );
        const onSparse = !!sparse && sparse.onLayer[l - 1]!;
        const onL1 = !!net.l1 && net.l1.onLayer[l - 1]!;
        bw.push(
          await k.hiddenDelta({
            rows: c.rows, n: s.nIn, activation: net.activations[l - 1]!, G: below.D, A: below.A, Z: below.Z ?? undefined,
            rhoHat: onSparse ? { buffer: this.rhoHatBuffer, offset: this.rhoOffsets[l - 1] } : undefined,
            rho: sparse?.rho, beta: sparse?.beta, l1: onL1 ? net.l1!.weight : 0,
            mask: below.M ?? undefined,
            contractive: l === 1 && contractive ? { weight: net.contractive!.weight, rowSumSq: { buffer: contractive.rowSq } } : undefined,
          }),
        );
      }
      chunks.push({ forward: fw, rho, terms, cost, backward: bw });
    }

    const finalGrad: Dispatch[] = [];
    const finalCost: Dispatch[] = [];
    if (contractive) {
      // ∂/∂W(1)ⱼₖ of λ_c Σⱼ qⱼ Sⱼ through Sⱼ: 2λ_c qⱼ W(1)ⱼₖ; the cost λ_c Σⱼ qⱼ Sⱼ.
      const s0 = this.layout.slots[0]!;
      finalGrad.push(await k.scaleRowsAdd({ rows: n2, cols: n1, G: { buffer: this.gradBuffer, offset: s0.w }, W: { buffer: this.thetaBuffer, offset: s0.w }, q: { buffer: contractive.q }, coef: 2 * net.contractive!.weight }));
      finalCost.push(...(await k.sum({ count: n2, map: 'product', x: { buffer: contractive.q }, y: { buffer: contractive.rowSq }, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.contractive, scale: net.contractive!.weight })));
    }
    if (net.lambda > 0) {
      for (const s of storedWeights(this.layout)) {
        finalCost.push(...(await k.sum({ count: s.nOut * s.nIn, map: 'square', x: { buffer: this.thetaBuffer, offset: s.w }, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.weightDecay, scale: net.lambda / 2 })));
      }
    }
    if (sparse) {
      for (let l = 0; l < Lw - 1; l++) {
        if (!sparse.onLayer[l]) continue;
        finalCost.push(...(await k.sum({ count: net.layers[l + 1]!, map: 'kl', x: { buffer: this.rhoHatBuffer, offset: this.rhoOffsets[l] }, rho: sparse.rho, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.sparsity, scale: sparse.beta })));
      }
    }
    if (Lw > 1) {
      const n2 = net.layers[1]!;
      finalCost.push(...(await k.sum({ count: n2, map: 'identity', x: { buffer: this.rhoHatBuffer, offset: 0 }, partials: this.partials, scalars: this.scalarsBuffer, slot: SLOT.rhoHatMean, scale: 1 / n2 })));
    }
    const plan: Plan = { rhoPass, chunks, finalCost, finalGrad, layers, running: new Map() };
    this.plans.set(ds, plan);
    return plan;
  }

  /** The VAE's plan (vae-plan.ts) over this model's buffers. */
  private async vaePlan(ds: GpuDataset): Promise<Plan> {
    const owned: GPUBuffer[] = [];
    this.planBuffers.set(ds, owned);
    const p = await buildVaePlan({
      net: this.network, layout: this.layout, kernels: this.kernels,
      theta: this.thetaBuffer, grad: this.gradBuffer, scalars: this.scalarsBuffer, partials: this.partials, colPartials: this.colPartials,
      noiseState: this.noiseState, vaeState: this.vaeState, rhoHat: this.rhoHatBuffer,
      buf: (elements, label) => {
        const b = this.pool.acquire(Math.max(1, elements) * 4, STORAGE, label);
        owned.push(b);
        return b;
      },
      checkBinding: (bytes, what) => this.checkBinding(bytes, what),
      gemmVariant: (M, N, K, a, b) => this.gemmVariant(M, N, K, a, b),
      rhoDispatches: (c, layers, m, beta, scale) => this.rhoDispatches(c, layers as LayerBuffers[], m, beta, scale),
      slots: { data: SLOT.data, weightDecay: SLOT.weightDecay, kl: SLOT.kl, rhoHatMean: SLOT.rhoHatMean },
    }, ds);
    const plan: Plan = { ...p, running: new Map() };
    this.plans.set(ds, plan);
    return plan;
  }

  /**
   * ρ̂ of every hidden layer ← scale·(column mean over the chunk's m_total rows) + beta·ρ̂.
   * Exact sums over chunks: scale 1, beta 0 then 1. Running average: scale 1 − decay, beta decay.
   */
  private async rhoDispatches(c: GpuDataset['chunks'][number], layers: LayerBuffers[], m: number, beta: number, scale: number): Promise<Dispatch[]> {
    const out: Dispatch[] = [];
    for (let l = 0; l < this.network.layers.length - 2; l++) {
      out.push(
        ...(await this.kernels.colsum({
          rows: c.rows, cols: this.network.layers[l + 1]!, X: { buffer: layers[l]!.A },
          out: { buffer: this.rhoHatBuffer, offset: this.rhoOffsets[l] }, scale: scale / m, beta, partials: this.colPartials,
        })),
      );
    }
    return out;
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
    const wantCost = what.cost ?? true;
    const wantGrad = what.gradient ?? true;
    const decay = what.rhoHatDecay ?? 0;
    let running: Dispatch[] | null = null;
    if (decay > 0 && this.network.layers.length > 2) {
      if (ds.chunks.length !== 1) throw new SpecError('a running ρ̂ estimate applies to mini-batches that fit one storage binding');
      let r = plan.running.get(decay);
      if (!r) {
        const c = ds.chunks[0]!;
        r = { first: await this.rhoDispatches(c, plan.layers, c.rows, 0, 1), next: await this.rhoDispatches(c, plan.layers, c.rows, decay, 1 - decay) };
        plan.running.set(decay, r);
      }
      running = this.runningStarted ? r.next : r.first;
      this.runningStarted = true;
    }
    this.setNoise(what.noiseSeed);
    if (this.network.vae) this.setEps(what.epsSeed ?? defaultVaeNoiseSeed(this.network));
    const enc = this.ctx.device.createCommandEncoder();
    if (wantCost) enc.clearBuffer(this.scalarsBuffer);
    const pass = enc.beginComputePass();
    if (what.before) recordDispatches(pass, what.before);
    recordDispatches(pass, plan.rhoPass);
    for (const c of plan.chunks) {
      recordDispatches(pass, c.forward);
      recordDispatches(pass, running ?? c.rho);
      recordDispatches(pass, c.terms);
      if (wantCost) recordDispatches(pass, c.cost);
      if (wantGrad) recordDispatches(pass, c.backward);
    }
    if (wantGrad) recordDispatches(pass, plan.finalGrad);
    if (wantCost) recordDispatches(pass, plan.finalCost);
    if (what.then) recordDispatches(pass, what.then);
    pass.end();
    this.ctx.device.queue.submit([enc.finish()]);
  }

  /** Reads the parts of J written by the last evaluate({ cost: true }). */
  async readCost(): Promise<{ cost: number; parts: CostParts; rhoHatMean: number | null }> {
    this.live();
    const [s] = await readF32(this.ctx.device, this.pool, [{ buffer: this.scalarsBuffer, count: SLOTS }]);
    const parts: CostParts = { data: s![SLOT.data]!, weightDecay: s![SLOT.weightDecay]!, sparsity: s![SLOT.sparsity]!, l1: s![SLOT.l1]!, contractive: s![SLOT.contractive]! };
    const rhoHatMean = this.network.layers.length > 2 ? s![SLOT.rhoHatMean]! : null;
    const vae = this.network.vae;
    if (vae) parts.kl = s![SLOT.kl]!;
    return { cost: parts.data + parts.weightDecay + parts.sparsity + parts.l1 + parts.contractive + (vae ? vae.beta * parts.kl! : 0), parts, rhoHatMean };
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

  async cost(X: Matrix, Y?: Matrix, opts: CostOptions = {}): Promise<CostReport> {
    const ds = this.upload(X, Y);
    try {
      const gradient = opts.gradient ?? true;
      await this.evaluate(ds, { cost: true, gradient, epsSeed: opts.noiseSeed });
      const [{ cost, parts }, rhoHat, grad] = await Promise.all([this.readCost(), this.readRhoHat(), gradient ? this.readGradient() : Promise.resolve(undefined)]);
      this.ctx.check();
      return grad ? { cost, parts, grad, rhoHat } : { cost, parts, rhoHat };
    } finally {
      this.release(ds);
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
    // Targets are irrelevant for inference; pass X-shaped zeros only where the spec needs them.
    const ds = this.upload(X, this.network.autoencoder ? undefined : { rows: X.rows, cols: this.network.layers[this.network.layers.length - 1]!, data: new Float32Array(X.rows * this.network.layers[this.network.layers.length - 1]!) });
    try {
      const plan = await this.plan(ds);
      const out = new Float64Array(X.rows * n);
      let r0 = 0;
      for (let ci = 0; ci < ds.chunks.length; ci++) {
        // Clean input, set before every submit (an evaluation may run between chunks).
        this.setNoise(undefined);
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
      this.release(ds);
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
    const d = net.layers[net.vae.latent]!;
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
   * −log p(x): per chunk, the encoder once, then per sample s (ε seed evaluationSeed(seed, s))
   * ε, z, the decoder, −log p(x|z) per row and a running logsumexp of log w per example,
   * one submit per sample and one readback per chunk.
   */
  async evaluateVae(X: Matrix, opts: VaeEvalOptions = {}): Promise<VaeEvaluation> {
    this.live();
    const net = this.network;
    if (!net.vae) throw new SpecError('evaluateVae needs a variational autoencoder (a spec with "vae")');
    const { samples, seed } = checkVaeEval(opts);
    const ds = this.upload(X);
    try {
      this.setNoise(undefined);
      await this.evaluate(ds, { cost: true, gradient: false, epsSeed: seed });
      const { parts } = await this.readCost();
      const negElbo = parts.data + parts.kl! + reconstructionConstant(net);
      if (!samples) return { negElbo, nll: null, samples };
      const plan = await this.plan(ds);
      const v = plan.vae!;
      let total = 0;
      for (let ci = 0; ci < ds.chunks.length; ci++) {
        const c = v.chunks[ci]!;
        for (let s = 0; s < samples; s++) {
          this.setEps(evaluationSeed(seed, s));
          const enc = this.ctx.device.createCommandEncoder();
          const pass = enc.beginComputePass();
          if (s === 0) recordDispatches(pass, c.encode);
          recordDispatches(pass, c.sample);
          recordDispatches(pass, c.decode);
          recordDispatches(pass, c.nll);
          recordDispatches(pass, s === 0 ? c.accFirst : c.accNext);
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
      this.release(ds);
    }
  }

  /**
   * Layer `layer`'s activations over `ds`, as a new data set resident on the GPU
   * (one submit, no readback): the input of the next stage of a stacked
   * autoencoder. `targets` (e.g. one-hot labels) become its Y. Its buffers
   * belong to this model: keep it alive while another model uses them, and free
   * them with `release` (or `dispose`).
   */
  async encodeDataset(ds: GpuDataset, layer = 2, opts: { targets?: Matrix } = {}): Promise<GpuDataset> {
    this.live();
    checkLayer(this.network, layer);
    if (ds.cols !== this.network.layers[0]) throw new SpecError(`the data set has ${ds.cols} features per example but the input layer has ${this.network.layers[0]} units`);
    const n = this.network.layers[layer - 1]!;
    const T = opts.targets;
    if (T) {
      if (T.rows !== ds.rows) throw new SpecError(`targets have ${T.rows} examples but the data set has ${ds.rows}`);
      assertFinite('targets', T);
    }
    const plan = await this.plan(ds);
    this.setNoise(undefined);
    this.setEps(null);
    const out = new GpuDataset(ds.rows, n, T ? T.cols : n, this.pool);
    const enc = this.ctx.device.createCommandEncoder();
    let r0 = 0;
    for (let ci = 0; ci < ds.chunks.length; ci++) {
      const rows = ds.chunks[ci]!.rows;
      const X = this.pool.acquire(rows * n * 4, STORAGE, `features L${layer}`);
      let Y: GPUBuffer | null = null;
      if (T) {
        Y = this.pool.acquire(rows * T.cols * 4, STORAGE, 'features Y');
        writeF32(this.ctx.device, Y, T.data.subarray(r0 * T.cols, (r0 + rows) * T.cols));
      }
      const pass = enc.beginComputePass();
      recordDispatches(pass, plan.chunks[ci]!.forward);
      pass.end();
      // The plan's activation buffers are reused by every chunk: copy this chunk's out before the next.
      enc.copyBufferToBuffer(plan.layers[layer - 2]!.A, 0, X, 0, rows * n * 4);
      out.chunks.push({ rows, X, Y });
      r0 += rows;
    }
    this.ctx.device.queue.submit([enc.finish()]);
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ds of [...this.plans.keys()]) this.release(ds);
    this.pool.destroy();
    this.ctx.destroy();
  }
}

export async function createGpuModel(net: Network, theta: Float64Array, device?: GPUDevice, opts: GpuModelOptions = {}): Promise<GpuModel> {
  const ctx = await acquireDevice({ device });
  return new GpuModel(net, ctx, theta, opts);
}
