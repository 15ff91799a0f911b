// The VAE's evaluation plan on the GPU (the float64 reference is src/cpu/vae.ts):
// per chunk, the encoder trunk, the head GEMM H = [μ | log σ²] (one 2d-row matrix
// for both heads), z = μ + σ ε, the decoder; the cost sums (reconstruction, KL); and
// the backward pass, where the decoder's δ reaches z, head_delta turns it into
// [δμ | δlog σ²], and the head's 2d × n matrix carries it into the trunk.
// ε is seeded per submit through `vaeState` = u32 [seed, enabled] (off: z = μ).
// The plan also keeps the pieces an importance-weighted evaluation reruns per sample.

import { storedWeights, type ParamLayout } from '../params.js';
import type { Network } from '../spec.js';
import { derivativeNeedsZ, type Dispatch, type GemmVariant, type Kernels } from './kernels.js';
import { headDelta, iwAccumulate, klRows, reparameterize, rowNll } from './vae-kernels.js';
import { reconstructionConstant } from '../cpu/vae.js';

/** What a plan builder needs of the model that owns the buffers. */
export interface PlanContext {
  net: Network;
  layout: ParamLayout;
  kernels: Kernels;
  theta: GPUBuffer;
  grad: GPUBuffer;
  scalars: GPUBuffer;
  partials: GPUBuffer;
  colPartials: GPUBuffer;
  /** Denoising: [seed, enabled] of the input corruption. */
  noiseState: GPUBuffer;
  /** VAE: [seed, enabled] of ε. */
  vaeState: GPUBuffer;
  /** A buffer of `elements` f32 owned by this plan (freed with it). */
  buf(elements: number, label: string): GPUBuffer;
  checkBinding(bytes: number, what: string): void;
  gemmVariant(M: number, N: number, K: number, transA: boolean, transB: boolean): Promise<GemmVariant>;
  /** ρ̂ ← scale·(column mean over m) + beta·ρ̂ for every hidden layer's A. */
  rhoDispatches(c: ChunkLike, layers: LayerBuffersLike[], m: number, beta: number, scale: number): Promise<Dispatch[]>;
  /** ρ̂ of every hidden layer (first layer's at offset 0). */
  rhoHat: GPUBuffer;
  slots: { data: number; weightDecay: number; kl: number; rhoHatMean: number };
}

export interface ChunkLike {
  rows: number;
  X: GPUBuffer;
  Y: GPUBuffer | null;
}

export interface LayerBuffersLike {
  A: GPUBuffer;
  Z: GPUBuffer | null;
  D: GPUBuffer;
  M: GPUBuffer | null;
}

/** The VAE's extra per-chunk lists and buffers (the generic Plan holds the rest). */
export interface VaePlanParts {
  /** Per chunk: encoder trunk + head (H); ε and z; decoder; −log p(x|z) per row; accumulate log w (first sample / later ones). */
  chunks: { encode: Dispatch[]; sample: Dispatch[]; decode: Dispatch[]; nll: Dispatch[]; accFirst: Dispatch[]; accNext: Dispatch[] }[];
  /** [max, Σ exp(log w − max)] per example of the chunk last evaluated, rows × 2. */
  acc: GPUBuffer;
  /** z of the chunk (rows × d) and the output layer's activations. */
  z: GPUBuffer;
  output: GPUBuffer;
  H: GPUBuffer;
}

export interface VaePlan {
  rhoPass: Dispatch[];
  chunks: { forward: Dispatch[]; rho: Dispatch[]; terms: Dispatch[]; cost: Dispatch[]; backward: Dispatch[] }[];
  finalCost: Dispatch[];
  finalGrad: Dispatch[];
  layers: LayerBuffersLike[];
  vae: VaePlanParts;
}

export async function buildVaePlan(ctx: PlanContext, ds: { rows: number; chunks: ChunkLike[] }): Promise<VaePlan> {
  const { net, layout, kernels: k } = ctx;
  const { beta, latent: c } = net.vae!;
  const Lw = net.layers.length - 1;
  const d = net.layers[c]!;
  const n1 = net.layers[0]!;
  const nL = net.layers[Lw]!;
  const chunkRows = ds.chunks[0]!.rows;
  const m = ds.rows;
  const bernoulli = net.loss === 'cross-entropy';

  // Layer buffers. The latent layer (k = c − 1) holds z in A and δz in D; the head's
  // H = [μ | log σ²] and its δ live apart (2d wide).
  const layers: LayerBuffersLike[] = [];
  for (let l = 0; l < Lw; l++) {
    const n = net.layers[l + 1]!;
    const act = net.activations[l]!;
    const isOut = l === Lw - 1;
    const needZ = derivativeNeedsZ(act) || (isOut && bernoulli);
    ctx.checkBinding(chunkRows * n * 4, `layer ${l + 2}'s activations`);
    layers.push({ A: ctx.buf(chunkRows * n, `A${l + 2}`), Z: needZ ? ctx.buf(chunkRows * n, `Z${l + 2}`) : null, D: ctx.buf(chunkRows * n, `D${l + 2}`), M: null });
  }
  ctx.checkBinding(chunkRows * 2 * d * 4, 'the VAE head');
  const H = ctx.buf(chunkRows * 2 * d, 'vae H = [μ | log σ²]');
  const DH = ctx.buf(chunkRows * 2 * d, 'vae δH');
  const EPS = ctx.buf(chunkRows * d, 'vae ε');
  const klRow = ctx.buf(chunkRows, 'vae KL per row');
  const rec = ctx.buf(chunkRows, 'vae −log p(x|z) per row');
  const acc = ctx.buf(chunkRows * 2, 'vae log-weight accumulator');
  const noisyInput = net.corruption ? ctx.buf(chunkRows * n1, 'noisy X') : null;
  const latentL = layers[c - 1]!;
  const outL = layers[Lw - 1]!;

  const rowOffsets = ds.chunks.map((_, ci) => ds.chunks.slice(0, ci).reduce((n, ch) => n + ch.rows, 0));
  const inputOf = (ch: ChunkLike): GPUBuffer => noisyInput ?? ch.X;
  const dense = async (l: number, rows: number, Ain: GPUBuffer, C: GPUBuffer, Zbuf: GPUBuffer | null, identity: boolean): Promise<Dispatch> => {
    const s = layout.slots[l]!;
    return k.gemm({
      M: rows, N: s.nOut, K: s.nIn, transB: true,
      A: { buffer: Ain }, B: { buffer: ctx.theta, offset: s.w }, C: { buffer: C },
      bias: { buffer: ctx.theta, offset: s.b },
      activation: identity ? null : net.activations[l]!,
      Z: Zbuf ?? undefined,
      variant: await ctx.gemmVariant(rows, s.nOut, s.nIn, false, true),
    });
  };

  const vaeChunks: VaePlanParts['chunks'] = [];
  const chunks: VaePlan['chunks'] = [];
  for (let ci = 0; ci < ds.chunks.length; ci++) {
    const ch = ds.chunks[ci]!;
    const rows = ch.rows;
    const first = ci === 0;
    const rowOffset = rowOffsets[ci]!;
    // Encoder: x̃ (denoising), trunk, head.
    const encode: Dispatch[] = [];
    if (noisyInput) encode.push(await k.corrupt({ rows, cols: n1, rowOffset, X: { buffer: ch.X }, out: noisyInput, spec: net.corruption!, state: ctx.noiseState }));
    for (let l = 0; l < c - 1; l++) encode.push(await dense(l, rows, l === 0 ? inputOf(ch) : layers[l - 1]!.A, layers[l]!.A, layers[l]!.Z, false));
    encode.push(await dense(c - 1, rows, c === 1 ? inputOf(ch) : layers[c - 2]!.A, H, null, true));
    // z = μ + σ ε
    const sample = [await reparameterize(k, { rows, d, rowOffset, H, Z: latentL.A, EPS, state: ctx.vaeState })];
    // Decoder from z.
    const decode: Dispatch[] = [];
    for (let l = c; l < Lw; l++) decode.push(await dense(l, rows, layers[l - 1]!.A, layers[l]!.A, layers[l]!.Z, false));
    const Y = { buffer: ch.X }; // the clean input is the target
    const nll = [await rowNll(k, { rows, n: nL, gaussian: !bernoulli, OUT: bernoulli ? outL.Z! : outL.A, X: Y, out: rec })];
    const accArgs = { rows, d, konst: reconstructionConstant(net), H, Z: latentL.A, EPS, REC: rec, ACC: acc };
    vaeChunks.push({ encode, sample, decode, nll, accFirst: [await iwAccumulate(k, { ...accArgs, first: true })], accNext: [await iwAccumulate(k, { ...accArgs, first: false })] });

    const rho = await ctx.rhoDispatches(ch, layers, m, first ? 0 : 1, 1);
    // Cost: mean reconstruction NLL and mean KL (β applies when the parts are summed).
    const cost: Dispatch[] = [];
    if (bernoulli) cost.push(...(await k.sum({ count: rows * nL, map: 'bceLogits', x: { buffer: outL.Z! }, y: Y, partials: ctx.partials, scalars: ctx.scalars, slot: ctx.slots.data, scale: 1 / m })));
    else cost.push(...(await k.sum({ count: rows * nL, map: 'halfSqDiff', x: { buffer: outL.A }, y: Y, partials: ctx.partials, scalars: ctx.scalars, slot: ctx.slots.data, scale: 1 / m })));
    cost.push(await klRows(k, { rows, d, H, out: klRow }));
    cost.push(...(await k.sum({ count: rows, map: 'identity', x: { buffer: klRow }, partials: ctx.partials, scalars: ctx.scalars, slot: ctx.slots.kl, scale: 1 / m })));

    // Backward: δ(L) = a − x (sigmoid + Bernoulli, identity + Gaussian).
    const bw: Dispatch[] = [];
    bw.push(await k.outputDelta({ rows, n: nL, activation: net.activations[Lw - 1]!, squared: !bernoulli, A: outL.A, Y, D: outL.D, Z: outL.Z ?? undefined }));
    for (let l = Lw - 1; l >= 0; l--) {
      const s = layout.slots[l]!;
      const D = l === c - 1 ? DH : layers[l]!.D;
      const Ain = l === 0 ? inputOf(ch) : layers[l - 1]!.A; // l = c: z
      // ∇W(l) = (1/m) δᵀ·A + λW (λW once), accumulated over chunks; ∇b = (1/m) Σ δ.
      bw.push(
        await k.gemm({
          M: s.nOut, N: s.nIn, K: rows, transA: true,
          A: { buffer: D }, B: { buffer: Ain },
          C: { buffer: ctx.grad, offset: s.w }, alpha: 1 / m, beta: first ? 0 : 1,
          E: { buffer: ctx.theta, offset: s.w }, gamma: first ? net.lambda : 0,
          variant: await ctx.gemmVariant(s.nOut, s.nIn, rows, true, false),
        }),
      );
      bw.push(...(await k.colsum({ rows, cols: s.nOut, X: { buffer: D }, out: { buffer: ctx.grad, offset: s.b }, scale: 1 / m, beta: first ? 0 : 1, partials: ctx.colPartials })));
      if (l === 0) continue;
      // g = δ·W(l): the gradient at this layer's input.
      const below = layers[l - 1]!;
      bw.push(
        await k.gemm({
          M: rows, N: s.nIn, K: s.nOut,
          A: { buffer: D }, B: { buffer: ctx.theta, offset: s.w }, C: { buffer: below.D },
          variant: await ctx.gemmVariant(rows, s.nIn, s.nOut, false, false),
        }),
      );
      if (l === c) {
        // g is δz: through z = μ + σ ε (and β·∂KL) to the heads.
        bw.push(await headDelta(k, { rows, d, beta, H, DZ: below.D, EPS, DH }));
      } else {
        bw.push(await k.hiddenDelta({ rows, n: s.nIn, activation: net.activations[l - 1]!, G: below.D, A: below.A, Z: below.Z ?? undefined }));
      }
    }
    chunks.push({ forward: [...encode, ...sample, ...decode], rho, terms: [], cost, backward: bw });
  }

  const finalCost: Dispatch[] = [];
  if (net.lambda > 0) {
    for (const s of storedWeights(layout)) {
      finalCost.push(...(await k.sum({ count: s.nOut * s.nIn, map: 'square', x: { buffer: ctx.theta, offset: s.w }, partials: ctx.partials, scalars: ctx.scalars, slot: ctx.slots.weightDecay, scale: net.lambda / 2 })));
    }
  }
  const n2 = net.layers[1]!;
  finalCost.push(...(await k.sum({ count: n2, map: 'identity', x: { buffer: ctx.rhoHat, offset: 0 }, partials: ctx.partials, scalars: ctx.scalars, slot: ctx.slots.rhoHatMean, scale: 1 / n2 })));
  return { rhoPass: [], chunks, finalCost, finalGrad: [], layers, vae: { chunks: vaeChunks, acc, z: latentL.A, output: outL.A, H } };
}
