// The GPU training step as a *plan*: every dispatch one evaluation over a data
// set records, built once per data set (pipelines, bind groups, uniforms and
// activation buffers are made here, never in the step). The steps carry the
// names of the CPU reference's steps (src/cpu/steps.ts) and are composed in the
// same order, so src/cpu/network.ts's cpuCost and buildPlan below read side by side:
//
//   linearForward (+ kSparseMask)  per layer          Z = A·Wᵀ + b ; A = f(Z)
//   columnMeans                     per hidden layer   ρ̂ = (1/m) Σᵢ a⁽ⁱ⁾
//   lossTerms, l1Penalty            per chunk          the data term, λ₁ (1/m) Σ|a|
//   contractivePenalty              per chunk          Sⱼ, qⱼ (cost λ_c Σ qⱼSⱼ after the chunks)
//   outputDelta                                        δ(nl) = (a − y)•f′(z) or a − y
//   for l = nl−1 … 1: linearBackward                   ∇W = (1/m) δᵀ·A + λW ; ∇b = colmean(δ)
//                     hiddenDelta                      δ ← (δ·W + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + λ₁ sign a)•f′ (sparsityDelta fused)
//   regularizerGradients                               + 2λ_c qⱼ W(1) (λW is linearBackward's epilogue)
//   weightDecay, sparsityPenalty                       the remaining parts of J, after the chunks
//
// A VAE (src/cpu/vae.ts) composes the same steps around three of its own: the head
// layer's linearForward writes H = [μ | log σ²] (one GEMM for both heads), then
//   reparameterize                  z = μ + σ ⊙ ε (ε seeded per submit through vaeState)
//   klTerm                          (1/m) Σᵢ KL(q(z|x⁽ⁱ⁾) ‖ N(0, I)) into SLOT.kl
//   headDelta                       [δμ | δlog σ²] from δz (hiddenDelta of the decoder's first layer)
//
// Each step returns the dispatches it records. Data are example-major (m × n
// row-major), so the notes' Z = W·A + b is Z = A·Wᵀ + b row by row. A data set
// larger than one storage binding runs chunk by chunk, accumulating ∇θ; with KL
// sparsity a first pass accumulates ρ̂ over every chunk (the notes' two forward
// passes) so the gradient is that of the full-batch objective. An f16 data set
// (halves packed two per u32) is evaluated by evaluation chunks: each chunk's
// forward list opens with unpack dispatches into one f32 scratch X (and Y) of
// one evaluation chunk, which every later step of that chunk reads as its data.

import { storedWeights, type ParamLayout, type LayerSlot } from '../params.js';
import { SpecError, type Network } from '../spec.js';
import { derivativeNeedsZ, fusedBias, sumsPartials, type BiasGrad, type Dispatch, type GemmVariant, type Kernels, type SumTerm } from './kernels.js';
import type { BufferPool } from './buffers.js';
import { STORAGE } from './buffers.js';
import { evaluationChunks, type GpuChunk, type GpuDataset } from './dataset.js';
import * as vaeKernels from './vae-kernels.js';
import { reconstructionConstant } from '../cpu/vae.js';

/** Slots of the scalars buffer: each holds one already-scaled part of J. */
export const SLOT = { data: 0, weightDecay: 1, sparsity: 2, l1: 3, rhoHatMean: 4, contractive: 5, kl: 6 } as const;
export const SLOTS = 7;

/** The model's buffers and kernels a plan records against. */
export interface PlanContext {
  net: Network;
  layout: ParamLayout;
  kernels: Kernels;
  pool: BufferPool;
  theta: GPUBuffer;
  grad: GPUBuffer;
  scalars: GPUBuffer;
  rhoHat: GPUBuffer;
  rhoOffsets: number[];
  /** Scratch of the column sums (COLSUM_STRIPS × widest layer). */
  colPartials: GPUBuffer;
  /** Denoising: [seed, enabled] of the input corruption. */
  noiseState: GPUBuffer;
  /** VAE: [seed, enabled] of ε (enabled = 0: ε = 0, z = μ). */
  vaeState: GPUBuffer;
  /** k-sparse: [k] (u32) of the top-k selection, rewritten when an annealed k changes; null without kSparse. */
  kState: GPUBuffer | null;
  maxBindingBytes: number;
  gemmVariant(M: number, N: number, K: number, transA: boolean, transB: boolean): Promise<GemmVariant>;
}

export interface LayerBuffers {
  A: GPUBuffer;
  Z: GPUBuffer | null;
  D: GPUBuffer;
  /** k-sparse layers: 1 for the kept units of each example, 0 for the zeroed. */
  M: GPUBuffer | null;
}

/** Contractive scratch: Sⱼ = Σₖ W(1)ⱼₖ², qⱼ = (1/m) Σᵢ (hⱼ(1−hⱼ))² and its per-example terms. */
export interface ContractiveBuffers {
  rowSq: GPUBuffer;
  q: GPUBuffer;
  slopeSq: GPUBuffer;
}

/** Everything one evaluation over a data set records, built once per data set. */
export interface Plan {
  /**
   * Pass 1 with chunked sparsity: forward + ρ̂ accumulation, one list per chunk
   * (empty otherwise); a streamed evaluation uploads each chunk before its part.
   */
  rhoChunks: Dispatch[][];
  /**
   * Per chunk, in order: forward, ρ̂ sums (unless rhoChunks did them), terms the
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
  /** Buffers the plan owns (released with it). */
  owned: GPUBuffer[];
  /** VAE: the buffers and the per-chunk lists that inference and the importance-weighted bound rerun. */
  vae?: VaePlanParts;
}

/** A VAE's buffers (one chunk): H = [μ | log σ²] and its δ (rows × 2d), ε (rows × d), per-row KL and −log p(x|z), the log-weight accumulator (rows × 2). */
export interface VaeBuffers {
  H: GPUBuffer;
  DH: GPUBuffer;
  EPS: GPUBuffer;
  klRow: GPUBuffer;
  rec: GPUBuffer;
  acc: GPUBuffer;
}

export interface VaePlanParts extends VaeBuffers {
  /**
   * Per chunk: encode (trunk + head) · sample (reparameterize) · decode — together the
   * chunk's forward list, the same dispatches — then −log p(x|z) per row and the
   * log-weight accumulation (first sample / later ones).
   */
  chunks: { encode: Dispatch[]; sample: Dispatch[]; decode: Dispatch[]; nll: Dispatch[]; accFirst: Dispatch[]; accNext: Dispatch[] }[];
  /** z (rows × d) and the output layer's activations of the chunk last run. */
  z: GPUBuffer;
  output: GPUBuffer;
}

/** Every dispatch list of a plan (to release their bind groups and uniforms). */
export function planDispatches(plan: Plan): Dispatch[][] {
  const vae = plan.vae ? plan.vae.chunks.flatMap((c) => [c.nll, c.accFirst, c.accNext]) : []; // encode/sample/decode are the forward lists' own
  return [...plan.rhoChunks, plan.finalCost, plan.finalGrad, ...plan.chunks.flatMap((c) => [c.forward, c.rho, c.terms, c.cost, c.backward]), ...[...plan.running.values()].flatMap((r) => [r.first, r.next]), ...vae];
}

/** VAE: z = μ + exp(½ log σ²)·ε with ε = noiseNormal at global rows rowOffset + r (ε = 0 when vaeState is off). */
export async function reparameterize(pc: PlanContext, rows: number, rowOffset: number, vb: VaeBuffers, z: GPUBuffer): Promise<Dispatch[]> {
  return [await vaeKernels.reparameterize(pc.kernels, { rows, d: pc.net.layers[pc.net.vae!.latent]!, rowOffset, H: vb.H, Z: z, EPS: vb.EPS, state: pc.vaeState })];
}

/** VAE: KL(q(z|x⁽ⁱ⁾) ‖ N(0, I)) of each row of the chunk into klRow. */
export async function klRows(pc: PlanContext, rows: number, vb: VaeBuffers): Promise<Dispatch[]> {
  return [await vaeKernels.klRows(pc.kernels, { rows, d: pc.net.layers[pc.net.vae!.latent]!, H: vb.H, out: vb.klRow })];
}

/** VAE: (1/m) Σᵢ KL(q(z|x⁽ⁱ⁾) ‖ N(0, I)) of the chunk (klRows) into SLOT.kl (β applies when the parts are summed). */
export function klTerm(rows: number, vb: VaeBuffers, m: number): SumTerm[] {
  return [{ count: rows, map: 'identity', x: { buffer: vb.klRow }, slot: SLOT.kl, scale: 1 / m }];
}

/** VAE: DH = [δz + βμ | ½ δz ε σ + ½β(σ² − 1)] from δz (rows × d). */
export async function headDelta(pc: PlanContext, rows: number, vb: VaeBuffers, dz: GPUBuffer): Promise<Dispatch[]> {
  const { latent, beta } = pc.net.vae!;
  return [await vaeKernels.headDelta(pc.kernels, { rows, d: pc.net.layers[latent]!, beta, H: vb.H, DZ: dz, EPS: vb.EPS, DH: vb.DH })];
}

/** Denoising: x̃ = corrupt(x) of one chunk, seeded per evaluation through noiseState (a plain copy when off). */
export async function corruptInput(pc: PlanContext, c: GpuChunk, rowOffset: number, out: GPUBuffer): Promise<Dispatch[]> {
  return [await pc.kernels.corrupt({ rows: c.rows, cols: pc.net.layers[0]!, rowOffset, X: { buffer: c.X }, out, spec: pc.net.corruption!, state: pc.noiseState })];
}

/**
 * Z = A·W(l)ᵀ + b ; A = f(Z) for weight layer l (a tied layer's W(l)ᵀ is the stored
 * mirror matrix itself). Softmax acts on whole rows after the GEMM, and writes each row's loss.
 * Ain: rows × nIn → L.A (and L.Z): rows × nOut.
 */
export async function linearForward(pc: PlanContext, rows: number, l: number, Ain: GPUBuffer, L: LayerBuffers, Y: GPUBuffer, rowLoss: GPUBuffer | null): Promise<Dispatch[]> {
  const s = pc.layout.slots[l]!;
  const act = pc.net.activations[l]!;
  const softmax = act.name === 'softmax';
  const out: Dispatch[] = [
    ...(await pc.kernels.gemm({
      M: rows, N: s.nOut, K: s.nIn, transB: !s.transposed,
      A: { buffer: Ain }, B: { buffer: pc.theta, offset: s.w },
      C: { buffer: softmax ? L.Z! : L.A },
      bias: { buffer: pc.theta, offset: s.b },
      activation: softmax ? null : act,
      Z: softmax ? undefined : L.Z ?? undefined,
      variant: await pc.gemmVariant(rows, s.nOut, s.nIn, false, !s.transposed),
    })),
  ];
  if (softmax) out.push(await pc.kernels.softmax({ rows, n: s.nOut, Z: L.Z!, Y: { buffer: Y }, A: L.A, rowLoss: rowLoss! }));
  return out;
}

/**
 * k-sparse layer (seed 004): keep the k largest activations of each example (rows × n), zero the rest, keep the mask.
 * k is read from kState at run time (the final k, or an annealed one during training).
 */
export async function kSparseMask(pc: PlanContext, rows: number, n: number, L: LayerBuffers): Promise<Dispatch[]> {
  return [
    await pc.kernels.topKMask({ rows, n, k: { buffer: pc.kState! }, A: L.A, mask: L.M! }),
    await pc.kernels.maskMultiply({ count: rows * n, A: L.A, mask: L.M! }),
  ];
}

/**
 * ρ̂ of every hidden layer ← scale·(column mean over the chunk's rows, divided by m) + beta·ρ̂.
 * Exact sums over chunks: scale 1, beta 0 then 1. Running average: scale 1 − decay, beta decay.
 */
export async function columnMeans(pc: PlanContext, rows: number, layers: LayerBuffers[], m: number, beta: number, scale: number): Promise<Dispatch[]> {
  const out: Dispatch[] = [];
  for (let l = 0; l < pc.net.layers.length - 2; l++) {
    out.push(
      ...(await pc.kernels.colsum({
        rows, cols: pc.net.layers[l + 1]!, X: { buffer: layers[l]!.A },
        out: { buffer: pc.rhoHat, offset: pc.rhoOffsets[l] }, scale: scale / m, beta, partials: pc.colPartials,
      })),
    );
  }
  return out;
}

/** The data term (1/m) Σ loss into SLOT.data: ½(a − y)², BCE from the logits, or the softmax rows' losses. */
export function lossTerms(net: Network, rows: number, outL: LayerBuffers, Y: GPUBuffer, rowLoss: GPUBuffer | null, m: number): SumTerm[] {
  const nL = net.layers[net.layers.length - 1]!;
  const common = { slot: SLOT.data, scale: 1 / m };
  if (net.loss === 'squared') return [{ count: rows * nL, map: 'halfSqDiff', x: { buffer: outL.A }, y: { buffer: Y }, ...common }];
  if (net.loss === 'cross-entropy') return [{ count: rows * nL, map: 'bceLogits', x: { buffer: outL.Z! }, y: { buffer: Y }, ...common }];
  return [{ count: rows, map: 'identity', x: { buffer: rowLoss! }, ...common }];
}

/** L1 activation penalty λ₁ (1/m) Σᵢ Σⱼ |aⱼ| of each L1 layer into SLOT.l1. */
export function l1Penalty(net: Network, rows: number, layers: LayerBuffers[], m: number): SumTerm[] {
  const out: SumTerm[] = [];
  if (!net.l1) return out;
  for (let l = 0; l < net.layers.length - 2; l++) {
    if (net.l1.onLayer[l]) out.push({ count: rows * net.layers[l + 1]!, map: 'abs', x: { buffer: layers[l]!.A }, slot: SLOT.l1, scale: net.l1.weight / m });
  }
  return out;
}

/**
 * Contractive penalty (seed 004), the per-chunk part: Sⱼ = Σₖ W(1)ⱼₖ² (first chunk),
 * (hⱼ(1−hⱼ))² per example and qⱼ = (1/m) Σᵢ (hⱼ(1−hⱼ))² accumulated over chunks.
 */
export async function contractivePenalty(pc: PlanContext, rows: number, first: boolean, H: GPUBuffer, cb: ContractiveBuffers, m: number): Promise<Dispatch[]> {
  const k = pc.kernels;
  const n1 = pc.net.layers[0]!;
  const n2 = pc.net.layers[1]!;
  const s0 = pc.layout.slots[0]!;
  const out: Dispatch[] = [];
  if (first) out.push(await k.rowSumSq({ rows: n2, cols: n1, W: { buffer: pc.theta, offset: s0.w }, out: { buffer: cb.rowSq } }));
  out.push(await k.slopeSq({ count: rows * n2, A: H, out: cb.slopeSq }));
  out.push(...(await k.colsum({ rows, cols: n2, X: { buffer: cb.slopeSq }, out: { buffer: cb.q }, scale: 1 / m, beta: first ? 0 : 1, partials: pc.colPartials })));
  return out;
}

/** The contractive part of J after the chunks: λ_c Σⱼ qⱼ Sⱼ into SLOT.contractive. */
export function contractiveCost(net: Network, cb: ContractiveBuffers): SumTerm[] {
  return [{ count: net.layers[1]!, map: 'product', x: { buffer: cb.q }, y: { buffer: cb.rowSq }, slot: SLOT.contractive, scale: net.contractive!.weight }];
}

/**
 * δ(nl) = (a − y)•f′(z) (squared loss) or a − y (the matched cross-entropies), rows × nL.
 * `biasGrad`: the same pass also writes the last layer's ∇b = (1/m) Σᵢ δ(nl) (biasGradOf).
 */
export async function outputDelta(pc: PlanContext, rows: number, outL: LayerBuffers, Y: GPUBuffer, biasGrad?: BiasGrad): Promise<Dispatch[]> {
  const net = pc.net;
  const nL = net.layers[net.layers.length - 1]!;
  return [await pc.kernels.outputDelta({ rows, n: nL, activation: net.activations[net.layers.length - 2]!, squared: net.loss === 'squared', A: outL.A, Y: { buffer: Y }, D: outL.D, Z: outL.Z ?? undefined, biasGrad })];
}

/** ∇b(slot) ← (1/m) Σᵢ δ (+ the earlier chunks' unless `first`): what linearBackward's colsum writes, for a δ kernel to write instead. */
export function biasGradOf(pc: PlanContext, s: LayerSlot, m: number, first: boolean): BiasGrad {
  return { out: { buffer: pc.grad, offset: s.b }, scale: 1 / m, beta: first ? 0 : 1 };
}

/**
 * ∇W(l) = (1/m) δ(l+1)ᵀ·A(l) + λW(l) (λW once: `fresh`, the first chunk to write this
 * stored matrix), accumulated over chunks; ∇b(l) = (1/m) Σᵢ δ(l+1). A tied layer adds its
 * gradient transposed, (1/m) A(l)ᵀ·δ(l+1), to the mirror matrix.
 */
export async function linearBackward(pc: PlanContext, rows: number, s: LayerSlot, Ain: GPUBuffer, D: GPUBuffer, m: number, first: boolean, fresh: boolean, biasDone = false): Promise<Dispatch[]> {
  const k = pc.kernels;
  return [
    ...(await k.gemm({
      ...(s.transposed ? { M: s.nIn, N: s.nOut, A: { buffer: Ain }, B: { buffer: D } } : { M: s.nOut, N: s.nIn, A: { buffer: D }, B: { buffer: Ain } }),
      K: rows, transA: true,
      C: { buffer: pc.grad, offset: s.w },
      alpha: 1 / m, beta: fresh ? 0 : 1,
      E: { buffer: pc.theta, offset: s.w }, gamma: fresh ? pc.net.lambda : 0,
      variant: s.transposed ? await pc.gemmVariant(s.nIn, s.nOut, rows, true, false) : await pc.gemmVariant(s.nOut, s.nIn, rows, true, false),
    })),
    // ∇b, unless the kernel that wrote δ wrote it too (biasDone).
    ...(biasDone ? [] : await k.colsum({ rows, cols: s.nOut, X: { buffer: D }, out: { buffer: pc.grad, offset: s.b }, scale: 1 / m, beta: first ? 0 : 1, partials: pc.colPartials })),
  ];
}

/**
 * δ(l) = ((δ(l+1)·W(l) + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + λ₁ sign a) • f′(z(l)) + contractive) • k-sparse mask,
 * for weight layer l ≥ 1: a GEMM into below.D, then the element-wise kernel (sparsityDelta fused).
 */
export async function hiddenDelta(pc: PlanContext, rows: number, l: number, D: GPUBuffer, below: LayerBuffers, cb: ContractiveBuffers | null, biasGrad?: BiasGrad): Promise<Dispatch[]> {
  const { net, kernels: k } = pc;
  const s = pc.layout.slots[l]!;
  const sparse = net.sparsity;
  const onSparse = !!sparse && sparse.onLayer[l - 1]!;
  const onL1 = !!net.l1 && net.l1.onLayer[l - 1]!;
  return [
    ...(await k.gemm({
      M: rows, N: s.nIn, K: s.nOut, transB: s.transposed,
      A: { buffer: D }, B: { buffer: pc.theta, offset: s.w }, C: { buffer: below.D },
      variant: await pc.gemmVariant(rows, s.nIn, s.nOut, false, s.transposed),
    })),
    await k.hiddenDelta({
      rows, n: s.nIn, activation: net.activations[l - 1]!, G: below.D, A: below.A, Z: below.Z ?? undefined,
      rhoHat: onSparse ? { buffer: pc.rhoHat, offset: pc.rhoOffsets[l - 1] } : undefined,
      rho: sparse?.rho, beta: sparse?.beta, l1: onL1 ? net.l1!.weight : 0,
      mask: below.M ?? undefined,
      contractive: l === 1 && cb ? { weight: net.contractive!.weight, rowSumSq: { buffer: cb.rowSq } } : undefined,
      biasGrad,
    }),
  ];
}

/** The contractive penalty's direct term through Sⱼ: ∇W(1)ⱼₖ += 2λ_c qⱼ W(1)ⱼₖ (λW is in linearBackward). */
export async function regularizerGradients(pc: PlanContext, cb: ContractiveBuffers | null): Promise<Dispatch[]> {
  if (!cb) return [];
  const n1 = pc.net.layers[0]!;
  const n2 = pc.net.layers[1]!;
  const s0 = pc.layout.slots[0]!;
  return [await pc.kernels.scaleRowsAdd({ rows: n2, cols: n1, G: { buffer: pc.grad, offset: s0.w }, W: { buffer: pc.theta, offset: s0.w }, q: { buffer: cb.q }, coef: 2 * pc.net.contractive!.weight })];
}

/** Weight decay (λ/2) Σ W² over each stored matrix into SLOT.weightDecay. */
export function weightDecay(pc: PlanContext): SumTerm[] {
  if (!(pc.net.lambda > 0)) return [];
  return storedWeights(pc.layout).map((s) => ({ count: s.nOut * s.nIn, map: 'square', x: { buffer: pc.theta, offset: s.w }, slot: SLOT.weightDecay, scale: pc.net.lambda / 2 }));
}

/** Sparsity β Σⱼ KL(ρ‖ρ̂ⱼ) of each sparse layer into SLOT.sparsity. */
export function sparsityPenalty(pc: PlanContext): SumTerm[] {
  const { net } = pc;
  const sparse = net.sparsity;
  const out: SumTerm[] = [];
  if (!sparse) return out;
  for (let l = 0; l < net.layers.length - 2; l++) {
    if (sparse.onLayer[l]) out.push({ count: net.layers[l + 1]!, map: 'kl', x: { buffer: pc.rhoHat, offset: pc.rhoOffsets[l] }, rho: sparse.rho, slot: SLOT.sparsity, scale: sparse.beta });
  }
  return out;
}

/** Mean ρ̂ of the first hidden layer into SLOT.rhoHatMean (progress reports). */
export function rhoHatMean(pc: PlanContext): SumTerm[] {
  const n2 = pc.net.layers[1]!;
  if (pc.net.layers.length <= 2) return [];
  return [{ count: n2, map: 'identity', x: { buffer: pc.rhoHat, offset: 0 }, slot: SLOT.rhoHatMean, scale: 1 / n2 }];
}

/** Builds the plan of one data set: buffers sized for one chunk, then every step's dispatches, in the order of cpuCost. */
export async function buildPlan(pc: PlanContext, ds: GpuDataset): Promise<Plan> {
  const net = pc.net;
  const Lw = net.layers.length - 1; // weight layers
  const views = evaluationChunks(ds);
  const chunkRows = views[0]!.rows;
  const owned: GPUBuffer[] = [];
  const buf = (elements: number, label: string): GPUBuffer => {
    const b = pc.pool.acquire(Math.max(1, elements) * 4, STORAGE, label);
    owned.push(b);
    return b;
  };
  const checkBinding = (bytes: number, what: string): void => {
    if (bytes > pc.maxBindingBytes) throw new SpecError(`${what} needs ${bytes} bytes, over the storage binding limit of ${pc.maxBindingBytes} bytes (maxStorageBufferBindingSize, or maxBindingBytes when lower)`);
  };
  // Activation, pre-activation and δ buffers per weight layer, sized for one chunk.
  const layers: LayerBuffers[] = [];
  for (let l = 0; l < Lw; l++) {
    const n = net.layers[l + 1]!;
    const act = net.activations[l]!;
    const isOut = l === Lw - 1;
    const needZ = derivativeNeedsZ(act) || (isOut && net.loss !== 'squared');
    checkBinding(chunkRows * n * 4, `layer ${l + 2}'s activations`);
    const kSparse = !!net.kSparse?.onLayer[l];
    layers.push({ A: buf(chunkRows * n, `A${l + 2}`), Z: needZ ? buf(chunkRows * n, `Z${l + 2}`) : null, D: buf(chunkRows * n, `D${l + 2}`), M: kSparse ? buf(chunkRows * n, `mask${l + 2}`) : null });
  }
  const rowLoss = net.activations[Lw - 1]!.name === 'softmax' ? buf(chunkRows, 'rowLoss') : null;
  const n1 = net.layers[0]!;
  const n2 = net.layers[1]!;
  // Denoising: the corrupted input x̃ of one chunk (the loss still reads the clean X).
  const noisyInput = net.corruption ? buf(chunkRows * n1, 'noisy X') : null;
  const cb: ContractiveBuffers | null = net.contractive ? { rowSq: buf(n2, 'contractive S'), q: buf(n2, 'contractive q'), slopeSq: buf(chunkRows * n2, 'contractive (h(1−h))²') } : null;
  // VAE: the latent layer's A and D hold z and δz (rows × d); the head's H, δH and the rest live apart.
  const c = net.vae?.latent ?? -1;
  const d = net.vae ? net.layers[c]! : 0;
  if (net.vae) checkBinding(chunkRows * 2 * d * 4, 'the VAE head');
  const vb: VaeBuffers | null = net.vae
    ? { H: buf(chunkRows * 2 * d, 'vae H = [μ | log σ²]'), DH: buf(chunkRows * 2 * d, 'vae δH'), EPS: buf(chunkRows * d, 'vae ε'), klRow: buf(chunkRows, 'vae KL per row'), rec: buf(chunkRows, 'vae −log p(x|z) per row'), acc: buf(chunkRows * 2, 'vae log-weight accumulator') }
    : null;
  const headL: LayerBuffers | null = vb ? { A: vb.H, Z: null, D: vb.DH, M: null } : null;
  const vaeChunks: VaePlanParts['chunks'] = [];
  // f16 data: the f32 scratch of one evaluation chunk that the unpack dispatches fill.
  const f16 = ds.precision === 'f16';
  const hasY = ds.chunks.some((c) => c.Y);
  const scratch = f16 ? { X: buf(chunkRows * n1, 'f32 X of an f16 chunk'), Y: hasY ? buf(chunkRows * ds.targetCols, 'f32 Y of an f16 chunk') : null } : null;
  /** The chunk each step reads: the data chunk itself, or (f16) the scratch its unpack fills. */
  const dataOf = views.map((v): GpuChunk => (scratch ? { rows: v.rows, X: scratch.X, Y: v.chunk.Y ? scratch.Y : null } : v.chunk));
  /** f16: halves of evaluation chunk ci → the f32 scratch (fresh dispatches for every list they open). */
  const unpack = async (ci: number): Promise<Dispatch[]> => {
    if (!scratch) return [];
    const v = views[ci]!;
    const k = pc.kernels;
    const out = [await k.unpack({ count: v.rows * n1, offset: v.first * n1, src: v.chunk.X, dst: scratch.X })];
    if (v.chunk.Y && scratch.Y) out.push(await k.unpack({ count: v.rows * ds.targetCols, offset: v.first * ds.targetCols, src: v.chunk.Y, dst: scratch.Y }));
    return out;
  };

  const m = ds.rows;
  const multi = views.length > 1;
  const sparse = net.sparsity;
  const rhoChunks: Dispatch[][] = [];
  const chunks: Plan['chunks'] = [];
  const costTerms: SumTerm[][] = [];
  const rowOffsets = views.map((_, ci) => views.slice(0, ci).reduce((n, c) => n + c.rows, 0));
  /** The input layer of a chunk: X, or x̃ for a denoising network. */
  const inputOf = (c: GpuChunk): GPUBuffer => noisyInput ?? c.X;

  // Forward: (x̃ = corrupt(x)), then Z = A·Wᵀ + b ; A = f(Z) per layer (+ the k-sparse mask).
  // A VAE's head layer writes H, then z = μ + σ ε becomes the latent layer's A; the
  // lists split there (encode · sample · decode) for inference and the IWAE bound.
  const forward = async (ch: GpuChunk, ci: number, into: Dispatch[], split?: { encode: Dispatch[]; sample: Dispatch[]; decode: Dispatch[] }): Promise<void> => {
    let list = split ? split.encode : into;
    list.push(...(await unpack(ci)));
    if (noisyInput) list.push(...(await corruptInput(pc, ch, rowOffsets[ci]!, noisyInput)));
    for (let l = 0; l < Lw; l++) {
      const L = layers[l]!;
      const Ain = l === 0 ? inputOf(ch) : layers[l - 1]!.A;
      if (vb && l === c - 1) {
        list.push(...(await linearForward(pc, ch.rows, l, Ain, headL!, ch.Y ?? ch.X, null)));
        if (split) list = split.sample;
        list.push(...(await reparameterize(pc, ch.rows, rowOffsets[ci]!, vb, L.A)));
        if (split) list = split.decode;
        continue;
      }
      list.push(...(await linearForward(pc, ch.rows, l, Ain, L, ch.Y ?? ch.X, rowLoss)));
      if (L.M) list.push(...(await kSparseMask(pc, ch.rows, net.layers[l + 1]!, L)));
    }
    if (split) into.push(...split.encode, ...split.sample, ...split.decode);
  };

  for (let ci = 0; ci < views.length; ci++) {
    const ch = dataOf[ci]!;
    const first = ci === 0;
    const Y = ch.Y ?? ch.X;
    if (multi && sparse) {
      // The notes' first forward pass: ρ̂ over every chunk before any δ.
      const part: Dispatch[] = [];
      await forward(ch, ci, part);
      part.push(...(await columnMeans(pc, ch.rows, layers, m, first ? 0 : 1, 1)));
      rhoChunks.push(part);
    }
    // Chunk ci's dispatches go into lists that stay in order in the pass.
    const fw: Dispatch[] = [];
    const split = vb ? { encode: [] as Dispatch[], sample: [] as Dispatch[], decode: [] as Dispatch[] } : undefined;
    await forward(ch, ci, fw, split);
    const rho = multi && sparse ? [] : await columnMeans(pc, ch.rows, layers, m, first ? 0 : 1, 1);
    const terms = cb ? await contractivePenalty(pc, ch.rows, first, layers[0]!.A, cb, m) : [];
    const outL = layers[Lw - 1]!;
    // The chunk's scalar parts of J; their sums are recorded below, once the partials buffer is sized.
    const cost: Dispatch[] = vb ? await klRows(pc, ch.rows, vb) : [];
    costTerms.push([...lossTerms(net, ch.rows, outL, Y, rowLoss, m), ...l1Penalty(net, ch.rows, layers, m), ...(vb ? klTerm(ch.rows, vb, m) : [])]);
    // Few rows (a mini-batch): each δ kernel also writes its layer's ∇b (one pass over δ, not two).
    // Not for a VAE, whose head δ is formed after the decoder's δz.
    const fuse = fusedBias(ch.rows) && !vb;
    const bw: Dispatch[] = [...(await outputDelta(pc, ch.rows, outL, Y, fuse ? biasGradOf(pc, pc.layout.slots[Lw - 1]!, m, first) : undefined))];
    const written = new Set<number>(); // stored matrices of ∇θ written so far in this chunk
    for (let l = Lw - 1; l >= 0; l--) {
      const s = pc.layout.slots[l]!;
      const fresh = first && !written.has(s.w);
      written.add(s.w);
      const D = vb && l === c - 1 ? vb.DH : layers[l]!.D; // the head's δ is [δμ | δlog σ²]
      bw.push(...(await linearBackward(pc, ch.rows, s, l === 0 ? inputOf(ch) : layers[l - 1]!.A, D, m, first, fresh, fuse)));
      if (l === 0) continue;
      bw.push(...(await hiddenDelta(pc, ch.rows, l, D, layers[l - 1]!, cb, fuse ? biasGradOf(pc, pc.layout.slots[l - 1]!, m, first) : undefined)));
      // The decoder's first layer: its hiddenDelta wrote δz (identity latent layer); through z = μ + σ ε to the heads.
      if (vb && l === c) bw.push(...(await headDelta(pc, ch.rows, vb, layers[c - 1]!.D)));
    }
    chunks.push({ forward: fw, rho, terms, cost, backward: bw });
    if (vb && split) {
      const bernoulli = net.loss === 'cross-entropy';
      const nL = net.layers[Lw]!;
      const nll = [await vaeKernels.rowNll(pc.kernels, { rows: ch.rows, n: nL, gaussian: !bernoulli, OUT: bernoulli ? outL.Z! : outL.A, X: { buffer: ch.X }, out: vb.rec })];
      const acc = { rows: ch.rows, d, konst: reconstructionConstant(net), H: vb.H, Z: layers[c - 1]!.A, EPS: vb.EPS, REC: vb.rec, ACC: vb.acc };
      vaeChunks.push({ ...split, nll, accFirst: [await vaeKernels.iwAccumulate(pc.kernels, { ...acc, first: true })], accNext: [await vaeKernels.iwAccumulate(pc.kernels, { ...acc, first: false })] });
    }
  }

  const finalGrad = await regularizerGradients(pc, cb);
  // The scalar parts of J in few dispatches (sums.wgsl). One chunk: its terms join the
  // final ones (the activations and targets they read are intact until then).
  // Several: each chunk sums its own before the next chunk overwrites them.
  const finalTerms = [...(multi ? [] : costTerms[0]!), ...(cb ? contractiveCost(net, cb) : []), ...weightDecay(pc), ...sparsityPenalty(pc), ...rhoHatMean(pc)];
  const sumLists = [...(multi ? costTerms : []), finalTerms];
  const sumPartials = buf(Math.max(...sumLists.map(sumsPartials)), 'sum partials');
  if (multi) for (let ci = 0; ci < chunks.length; ci++) chunks[ci]!.cost.push(...(await pc.kernels.sums(costTerms[ci]!, sumPartials, pc.scalars)));
  const finalCost = await pc.kernels.sums(finalTerms, sumPartials, pc.scalars);
  const vae: VaePlanParts | undefined = vb ? { ...vb, chunks: vaeChunks, z: layers[c - 1]!.A, output: layers[Lw - 1]!.A } : undefined;
  return { rhoChunks, chunks, finalCost, finalGrad, layers, running: new Map(), owned, vae };
}
