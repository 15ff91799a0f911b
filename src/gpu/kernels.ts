// One typed launcher per kernel. Each call compiles (or reuses) the pipeline,
// writes the call's parameters into its own uniform buffer and builds its bind
// group, returning a Dispatch that can be recorded into any number of command
// encoders. Nothing here runs per training step: plans build Dispatches once.

import { CORRUPTION_KINDS, type CorruptionSpec } from '../noise.js';
import type { Activation, ActivationName } from '../spec.js';
import { BufferPool, STORAGE, UNIFORM } from './buffers.js';
import { GpuError, type GpuContext } from './device.js';
import { PipelineCache, type Defines } from './shaders.js';
import { ACT_ID as ACT_ID_GEN, SUM_MAP_ID, VEC_OP_ID } from './ids.gen.js';

export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly x: number;
  readonly y: number;
  readonly label: string;
  /** The dispatch's own uniform buffer (released with Kernels.release). */
  readonly params: GPUBuffer;
  /** Scratch this dispatch holds (split-K's slices, shared by size: Kernels.sharedScratch), released with it. */
  readonly owned?: readonly GPUBuffer[];
}

/**
 * Where a list's workgroup counts come from when it is recorded as indirect
 * dispatches: (x, y, 1) per dispatch, in list order, at byte `offset` of
 * `buffer` (INDIRECT_ARGS usage). `indirectArgs` is the template to write there.
 */
export interface IndirectArgs {
  readonly buffer: GPUBuffer;
  readonly offset: number;
}

/** GPUBufferUsage STORAGE | INDIRECT | COPY_DST | COPY_SRC: indirect arguments a kernel can also write. */
export const INDIRECT_ARGS = 0x80 | 0x100 | 0x08 | 0x04;

export function recordDispatches(pass: GPUComputePassEncoder, list: readonly Dispatch[], indirect?: IndirectArgs): void {
  list.forEach((d, i) => {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    if (indirect) pass.dispatchWorkgroupsIndirect(indirect.buffer, indirect.offset + 12 * i);
    else pass.dispatchWorkgroups(d.x, d.y);
  });
}

/** The workgroup counts of `list` as recordDispatches(…, indirect) reads them. */
export function indirectArgs(list: readonly Dispatch[]): Uint32Array {
  const a = new Uint32Array(3 * list.length);
  list.forEach((d, i) => a.set([d.x, d.y, 1], 3 * i));
  return a;
}

/**
 * Activation ids as the shaders number them: generated, with the WGSL constants
 * ACT_*, from shaders/ids.json. The kernels treat softmax's id as identity (its
 * GEMM writes logits; the softmax kernel does the rest).
 */
export const ACT_ID: Readonly<Record<ActivationName, number>> = ACT_ID_GEN;

/** Activations whose derivative is computed from z rather than from a = f(z). */
export function derivativeNeedsZ(a: Activation): boolean {
  return a.name === 'prelu' || a.name === 'softplus' || a.name === 'softsign' || a.name === 'hardtanh';
}

function actDefines(a: Activation | null): Defines {
  const alpha = a?.alpha ?? 0;
  return { ACT: a ? ACT_ID[a.name] : ACT_ID.identity, ALPHA: Number.isInteger(alpha) ? `${alpha}.0` : `${alpha}`, BIAS_SUM: false };
}

export const GEMM_VARIANTS = {
  /** Barrier-free, 4 × 4 outputs per invocation in vec4 registers (no private arrays), 8 × 8 invocations. */
  'unrolled-4x4': { SHADER: 'gemm', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: true, TM8: false, SPLIT_K: false, TILED: false, TM: 4, TN: 4, WG_X: 8, WG_Y: 8 },
  /** As unrolled-4x4 with 8 rows per invocation: each B load feeds twice the arithmetic. */
  'unrolled-8x4': { SHADER: 'gemm', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: true, TM8: true, SPLIT_K: false, TILED: false, TM: 8, TN: 4, WG_X: 8, WG_Y: 8 },
  /** Barrier-free, 4 × 4 outputs per invocation, 8 × 8 invocations. */
  'regblock-4x4': { SHADER: 'gemm', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 4, TN: 4, WG_X: 8, WG_Y: 8 },
  /** Barrier-free, 8 × 4 outputs per invocation (more reuse of each B load). */
  'regblock-8x4': { SHADER: 'gemm', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 8, TN: 4, WG_X: 8, WG_Y: 8 },
  /** vec4 loads, mat4x4 accumulator blocks of 8 × 16 outputs (gemm_vec4.wgsl); aligned calls only, else unrolled-8x4. */
  'vec4-8x16': { SHADER: 'gemm_vec4', VEC4: true, ROWS16: false, COLS16: true, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 8, TN: 16, WG_X: 4, WG_Y: 4 },
  /** vec4 loads, blocks of 16 × 8 outputs. */
  'vec4-16x8': { SHADER: 'gemm_vec4', VEC4: true, ROWS16: true, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 16, TN: 8, WG_X: 4, WG_Y: 4 },
  /** vec4 loads, blocks of 16 × 16 outputs, 8 × 8 invocations. */
  'vec4-16x16': { SHADER: 'gemm_vec4', VEC4: true, ROWS16: true, COLS16: true, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 16, TN: 16, WG_X: 8, WG_Y: 8 },
  /** Shared-memory tiles of 64 × 64 with barriers, 4 × 4 per invocation, 16 × 16 invocations. */
  'tiled-64': { SHADER: 'gemm', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: true, TM: 4, TN: 4, WG_X: 16, WG_Y: 16 },
  /**
   * For real GPUs (gemm_tiled.wgsl): 128 × 128 workgroup tiles staged in workgroup memory
   * as vec4 (BK = 16), 8 × 8 outputs per invocation, the next k-tile fetched while the
   * current one is multiplied (two workgroup buffers when 32 KiB are allowed). Any shape.
   */
  'tiled-128': { SHADER: 'gemm_tiled', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 8, TN: 8, WG_X: 16, WG_Y: 16 },
  /**
   * tiled-128 with the K dimension split (Kernels.gemm: splitKSlices): for thin, deep
   * products whose M × N has too few 128 × 128 tiles to fill a large GPU (∇W with a
   * large batch: 200 × 784 × 4096 is 14 tiles), S slices of K run as S × as many
   * workgroups into a scratch buffer, and a second dispatch adds the slices in order
   * and applies the epilogue (gemm_splitk.wgsl). Where S would be 1, it is tiled-128.
   */
  'tiled-128-splitk': { SHADER: 'gemm_tiled', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: true, TILED: false, TM: 8, TN: 8, WG_X: 16, WG_Y: 16 },
  /**
   * Subgroup shuffles share op(A) across a subgroup (gemm_subgroup.wgsl): 8 × 4 outputs
   * per invocation, 64 invocations per workgroup, no workgroup memory. Only on devices
   * with the `subgroups` feature.
   */
  'subgroup-8x4': { SHADER: 'gemm_subgroup', VEC4: false, ROWS16: false, COLS16: false, UNROLLED: false, TM8: false, SPLIT_K: false, TILED: false, TM: 8, TN: 4, WG_X: 64, WG_Y: 1 },
} as const;
export type GemmVariant = keyof typeof GEMM_VARIANTS;

/** Variants worth timing on software adapters (private arrays and barriers are slow there). */
export function gemmVariantsFor(isSoftware: boolean, device?: GPUDevice): GemmVariant[] {
  return GEMM_VARIANT_NAMES.filter((v) => (!isSoftware || GEMM_VARIANTS[v].VEC4 || GEMM_VARIANTS[v].UNROLLED) && (!device || gemmVariantSupported(v, device)));
}

/** Whether `device` can run `variant` (subgroup-8x4 needs the `subgroups` feature). */
export function gemmVariantSupported(variant: GemmVariant, device: GPUDevice): boolean {
  return GEMM_VARIANTS[variant].SHADER !== 'gemm_subgroup' || device.features.has('subgroups');
}

/** Every variant this device can run, in GEMM_VARIANT_NAMES order. */
export function availableGemmVariants(device: GPUDevice): GemmVariant[] {
  return GEMM_VARIANT_NAMES.filter((v) => gemmVariantSupported(v, device));
}

/** gemm_tiled.wgsl loads op(A) / op(B) as vec4 when the stored rows and the offset allow it. */
export function tiledVec4(c: Pick<GemmCall, 'M' | 'N' | 'K' | 'transA' | 'transB' | 'A' | 'B'>): { VEC_A: boolean; VEC_B: boolean } {
  const aligned = (o?: number): boolean => (o ?? 0) % 4 === 0;
  return {
    VEC_A: aligned(c.A.offset) && (c.transA ? c.M : c.K) % 4 === 0,
    VEC_B: aligned(c.B.offset) && (c.transB ? c.K : c.N) % 4 === 0,
  };
}
/** Workgroup memory gemm_tiled.wgsl needs for two tile buffers (else it uses one). */
export const TILED_PINGPONG_BYTES = 32768;

/** gemm_vec4.wgsl reads A, B and C as vec4: the shapes and offsets must allow it. */
export function vec4Eligible(c: Pick<GemmCall, 'M' | 'N' | 'K' | 'transA' | 'transB' | 'A' | 'B' | 'C'>): boolean {
  const aligned = (o?: number): boolean => (o ?? 0) % 4 === 0;
  if (c.transA && c.transB) return false;
  return c.N % 4 === 0 && (c.transA ? c.M % 4 === 0 : c.K % 4 === 0) && aligned(c.A.offset) && aligned(c.B.offset) && aligned(c.C.offset);
}
export const GEMM_VARIANT_NAMES = Object.keys(GEMM_VARIANTS) as GemmVariant[];

export interface BufferRef {
  buffer: GPUBuffer;
  /** Offset in f32 elements. */
  offset?: number;
}

export interface GemmCall {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  A: BufferRef;
  B: BufferRef;
  C: BufferRef;
  alpha?: number;
  /** C ← … + beta·C (reads C first). */
  beta?: number;
  /** C ← … + gamma·E (E has C's shape). */
  E?: BufferRef;
  gamma?: number;
  bias?: BufferRef;
  activation?: Activation | null;
  /** Also store the pre-activation here (m × n, offset 0). */
  Z?: GPUBuffer;
  variant: GemmVariant;
  /** tiled-128-splitk: the number of K slices (default splitKSlices(); 1 runs tiled-128). */
  splitK?: number;
}

/** Split-K: at most this many slices of K, each at least SPLITK_MIN_KTILES k-tiles of 16. */
export const SPLITK_MAX_SLICES = 16;
export const SPLITK_MIN_KTILES = 8;
/** Split-K aims for this many workgroups of 256 (a large GPU holds a few per compute unit). */
export const SPLITK_TARGET_WORKGROUPS = 512;

/**
 * The K slices tiled-128-splitk uses for an M × N × K product: enough for
 * SPLITK_TARGET_WORKGROUPS workgroups, each slice at least SPLITK_MIN_KTILES k-tiles,
 * the S × M × N scratch within one storage binding, and every slice non-empty. 1 when
 * splitting does not pay (many tiles already, or a shallow K).
 */
export function splitKSlices(M: number, N: number, K: number, maxBindingBytes: number): number {
  const tiles = Math.ceil(M / 128) * Math.ceil(N / 128);
  const kTiles = Math.ceil(K / 16);
  const S = Math.min(SPLITK_MAX_SLICES, Math.floor(kTiles / SPLITK_MIN_KTILES), Math.ceil(SPLITK_TARGET_WORKGROUPS / tiles), Math.floor(maxBindingBytes / (M * N * 4)));
  return S < 2 ? 1 : Math.ceil(kTiles / Math.ceil(kTiles / S));
}

/** A GEMM dispatch's label: layout and shape ('gemm NT 256x200x784'), as profiles group them. */
function gemmLabel(c: GemmCall): string {
  return `gemm ${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} ${c.M}x${c.N}x${c.K}`;
}

/** u32 for plain numbers, f32 for { f }; padded to 16 bytes. */
export type Field = number | { f: number };

export class Kernels {
  constructor(readonly ctx: GpuContext, readonly pool: BufferPool, readonly cache: PipelineCache) {}

  /** A uniform buffer holding `fields` (also used by the VAE launchers, vae-kernels.ts). */
  uniform(fields: Field[]): GPUBuffer {
    const bytes = Math.ceil((fields.length * 4) / 16) * 16;
    const data = new ArrayBuffer(bytes);
    const u = new Uint32Array(data);
    const f = new Float32Array(data);
    fields.forEach((v, i) => {
      if (typeof v === 'number') u[i] = v;
      else f[i] = v.f;
    });
    const buf = this.pool.acquire(bytes, UNIFORM, 'params');
    this.ctx.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  dispatch(pipeline: GPUComputePipeline, params: GPUBuffer, bindings: Record<number, GPUBuffer>, x: number, y: number, label: string): Dispatch {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params } }];
    for (const [b, buffer] of Object.entries(bindings)) entries.push({ binding: Number(b), resource: { buffer } });
    const bindGroup = this.ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label });
    return { pipeline, bindGroup, x, y, label, params };
  }

  /** Splits a 1-D range of `groups` workgroups into x × y within the per-dimension limit. */
  grid(count: number, wg: number): { x: number; y: number; rowsPerGrid: number } {
    const groups = Math.max(1, Math.ceil(count / wg));
    const maxDim = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= maxDim) return { x: groups, y: 1, rowsPerGrid: groups * wg };
    const y = Math.ceil(groups / maxDim);
    const x = Math.ceil(groups / y);
    return { x, y, rowsPerGrid: x * wg };
  }

  /**
   * C = f(α·op(A)·op(B) + β·C + γ·E + bias): one dispatch, or two for split-K
   * (record them in order; Kernels.release frees their uniforms and scratch).
   */
  async gemm(c: GemmCall): Promise<Dispatch[]> {
    // A vec4 variant on a call it cannot take runs the best scalar kernel instead.
    const name: GemmVariant = GEMM_VARIANTS[c.variant].VEC4 && !vec4Eligible(c) ? 'unrolled-8x4' : c.variant;
    const binding = Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.pool.maxBindingSize);
    if (c.splitK !== undefined && !(Number.isInteger(c.splitK) && c.splitK >= 1)) throw new RangeError(`splitK must be a positive integer number of K slices, got ${c.splitK}`);
    if (GEMM_VARIANTS[name].SPLIT_K) {
      const kTiles = Math.ceil(c.K / 16);
      const S = c.splitK === undefined ? splitKSlices(c.M, c.N, c.K, binding) : Math.min(c.splitK, kTiles, Math.max(1, Math.floor(binding / (c.M * c.N * 4))));
      const perSlice = Math.ceil(kTiles / S);
      const slices = Math.ceil(kTiles / perSlice); // every slice non-empty
      if (slices > 1) return this.gemmSplitK(c, perSlice, slices);
      return this.gemm({ ...c, variant: 'tiled-128' });
    }
    const v = GEMM_VARIANTS[name];
    if (!gemmVariantSupported(name, this.ctx.device)) throw new GpuError(`GEMM variant ${name} needs the device feature 'subgroups', which this device lacks`);
    const act = c.activation ?? null;
    const defines: Defines = {
      ...actDefines(act),
      HIDDEN_DELTA: false,
      NEEDS_Z: false,
      SPARSE: false,
      ...v,
      TRANS_A: !!c.transA,
      TRANS_B: !!c.transB,
      ACCUMULATE: (c.beta ?? 0) !== 0,
      ADDEND: !!c.E && (c.gamma ?? 0) !== 0,
      BIAS: !!c.bias,
      STORE_Z: !!c.Z,
      ...(v.SHADER === 'gemm_tiled' ? { ...tiledVec4(c), PINGPONG: this.ctx.limits.maxComputeWorkgroupStorageSize >= TILED_PINGPONG_BYTES } : {}),
    };
    // Shared GEMM code: gemm_common (uniform, epilogue inputs) for all, gemm_epilogue
    // (scalar C and its epilogue) for all but gemm_vec4. `enable subgroups;` must
    // open the module, so that shader goes first.
    const shared = v.SHADER === 'gemm_vec4' ? ['gemm_common'] : ['gemm_common', 'gemm_epilogue'];
    const files = v.SHADER === 'gemm_subgroup' ? [v.SHADER, ...shared, 'activation'] : ['activation', ...shared, v.SHADER];
    const pipeline = await this.cache.get(files, defines, 'main');
    const params = this.uniform([
      c.M, c.N, c.K, c.A.offset ?? 0, c.B.offset ?? 0, c.C.offset ?? 0, c.E?.offset ?? 0, c.bias?.offset ?? 0,
      { f: c.alpha ?? 1 }, { f: c.beta ?? 0 }, { f: c.gamma ?? 0 }, 0,
    ]);
    const bindings: Record<number, GPUBuffer> = { 1: c.A.buffer, 2: c.B.buffer, 3: c.C.buffer };
    if (defines.BIAS) bindings[4] = c.bias!.buffer;
    if (defines.ADDEND) bindings[5] = c.E!.buffer;
    if (defines.STORE_Z) bindings[6] = c.Z!;
    const x = Math.ceil(c.N / (v.WG_X * v.TN));
    const y = Math.ceil(c.M / (v.WG_Y * v.TM));
    return [this.dispatch(pipeline, params, bindings, x, y, gemmLabel(c))];
  }

  /**
   * Split-K (tiled-128-splitk): `slices` workgroup rows of gemm_tiled.wgsl each
   * multiply `perSlice` k-tiles into their slice of an S × M × N scratch, then
   * gemm_splitk.wgsl adds the slices in order and applies the epilogue.
   */
  private async gemmSplitK(c: GemmCall, perSlice: number, slices: number): Promise<Dispatch[]> {
    const act = c.activation ?? null;
    const epilogue: Defines = { ACCUMULATE: (c.beta ?? 0) !== 0, ADDEND: !!c.E && (c.gamma ?? 0) !== 0, BIAS: !!c.bias, STORE_Z: !!c.Z };
    const files = ['activation', 'gemm_common', 'gemm_epilogue'];
    const actOnly = (a: Activation | null): Defines => ({ ...actDefines(a), HIDDEN_DELTA: false, NEEDS_Z: false, SPARSE: false });
    // Pass 1 writes raw sums: its pipeline depends on the layout and loads only.
    const first = await this.cache.get([...files, 'gemm_tiled'], {
      ...actOnly(null), ACCUMULATE: false, ADDEND: false, BIAS: false, STORE_Z: false,
      TRANS_A: !!c.transA, TRANS_B: !!c.transB, ...tiledVec4(c), PINGPONG: this.ctx.limits.maxComputeWorkgroupStorageSize >= TILED_PINGPONG_BYTES, SPLIT_K: true,
    }, 'main');
    const second = await this.cache.get([...files, 'gemm_splitk'], { ...actOnly(act), ...epilogue }, 'main');
    const scratch = this.sharedScratch(slices * c.M * c.N * 4);
    const fields = (split: number): Field[] => [
      c.M, c.N, c.K, c.A.offset ?? 0, c.B.offset ?? 0, c.C.offset ?? 0, c.E?.offset ?? 0, c.bias?.offset ?? 0,
      { f: c.alpha ?? 1 }, { f: c.beta ?? 0 }, { f: c.gamma ?? 0 }, split,
    ];
    const rowTiles = Math.ceil(c.M / 128);
    const partial = this.dispatch(first, this.uniform(fields(perSlice)), { 1: c.A.buffer, 2: c.B.buffer, 3: scratch }, Math.ceil(c.N / 128), rowTiles * slices, `${gemmLabel(c)} split ${slices}`);
    const bindings: Record<number, GPUBuffer> = { 1: scratch, 3: c.C.buffer };
    if (epilogue.BIAS) bindings[4] = c.bias!.buffer;
    if (epilogue.ADDEND) bindings[5] = c.E!.buffer;
    if (epilogue.STORE_Z) bindings[6] = c.Z!;
    const { x, y } = this.grid(c.M * c.N, 256);
    const sum = this.dispatch(second, this.uniform(fields(slices)), bindings, x, y, `gemm split-K sum ${c.M}x${c.N}`);
    return [partial, { ...sum, owned: [scratch] }];
  }

  /**
   * out[offOut + j] = scale · Σᵢ X[offIn + i·cols + j] + beta · out[offOut + j].
   * Up to COLSUM_DIRECT_ROWS rows (a mini-batch): one dispatch (colsum_direct);
   * more: two stages over row strips.
   */
  async colsum(c: { rows: number; cols: number; X: BufferRef; out: BufferRef; scale: number; beta?: number; partials: GPUBuffer }): Promise<Dispatch[]> {
    const base = { COLSUM: true, SUM: false, MAP: 0, TWO_INPUTS: false, DIRECT: false };
    if (c.rows <= COLSUM_DIRECT_ROWS) {
      const direct = await this.cache.get(['reduce'], { ...base, DIRECT: true, FINAL: false }, 'colsum_direct');
      const params = this.uniform([c.rows, c.cols, c.X.offset ?? 0, c.out.offset ?? 0, { f: c.scale }, { f: c.beta ?? 0 }, 1, c.rows]);
      return [this.dispatch(direct, params, { 1: c.X.buffer, 2: c.out.buffer }, Math.ceil(c.cols / 64), 1, 'colsum')];
    }
    const stage1 = await this.cache.get(['reduce'], { ...base, FINAL: false }, 'colsum');
    const stage2 = await this.cache.get(['reduce'], { ...base, FINAL: true }, 'colsum_final');
    // Strips of at least 32 rows, at most COLSUM_STRIPS of them, and no more than the partials buffer holds.
    const strips = Math.max(1, Math.min(COLSUM_STRIPS, Math.ceil(c.rows / 32), Math.floor(c.partials.size / 4 / Math.max(1, c.cols))));
    const stripRows = Math.ceil(c.rows / strips);
    const params = this.uniform([c.rows, c.cols, c.X.offset ?? 0, c.out.offset ?? 0, { f: c.scale }, { f: c.beta ?? 0 }, strips, stripRows]);
    const groups = Math.ceil(c.cols / 64);
    return [
      this.dispatch(stage1, params, { 1: c.X.buffer, 3: c.partials }, groups, strips, 'colsum'),
      this.dispatch(stage2, params, { 2: c.out.buffer, 3: c.partials }, groups, 1, 'colsum final'),
    ];
  }

  /**
   * scalars[slot] += scale · Σₖ map(x[k], y[k]) over `count` elements (two dispatches).
   * `partials` must hold at least SUM_GROUPS f32.
   */
  async sum(c: {
    count: number;
    map: SumMap;
    x: BufferRef;
    y?: BufferRef;
    partials: GPUBuffer;
    scalars: GPUBuffer;
    slot: number;
    scale: number;
    rho?: number;
  }): Promise<Dispatch[]> {
    const mapId = SUM_MAPS[c.map];
    const twoInputs = mapId >= 4;
    if (twoInputs && !c.y) throw new Error(`sum map ${c.map} needs y`);
    const threads = sumThreads(c.count);
    const fields: Field[] = [c.count, c.x.offset ?? 0, c.y?.offset ?? 0, c.slot, threads, { f: c.scale }, { f: c.rho ?? 0 }, 0];
    const base = { COLSUM: false, SUM: true, MAP: mapId, TWO_INPUTS: twoInputs, DIRECT: false };
    const partial = await this.cache.get(['reduce'], { ...base, FINAL: false }, 'sum_partial');
    const final = await this.cache.get(['reduce', 'lane_sum'], { ...base, MAP: 0, TWO_INPUTS: false, FINAL: true }, 'sum_final');
    const params = this.uniform(fields);
    const b1: Record<number, GPUBuffer> = { 1: c.x.buffer, 3: c.partials };
    if (twoInputs) b1[2] = c.y!.buffer;
    return [
      this.dispatch(partial, params, b1, Math.ceil(threads / 64), 1, `sum ${c.map}`),
      this.dispatch(final, params, { 3: c.partials, 4: c.scalars }, 1, 1, `sum ${c.map} final`),
    ];
  }

  /**
   * scalars[slot] += scale · Σₖ map(x[k], y[k]) for every term (sums.wgsl): one
   * stage-1 dispatch per group of terms whose inputs fit the bindings, and one
   * final dispatch per SUMS_MAX_TERMS terms. Each slot's total is bitwise that of
   * one `sum` per term in list order. `partials` must hold sumsPartials(terms) f32.
   */
  async sums(terms: readonly SumTerm[], partials: GPUBuffer, scalars: GPUBuffer): Promise<Dispatch[]> {
    const out: Dispatch[] = [];
    for (let i = 0; i < terms.length; i += SUMS_MAX_TERMS) out.push(...(await this.sumsBatch(terms.slice(i, i + SUMS_MAX_TERMS), partials, scalars)));
    return out;
  }

  /** The input buffers one sums_partial dispatch binds: SUMS_MAX_BUFFERS, fewer when the device allows fewer storage buffers. */
  sumsBuffers(): number {
    const g = Math.min(SUMS_MAX_BUFFERS, this.ctx.limits.maxStorageBuffersPerShaderStage - 1);
    if (g < 2) throw new GpuError(`batched sums need 3 storage buffers per shader stage, the device allows ${this.ctx.limits.maxStorageBuffersPerShaderStage}`);
    return g;
  }

  private async sumsBatch(terms: readonly SumTerm[], partials: GPUBuffer, scalars: GPUBuffer): Promise<Dispatch[]> {
    if (!terms.length) return [];
    const maxBuffers = this.sumsBuffers();
    const threads = terms.map((t) => sumThreads(t.count));
    const base = threads.map((_, r) => threads.slice(0, r).reduce((a, b) => a + b, 0));
    const need = base[terms.length - 1]! + threads[terms.length - 1]!;
    if (need * 4 > partials.size) throw new Error(`sums: ${terms.length} terms need ${need} f32 of partials, the buffer holds ${partials.size / 4}`);
    const inputs = terms.map((t) => {
      const map = SUM_MAPS[t.map];
      if (map >= 4 && !t.y) throw new Error(`sum map ${t.map} needs y`);
      return map >= 4 ? [t.x.buffer, t.y!.buffer] : [t.x.buffer];
    });
    // Stage 1: consecutive terms share a dispatch while their inputs fit the bindings.
    const groups: { buffers: GPUBuffer[]; rows: number[] }[] = [];
    terms.forEach((_, r) => {
      let g = groups[groups.length - 1];
      const fresh = (b: GPUBuffer[]): number => new Set(inputs[r]!.filter((x) => !b.includes(x))).size;
      if (!g || g.buffers.length + fresh(g.buffers) > maxBuffers) groups.push((g = { buffers: [], rows: [] }));
      for (const b of inputs[r]!) if (!g.buffers.includes(b)) g.buffers.push(b);
      g.rows.push(r);
    });
    const out: Dispatch[] = [];
    for (const g of groups) {
      // Each term's map and bindings are template values (so the shader's switches fold away).
      const defines: Defines = { FINAL: false, TASKS: SUMS_MAX_TERMS };
      Object.assign(defines, vectorDefines(g.buffers.length));
      for (let i = 0; i < SUMS_MAX_TERMS; i++) {
        const t = terms[g.rows[i] ?? -1];
        if (i > 0) defines[`R${i}`] = !!t;
        defines[`M${i}`] = t ? SUM_MAPS[t.map] : 0;
        defines[`X${i}`] = t ? g.buffers.indexOf(t.x.buffer) : 0;
        defines[`Y${i}`] = t?.y ? g.buffers.indexOf(t.y.buffer) : 0;
      }
      const pipeline = await this.cache.get(['sums', 'vector_inputs'], defines, 'sums_partial');
      const table: Field[] = [g.rows.length, 0, 0, 0];
      let workgroups = 0;
      for (let i = 0; i < SUMS_MAX_TERMS; i++) {
        const r = g.rows[i];
        if (r === undefined) {
          table.push(0, 0, 0, 0, 0, 0, 0, 0, { f: 0 }, { f: 0 }, { f: 0 }, { f: 0 });
          continue;
        }
        const t = terms[r]!;
        table.push(t.count, threads[r]!, base[r]!, 0, t.x.offset ?? 0, t.y?.offset ?? 0, workgroups, 0, { f: t.rho ?? 0 }, { f: 0 }, { f: 0 }, { f: 0 });
        workgroups += Math.ceil(threads[r]! / 64);
      }
      const bindings: Record<number, GPUBuffer> = { 1: partials };
      g.buffers.forEach((b, j) => (bindings[2 + j] = b));
      out.push(this.dispatch(pipeline, this.uniform(table), bindings, workgroups, 1, `sums ${g.rows.map((r) => terms[r]!.map).join(',')}`));
    }
    // Stage 2: one workgroup per slot, its terms in list order.
    const slots = [...new Set(terms.map((t) => t.slot))];
    const order = slots.flatMap((slot) => terms.flatMap((t, r) => (t.slot === slot ? [r] : [])));
    const groupTable: Field[] = [];
    let first = 0;
    for (let i = 0; i < SUMS_MAX_TERMS; i++) {
      const n = i < slots.length ? terms.filter((t) => t.slot === slots[i]).length : 0;
      groupTable.push(first, first + n, 0, 0);
      first += n;
    }
    const termTable: Field[] = [];
    for (let i = 0; i < SUMS_MAX_TERMS; i++) {
      const r = order[i];
      termTable.push(...(r === undefined ? [0, 0, 0, 0] : [base[r]!, threads[r]!, terms[r]!.slot, f32Bits(terms[r]!.scale)]));
    }
    const unused: Defines = vectorDefines(1);
    for (let i = 0; i < SUMS_MAX_TERMS; i++) Object.assign(unused, { [`M${i}`]: 0, [`X${i}`]: 0, [`Y${i}`]: 0, ...(i ? { [`R${i}`]: false } : {}) });
    const final = await this.cache.get(['sums', 'lane_sum'], { ...unused, FINAL: true, TASKS: SUMS_MAX_TERMS }, 'sums_final');
    out.push(this.dispatch(final, this.uniform([...groupTable, ...termTable]), { 1: partials, 2: scalars }, slots.length, 1, `sums final ${terms.length}`));
    return out;
  }

  /**
   * The most vectors one `dotsPartial` dispatch binds: every storage binding of
   * the kernel but the partials' holds a vector, capped at DOTS_MAX_VECTORS,
   * the bindings dots.wgsl declares.
   */
  dotsGroup(): number {
    const g = Math.min(DOTS_MAX_VECTORS, this.ctx.limits.maxStorageBuffersPerShaderStage - 1);
    if (g < 2) throw new GpuError(`batched dot products need 3 storage buffers per shader stage, the device allows ${this.ctx.limits.maxStorageBuffersPerShaderStage}`);
    return g;
  }

  /**
   * Stage 1 of batched dot products (dots.wgsl dots_partial), one group of pairs:
   * partials[row·T + t] = invocation t's share of vectors[a]ᵀvectors[b] for each
   * pair (a, b, row), T = sumThreads(count): sum_partial's split and order, so each
   * total is bitwise that of `sum` with map 'dot'. `partials` must hold
   * (largest row + 1)·T f32; at most dotsGroup() vectors and DOTS_MAX_PAIRS pairs.
   */
  async dotsPartial(c: { count: number; vectors: readonly BufferRef[]; pairs: readonly DotsPair[]; partials: GPUBuffer }): Promise<Dispatch> {
    const nv = c.vectors.length;
    const max = this.dotsGroup();
    if (nv < 1 || nv > max) throw new Error(`dotsPartial binds 1 to ${max} vectors per dispatch, got ${nv}`);
    if (c.pairs.length < 1 || c.pairs.length > DOTS_MAX_PAIRS) throw new Error(`dotsPartial takes 1 to ${DOTS_MAX_PAIRS} pairs per dispatch, got ${c.pairs.length}`);
    const threads = sumThreads(c.count);
    for (const p of c.pairs) {
      for (const v of [p.a, p.b]) if (!Number.isInteger(v) || v < 0 || v >= nv) throw new Error(`dotsPartial: pair (${p.a}, ${p.b}) names vector ${v}, but ${nv} are bound`);
      if (!Number.isInteger(p.row) || p.row < 0 || (p.row + 1) * threads * 4 > c.partials.size) throw new Error(`dotsPartial: partials row ${p.row} lies outside the ${c.partials.size}-byte partials buffer (${threads} f32 a row)`);
    }
    const pipeline = await this.cache.get(['dots', 'vector_inputs'], dotsDefines(false, nv), 'dots_partial');
    const off = Array.from({ length: 16 }, (_, j) => c.vectors[j]?.offset ?? 0);
    const table = Array.from({ length: DOTS_MAX_PAIRS }, (_, j) => {
      const p = c.pairs[j];
      return p ? [p.a, p.b, p.row, 0] : [0, 0, 0, 0];
    }).flat();
    const params = this.uniform([c.count, threads, c.pairs.length, 0, ...off, ...table]);
    const bindings: Record<number, GPUBuffer> = { 1: c.partials };
    c.vectors.forEach((v, j) => (bindings[2 + j] = v.buffer));
    return this.dispatch(pipeline, params, bindings, Math.ceil(threads / 64), 1, `dots ${c.pairs.length}/${nv}`);
  }

  /**
   * Stage 2 of batched dot products (dots.wgsl dots_final), every pair in one
   * dispatch: dots[r] += Σₜ partials[r·T + t] for r < rows, summed as sum_final does.
   */
  async dotsFinal(c: { count: number; rows: number; partials: GPUBuffer; dots: GPUBuffer }): Promise<Dispatch> {
    const threads = sumThreads(c.count);
    if (c.rows < 1 || c.rows * threads * 4 > c.partials.size || c.rows * 4 > c.dots.size) throw new Error(`dotsFinal: ${c.rows} rows of ${threads} partials do not fit the ${c.partials.size}-byte partials or ${c.dots.size}-byte dots buffer`);
    const pipeline = await this.cache.get(['dots', 'lane_sum'], dotsDefines(true, 1), 'dots_final');
    const params = this.uniform([c.rows, threads, 0, 0]);
    return this.dispatch(pipeline, params, { 1: c.partials, 2: c.dots }, c.rows, 1, `dots final ${c.rows}`);
  }

  /**
   * In place: G ← ((G + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + l1·sign(A)) • f′(Z, A) + 2w·s²(1 − 2A)·S_j) • mask,
   * s = A(1 − A), S_j = rowSumSq[offset + j]; the contractive term (sigmoid only) and mask are optional.
   */
  async hiddenDelta(c: {
    rows: number;
    n: number;
    activation: Activation;
    G: GPUBuffer;
    A: GPUBuffer;
    Z?: GPUBuffer;
    rhoHat?: BufferRef;
    rho?: number;
    beta?: number;
    l1?: number;
    mask?: GPUBuffer;
    contractive?: { weight: number; rowSumSq: BufferRef };
    /** Also ∇b ← scale · Σᵢ δ + beta · ∇b (column sums of δ in the same pass; rows ≤ COLSUM_DIRECT_ROWS). */
    biasGrad?: BiasGrad;
  }): Promise<Dispatch> {
    const needsZ = derivativeNeedsZ(c.activation);
    const sparse = !!c.rhoHat;
    const fused = checkBiasGrad(c.rows, c.biasGrad);
    if (c.contractive && c.activation.name !== 'sigmoid') throw new Error(`the contractive term needs a sigmoid layer, not ${c.activation.name}`);
    const entry = fused ? 'hidden_delta_bias' : 'hidden_delta';
    const pipeline = await this.cache.get(['activation'], { ...actDefines(c.activation), HIDDEN_DELTA: true, NEEDS_Z: needsZ, SPARSE: sparse, BIAS_SUM: fused }, entry);
    if (needsZ && !c.Z) throw new Error('hiddenDelta needs Z for this activation');
    const count = c.rows * c.n;
    const g = fused ? { x: Math.ceil(c.n / 64), y: 1, rowsPerGrid: 0 } : this.grid(count, 256);
    const flags = (c.mask ? 1 : 0) | (c.contractive ? 2 : 0);
    const b = c.biasGrad;
    const params = this.uniform([
      count, c.n, { f: c.rho ?? 0 }, { f: c.beta ?? 0 }, { f: c.l1 ?? 0 }, g.rowsPerGrid, c.rhoHat?.offset ?? 0,
      flags, { f: c.contractive?.weight ?? 0 }, c.contractive?.rowSumSq.offset ?? 0,
      { f: b?.scale ?? 0 }, { f: b?.beta ?? 0 }, b?.out.offset ?? 0, 0,
    ]);
    // Bindings 5 and 6 are always in the layout; A stands in when a term is off.
    const bindings: Record<number, GPUBuffer> = { 1: c.G, 2: c.A, 5: c.mask ?? c.A, 6: c.contractive?.rowSumSq.buffer ?? c.A };
    if (needsZ) bindings[3] = c.Z!;
    if (sparse) bindings[4] = c.rhoHat!.buffer;
    if (fused) bindings[7] = b!.out.buffer;
    return this.dispatch(pipeline, params, bindings, g.x, g.y, fused ? 'hidden_delta+bias' : 'hidden_delta');
  }

  /** δ(L) = (A − Y) • f′ for squared error, A − Y for the cross-entropies. */
  /** `biasGrad`: also ∇b ← scale · Σᵢ δ + beta · ∇b in the same pass (rows ≤ COLSUM_DIRECT_ROWS). */
  async outputDelta(c: { rows: number; n: number; activation: Activation; squared: boolean; A: GPUBuffer; Y: BufferRef; D: GPUBuffer; Z?: GPUBuffer; biasGrad?: BiasGrad }): Promise<Dispatch> {
    const needsZ = c.squared && derivativeNeedsZ(c.activation);
    const fused = checkBiasGrad(c.rows, c.biasGrad);
    const pipeline = await this.cache.get(
      ['activation', 'loss'],
      { ...actDefines(c.activation), HIDDEN_DELTA: false, NEEDS_Z: needsZ, SPARSE: false, SOFTMAX: false, SQUARED: c.squared, BIAS_SUM: fused },
      fused ? 'output_delta_bias' : 'output_delta',
    );
    const count = c.rows * c.n;
    const g = fused ? { x: Math.ceil(c.n / 64), y: 1, rowsPerGrid: 0 } : this.grid(count, 256);
    const b = c.biasGrad;
    const params = this.uniform([count, c.n, c.Y.offset ?? 0, g.rowsPerGrid, { f: b?.scale ?? 0 }, { f: b?.beta ?? 0 }, b?.out.offset ?? 0, 0]);
    const bindings: Record<number, GPUBuffer> = { 1: c.A, 2: c.Y.buffer, 3: c.D };
    if (needsZ) bindings[4] = c.Z!;
    if (fused) bindings[5] = b!.out.buffer;
    return this.dispatch(pipeline, params, bindings, g.x, g.y, fused ? 'output_delta+bias' : 'output_delta');
  }

  /** A = softmax(Z) per row; rowLoss[i] = −Σₖ yₖ log softmax(z)ₖ. */
  async softmax(c: { rows: number; n: number; Z: GPUBuffer; Y: BufferRef; A: GPUBuffer; rowLoss: GPUBuffer }): Promise<Dispatch> {
    const pipeline = await this.cache.get(
      ['activation', 'loss'],
      { ...actDefines(null), HIDDEN_DELTA: false, NEEDS_Z: false, SPARSE: false, SOFTMAX: true, SQUARED: false },
      'softmax_rows',
    );
    const g = this.grid(c.rows, 64);
    const params = this.uniform([c.rows, c.n, c.Y.offset ?? 0, g.rowsPerGrid, 0, 0, 0, 0]);
    return this.dispatch(pipeline, params, { 1: c.Z, 2: c.Y.buffer, 3: c.A, 4: c.rowLoss }, g.x, g.y, 'softmax_rows');
  }

  /**
   * Vector op over `count` elements (blas1.wgsl). Its scalars are read from
   * coef[8·slot …] at run time, so the Dispatch is reusable across steps.
   */
  async vec(c: { op: VecOp; count: number; x?: BufferRef; y: BufferRef; coef: GPUBuffer; slot: number; m?: GPUBuffer; v?: GPUBuffer }): Promise<Dispatch> {
    const opId = VEC_OPS[c.op];
    const adam = c.op === 'adam';
    const hasX = opId === 0 || opId === 2 || opId === 4 || adam;
    if (hasX && !c.x) throw new Error(`vector op ${c.op} needs x`);
    if (adam && (!c.m || !c.v)) throw new Error('adam needs m and v');
    const pipeline = await this.cache.get(['blas1'], { OP: opId, HAS_X: hasX, ADAM: adam }, 'main');
    const g = this.grid(c.count, 256);
    const params = this.uniform([c.count, c.x?.offset ?? 0, c.y.offset ?? 0, g.rowsPerGrid, c.slot, 0, 0, 0]);
    const bindings: Record<number, GPUBuffer> = { 2: c.y.buffer, 3: c.coef };
    if (hasX) bindings[1] = c.x!.buffer;
    if (adam) {
      bindings[4] = c.m!;
      bindings[5] = c.v!;
    }
    return this.dispatch(pipeline, params, bindings, g.x, g.y, `vec ${c.op}`);
  }

  /**
   * The most vectors one `combine` dispatch sums: every storage binding of the
   * kernel but dst holds a vector (its coefficients are a uniform), capped at
   * COMBINE_MAX, the bindings combine.wgsl declares.
   */
  combineGroup(): number {
    const g = Math.min(COMBINE_MAX, this.ctx.limits.maxStorageBuffersPerShaderStage - 1);
    if (g < 1) throw new GpuError(`combine needs 2 storage buffers per shader stage, the device allows ${this.ctx.limits.maxStorageBuffersPerShaderStage}`);
    return g;
  }

  /**
   * One group of a linear combination (combine.wgsl), over `count` elements:
   * dst ← Σⱼ cⱼ·vⱼ, or dst ← dst + Σⱼ cⱼ·vⱼ with `accumulate`, summed in index
   * order (as a chain of axpy), cⱼ = coef[8·slot + j] read at run time, so the
   * Dispatch is reusable across steps. `coef` is bound as a uniform (it needs
   * UNIFORM usage); at most combineGroup() vectors.
   */
  async combine(c: { count: number; vectors: readonly BufferRef[]; dst: BufferRef; accumulate: boolean; coef: GPUBuffer; slot: number }): Promise<Dispatch> {
    const n = c.vectors.length;
    const max = this.combineGroup();
    if (n < 1 || n > max) throw new Error(`combine sums 1 to ${max} vectors per dispatch, got ${n}`);
    if (c.coef.size > UNIFORM_BINDING_MAX) throw new Error(`combine binds coef as a uniform: ${c.coef.size} bytes exceed ${UNIFORM_BINDING_MAX}`);
    const vec4s = c.coef.size / 16;
    if (!Number.isInteger(c.slot) || c.slot < 0 || 2 * c.slot + 2 > vec4s) throw new Error(`combine: coefficient slot ${c.slot} lies outside the ${c.coef.size}-byte coef buffer`);
    const defines: Defines = { ACCUMULATE: c.accumulate, COEF_VEC4S: vec4s };
    for (let j = 1; j < COMBINE_MAX; j++) defines[`V${j}`] = j < n;
    const pipeline = await this.cache.get(['combine'], defines, 'main');
    const g = this.grid(c.count, 256);
    const off = Array.from({ length: 8 }, (_, j) => c.vectors[j]?.offset ?? 0);
    const params = this.uniform([c.count, g.rowsPerGrid, c.slot, c.dst.offset ?? 0, ...off]);
    const bindings: Record<number, GPUBuffer> = { 1: c.dst.buffer, 2: c.coef };
    c.vectors.forEach((v, j) => (bindings[3 + j] = v.buffer));
    return this.dispatch(pipeline, params, bindings, g.x, g.y, `combine ${n}${c.accumulate ? '+' : ''}`);
  }

  /**
   * dst row r ← src row order[start + r] − lo for the rows whose example lies in
   * the chunk [lo, lo + count) that `src` holds (a mini-batch gathered from a data
   * set in several buffers: one dispatch per chunk). Defaults: one chunk, lo 0, every example.
   * `packed`: src holds halves two per u32 (an f16 data set); dst is f32 all the same.
   */
  async gather(c: { rows: number; cols: number; start: number; src: GPUBuffer; order: GPUBuffer; dst: GPUBuffer; lo?: number; count?: number; packed?: boolean }): Promise<Dispatch> {
    const pipeline = await this.cache.get(['gather'], { PACKED: !!c.packed }, 'main');
    const g = this.grid(c.rows * c.cols, 256);
    const params = this.uniform([c.rows, c.cols, c.start, g.rowsPerGrid, c.lo ?? 0, c.count ?? 0xffffffff, 0, 0]);
    return this.dispatch(pipeline, params, { 1: c.src, 2: c.order, 3: c.dst }, g.x, g.y, 'gather');
  }

  /**
   * dst[i] = half number offset + i of src (pack2x16float layout) as f32, for i < count
   * (unpack.wgsl): an f16 data set's chunk into the f32 scratch the GEMMs read.
   */
  async unpack(c: { count: number; offset: number; src: GPUBuffer; dst: GPUBuffer }): Promise<Dispatch> {
    const pipeline = await this.cache.get(['unpack'], {}, 'main');
    const g = this.grid(c.count, 256);
    const params = this.uniform([c.count, c.offset, g.rowsPerGrid, 0]);
    return this.dispatch(pipeline, params, { 1: c.src, 2: c.dst }, g.x, g.y, 'unpack f16');
  }

  /**
   * out = corrupt(X) elementwise (src/noise.ts corruptValue at global index (rowOffset + r)·cols + c);
   * seed and on/off are read at run time from state = u32 [seed, enabled] (enabled = 0 ⇒ out = X).
   * corrupt.wgsl; uniform CorruptParams [count, cols, rowOffset, rowsPerGrid, offX, 0, 0, 0, level, low, high, 0].
   */
  async corrupt(c: { rows: number; cols: number; rowOffset: number; X: BufferRef; out: GPUBuffer; spec: CorruptionSpec; state: GPUBuffer }): Promise<Dispatch> {
    const spec = c.spec; // validated by resolveSpec
    const count = c.rows * c.cols;
    const pipeline = await this.cache.get(['noise', 'corrupt'], { KIND: CORRUPTION_KINDS[spec.kind] }, 'corrupt');
    const g = this.grid(count, 256);
    const params = this.uniform([count, c.cols, c.rowOffset, g.rowsPerGrid, c.X.offset ?? 0, 0, 0, 0, { f: spec.level }, { f: spec.low ?? 0 }, { f: spec.high ?? 1 }, 0]);
    return this.dispatch(pipeline, params, { 1: c.X.buffer, 2: c.out, 3: c.state }, g.x, g.y, `corrupt ${spec.kind}`);
  }

  /** k-sparse kernels (ksparse.wgsl); uniform KSparseParams [count, n, kAt, rowsPerGrid]. */
  private async kSparse(entry: 'topk_mask' | 'mask_multiply', count: number, n: number, kAt: number, bindings: Record<number, GPUBuffer>, label: string): Promise<Dispatch> {
    const pipeline = await this.cache.get(['ksparse'], { TOPK_MASK: entry === 'topk_mask', MASK_MULTIPLY: entry === 'mask_multiply' }, entry);
    const g = this.grid(count, 256);
    const params = this.uniform([count, n, kAt, g.rowsPerGrid]);
    return this.dispatch(pipeline, params, bindings, g.x, g.y, label);
  }

  /**
   * mask[i·n + j] = 1 if #{j′ : A_ij′ > A_ij or (A_ij′ = A_ij and j′ < j)} < k, else 0 (the k largest of each row).
   * k is the u32 at element `k.offset` of `k.buffer`, read at run time: rewrite it to change k (annealing).
   */
  async topKMask(c: { rows: number; n: number; k: BufferRef; A: GPUBuffer; mask: GPUBuffer }): Promise<Dispatch> {
    return this.kSparse('topk_mask', c.rows * c.n, c.n, c.k.offset ?? 0, { 1: c.A, 2: c.mask, 3: c.k.buffer }, `topk k/${c.n}`);
  }

  /** A[i] ← A[i]·mask[i] for i < count. */
  async maskMultiply(c: { count: number; A: GPUBuffer; mask: GPUBuffer }): Promise<Dispatch> {
    return this.kSparse('mask_multiply', c.count, 1, 0, { 1: c.A, 2: c.mask }, 'mask_multiply');
  }

  /** Contractive-penalty kernels (contractive.wgsl); uniform ContractiveParams [count, cols, rowsPerGrid, offW, offOut, offQ, coef, 0]. */
  private async contractiveKernel(entry: 'row_sum_sq' | 'slope_sq' | 'scale_rows_add', f: { count: number; cols?: number; offW?: number; offOut?: number; offQ?: number; coef?: number }, bindings: Record<number, GPUBuffer>, wg: number): Promise<Dispatch> {
    const pipeline = await this.cache.get(['contractive'], { ROW_SUM_SQ: entry === 'row_sum_sq', SLOPE_SQ: entry === 'slope_sq', SCALE_ROWS: entry === 'scale_rows_add' }, entry);
    const g = this.grid(f.count, wg);
    const params = this.uniform([f.count, f.cols ?? 1, g.rowsPerGrid, f.offW ?? 0, f.offOut ?? 0, f.offQ ?? 0, { f: f.coef ?? 0 }, 0]);
    return this.dispatch(pipeline, params, bindings, g.x, g.y, entry);
  }

  /** out[j] = Σₖ W[j·cols + k]² for j < rows (offsets of W and out apply). */
  async rowSumSq(c: { rows: number; cols: number; W: BufferRef; out: BufferRef }): Promise<Dispatch> {
    return this.contractiveKernel('row_sum_sq', { count: c.rows, cols: c.cols, offW: c.W.offset ?? 0, offOut: c.out.offset ?? 0 }, { 1: c.W.buffer, 2: c.out.buffer }, 64);
  }

  /** out[i] = (A[i](1 − A[i]))² for i < count (squared sigmoid Jacobian entries). */
  async slopeSq(c: { count: number; A: GPUBuffer; out: GPUBuffer }): Promise<Dispatch> {
    return this.contractiveKernel('slope_sq', { count: c.count }, { 1: c.A, 2: c.out }, 256);
  }

  /** G[j·cols + k] += coef·q[j]·W[j·cols + k] for j < rows, k < cols (offsets of G, W and q apply). */
  async scaleRowsAdd(c: { rows: number; cols: number; G: BufferRef; W: BufferRef; q: BufferRef; coef: number }): Promise<Dispatch> {
    return this.contractiveKernel(
      'scale_rows_add',
      { count: c.rows * c.cols, cols: c.cols, offW: c.W.offset ?? 0, offOut: c.G.offset ?? 0, offQ: c.q.offset ?? 0, coef: c.coef },
      { 1: c.W.buffer, 2: c.G.buffer, 3: c.q.buffer }, 256,
    );
  }

  /**
   * One transition of a Wolfe line search (linesearch.wgsl) from the trial's
   * cost parts (`scalars`) and dots, updating `state`; writes at out[base …]:
   * [next step, real?, scalars…, dots…]. `params` (storage, f32): J(x) hi, lo,
   * φ'(0), c1, c2, the cost noise, maxLS, progTol, ‖d‖, then a weight per scalar.
   */
  async lineSearchStep(c: { scalars: GPUBuffer; nScalars: number; dots: GPUBuffer; nDots: number; params: GPUBuffer; state: GPUBuffer; out: GPUBuffer; base: number }): Promise<Dispatch> {
    if (c.nDots < 1) throw new Error('lineSearchStep needs the dot φ\'(t) = ∇Jᵀd in slot 0');
    const pipeline = await this.cache.get(['linesearch'], {}, 'main');
    const params = this.uniform([c.nScalars, c.nDots, c.base, 0]);
    return this.dispatch(pipeline, params, { 1: c.params, 2: c.scalars, 3: c.dots, 4: c.state, 5: c.out }, 1, 1, 'line search step');
  }

  /**
   * trialgate.wgsl: zeroes `nArgs` u32 of `args` from `argsBase` unless the line
   * search in `state` still needs an evaluation; when it does, zeroes the
   * scalars and dots that evaluation accumulates into. `at`: the state slot
   * holding θ's step (and after it the count of gated trials run).
   */
  async trialGate(c: { state: GPUBuffer; at: number; args: GPUBuffer; argsBase: number; nArgs: number; scalars: GPUBuffer; nScalars: number; dots: GPUBuffer; nDots: number }): Promise<Dispatch> {
    const pipeline = await this.cache.get(['trialgate'], {}, 'main');
    const params = this.uniform([c.argsBase, c.nArgs, c.nScalars, c.nDots, c.at, 0, 0, 0]);
    return this.dispatch(pipeline, params, { 1: c.state, 2: c.args, 3: c.scalars, 4: c.dots }, 1, 1, 'trial gate');
  }

  /** Returns the uniform buffers of these dispatches to the pool (the two stages of a sum share one). */
  release(list: readonly Dispatch[]): void {
    for (const d of list) {
      this.pool.release(d.params);
      for (const b of d.owned ?? []) this.releaseShared(b);
    }
  }

  /** Scratch buffers by size, with the dispatches holding each (split-K's slices). */
  private readonly scratch = new Map<number, { buffer: GPUBuffer; holders: number }>();

  /**
   * A scratch buffer of `bytes` shared by every dispatch that asks for this size
   * (each chunk's split-K GEMMs of one shape): dispatches run one after another, and
   * each split-K GEMM writes all of its slices before its sum reads them, so they
   * never need it at the same time. Freed when the last holder is released.
   */
  private sharedScratch(bytes: number): GPUBuffer {
    const held = this.scratch.get(bytes);
    if (held) {
      held.holders++;
      return held.buffer;
    }
    const buffer = this.pool.acquire(bytes, STORAGE, 'split-K slices');
    this.scratch.set(bytes, { buffer, holders: 1 });
    return buffer;
  }

  private releaseShared(buffer: GPUBuffer): void {
    for (const [bytes, held] of this.scratch) {
      if (held.buffer !== buffer) continue;
      if (--held.holders === 0) {
        this.scratch.delete(bytes);
        this.pool.release(buffer);
      }
      return;
    }
  }
}

/** reduce.wgsl's maps (ids from shaders/ids.json); 'product' is 'dot' under another name (Σ x·y). */
export const SUM_MAPS = { ...SUM_MAP_ID, product: SUM_MAP_ID.dot } as const;
export type SumMap = keyof typeof SUM_MAPS;
/** ∇b ← scale · Σᵢ δᵢ + beta · ∇b, written by a δ kernel in the same pass (fusedBias). */
export interface BiasGrad {
  out: BufferRef;
  scale: number;
  beta: number;
}

/** Whether δ's kernel can also write ∇b: one invocation per column over every row, so few rows. */
export function fusedBias(rows: number): boolean {
  return rows <= COLSUM_DIRECT_ROWS;
}

function checkBiasGrad(rows: number, b: BiasGrad | undefined): boolean {
  if (!b) return false;
  if (!fusedBias(rows)) throw new Error(`∇b fused into δ's kernel needs at most ${COLSUM_DIRECT_ROWS} rows, not ${rows}`);
  return true;
}

/**
 * Column sums over at most this many rows take one pass (one invocation per
 * column over every row); more rows are cut into strips (two passes).
 */
export const COLSUM_DIRECT_ROWS = 512;

/** Most row strips of a column sum (its partials buffer holds COLSUM_STRIPS × columns f32). */
export const COLSUM_STRIPS = 64;
/** Most invocations of the first reduction stage (and f32 slots the partials buffer needs). */
export const SUM_GROUPS = 4096;

/** Invocations of a sum's first stage over `count` elements: enough to fill the device, each summing at least 16 elements. */
export function sumThreads(count: number): number {
  return Math.max(1, Math.min(SUM_GROUPS, Math.ceil(count / 16)));
}

/** Terms of one Kernels.sums batch (sums.wgsl's table sizes). */
export const SUMS_MAX_TERMS = 16;
/** Input buffers sums.wgsl can bind (v0 … v5). */
export const SUMS_MAX_BUFFERS = 6;

/** One scalar part of J for Kernels.sums: scalars[slot] += scale · Σₖ map(x[k], y[k]) over `count` elements. */
export interface SumTerm {
  count: number;
  map: SumMap;
  x: BufferRef;
  y?: BufferRef;
  slot: number;
  scale: number;
  /** MAP_KL's target ρ. */
  rho?: number;
}

/** f32 of partials Kernels.sums needs for `terms` (the largest batch's Σ sumThreads(count)). */
export function sumsPartials(terms: readonly SumTerm[]): number {
  let most = 1;
  for (let i = 0; i < terms.length; i += SUMS_MAX_TERMS) most = Math.max(most, terms.slice(i, i + SUMS_MAX_TERMS).reduce((a, t) => a + sumThreads(t.count), 0));
  return most;
}

/** The bits of `x` as an f32 (a float carried in a u32 table). */
function f32Bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!;
}

/** Vectors dots.wgsl can bind (v0 … v14). */
export const DOTS_MAX_VECTORS = 15;
/** Pairs (register accumulators) of one dots.wgsl dots_partial dispatch. */
export const DOTS_MAX_PAIRS = 16;
/** dots.wgsl's template values: stage 2 (`final`) or stage 1 with `vectors` bound. */
function dotsDefines(final: boolean, vectors: number): Defines {
  return { FINAL: final, PAIRS: DOTS_MAX_PAIRS, ...vectorDefines(vectors) };
}

/** vector_inputs.wgsl's template values: vectors 1 … `bound` − 1 bound (v0 always is), up to DOTS_MAX_VECTORS. */
function vectorDefines(bound: number): Defines {
  const defines: Defines = {};
  for (let j = 1; j < DOTS_MAX_VECTORS; j++) defines[`V${j}`] = j < bound;
  return defines;
}
/** One pair of a dotsPartial group: bound vectors `a` and `b` (indices), its partials row. */
export interface DotsPair {
  a: number;
  b: number;
  row: number;
}


/** blas1.wgsl's operations (ids from shaders/ids.json). */
export const VEC_OPS = VEC_OP_ID;
/** f32 coefficients per vector-op slot in the coef buffer. */
export const COEF_STRIDE = 8;
/** Vectors combine.wgsl can bind (v0 … v6; a slot of COEF_STRIDE coefficients holds them). */
export const COMBINE_MAX = 7;
/** Bytes of a uniform binding every device allows (maxUniformBufferBindingSize's default). */
const UNIFORM_BINDING_MAX = 65536;
export type VecOp = keyof typeof VEC_OPS;
