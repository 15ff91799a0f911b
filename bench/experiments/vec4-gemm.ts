// Prototype of a faster GEMM for software adapters: fully unrolled register
// blocks (no dynamically indexed private arrays) with vec4 loads, the same
// bindings, uniform and epilogue as shaders/gemm.wgsl, so it can stand in for
// Kernels.gemm. installVec4Gemm() patches Kernels.prototype.gemm in this
// process only (experiments); the library is untouched.
//
// Why it is faster on SwiftShader: every SPIR-V load whose address differs per
// invocation becomes a masked per-lane gather, and a private array indexed by a
// loop counter (gemm.wgsl's acc[r][c], bv[c], rows[r]) lives in memory, so each
// fma of the current kernel costs gathers and scatters. Here the accumulators are
// named vec4 values and each loaded scalar feeds TN (or TM) fmas.

import { readFileSync } from 'node:fs';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { renderShader } from '../../src/gpu/shaders.js';
import { ACT_ID, Kernels, type Dispatch, type GemmCall } from '../../src/gpu/kernels.js';
import { UNIFORM } from '../../src/gpu/buffers.js';

export interface Vec4Block {
  /** Output rows per invocation (a multiple of 4 for the TN layout). */
  TM: number;
  /** vec4 output columns per invocation (4·TNV columns). */
  TNV: number;
  WX: number;
  WY: number;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The engine's shader file (shaders/gemm_vec4.wgsl, which began here as a proposal), one block shape per variant. */
export interface Vec4FileVariant {
  ROWS16: boolean;
  COLS16: boolean;
  WG_X: number;
  WG_Y: number;
}

const FILE_TEXT = ['gemm_common', 'gemm_vec4'].map((f) => readFileSync(new URL(`../../shaders/${f}.wgsl`, import.meta.url), 'utf8')).join('\n');

/** Renders gemm_vec4.wgsl the way src/gpu/shaders.ts renders shaders/ files (activation.wgsl in front). */
export function renderVec4File(v: Vec4FileVariant, o: { transA: boolean; transB: boolean; accumulate: boolean; addend: boolean; bias: boolean; storeZ: boolean; act: number; alpha: number | string }): string {
  const act = renderShader(['activation'], { ACT: o.act, ALPHA: typeof o.alpha === 'number' ? `${o.alpha}.0` : o.alpha, HIDDEN_DELTA: false, NEEDS_Z: false, SPARSE: false });
  const defines: Record<string, unknown> = {
    TRANS_A: o.transA, TRANS_B: o.transB, ACCUMULATE: o.accumulate, ADDEND: o.addend, BIAS: o.bias, STORE_Z: o.storeZ,
    ROWS16: v.ROWS16, COLS16: v.COLS16, WG_X: v.WG_X, WG_Y: v.WG_Y,
  };
  const strings: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const m of FILE_TEXT.matchAll(/\$\{(\w+)\}/g)) {
    if (!(m[1]! in defines)) throw new Error(`gemm_vec4.wgsl needs ${m[1]}`);
    strings.push(FILE_TEXT.slice(last, m.index));
    values.push(defines[m[1]!]);
    last = m.index! + m[0].length;
  }
  strings.push(FILE_TEXT.slice(last));
  const raw = Object.assign([...strings], { raw: [...strings] }) as unknown as TemplateStringsArray;
  return `${act}\n${wgsl(raw, ...values) as string}`;
}

/** The full kernel source (activation.wgsl + GEMM) for one call's layout and epilogue. */
export function vec4GemmSource(blk: Vec4Block, o: { transA: boolean; transB: boolean; accumulate: boolean; addend: boolean; bias: boolean; storeZ: boolean; act: number; alpha: number | string }): string {
  if (o.transA && o.transB) throw new Error('vec4 GEMM: TT layout not supported');
  const { TM, TNV, WX, WY } = blk;
  const act = renderShader(['activation'], { ACT: o.act, ALPHA: typeof o.alpha === 'number' ? `${o.alpha}.0` : o.alpha, HIDDEN_DELTA: false, NEEDS_Z: false, SPARSE: false });
  const pre: string[] = [];
  const body: string[] = [];
  if (!o.transA && !o.transB) {
    // NN: A (M × K) as vec4 along k; B (K × N) as vec4 along n; 4 k-steps per iteration.
    pre.push(...range(TM).map((r) => `  let a${r}base = oA + min(row0 + ${r}u, p.M - 1u) * K4;`));
    pre.push(...range(TNV).map((v) => `  let b${v}col = oB + min(col4 + ${v}u, N4 - 1u);`));
    body.push(
      ...range(TM).map((r) => `    let a${r} = A[a${r}base + kk];`),
      ...range(4).flatMap((q) => range(TNV).map((v) => `    let b${q}_${v} = B[(kk * 4u + ${q}u) * N4 + b${v}col];`)),
      ...range(TM).flatMap((r) =>
        range(TNV).map((v) => `    c${r}_${v} = fma(vec4<f32>(a${r}.w), b3_${v}, fma(vec4<f32>(a${r}.z), b2_${v}, fma(vec4<f32>(a${r}.y), b1_${v}, fma(vec4<f32>(a${r}.x), b0_${v}, c${r}_${v}))));`),
      ),
    );
  } else if (o.transB) {
    // NT: B stored N × K; row j of B is column j of op(B), vec4 along k.
    pre.push(...range(TM).map((r) => `  let a${r}base = oA + min(row0 + ${r}u, p.M - 1u) * K4;`));
    pre.push(...range(TNV).flatMap((v) => range(4).map((q) => `  let b${v}_${q}base = oB + min((col4 + ${v}u) * 4u + ${q}u, p.N - 1u) * K4;`)));
    body.push(
      ...range(TM).map((r) => `    let a${r} = A[a${r}base + kk];`),
      ...range(TNV).flatMap((v) => range(4).map((q) => `    let b${v}_${q} = B[b${v}_${q}base + kk];`)),
      ...range(TM).flatMap((r) => range(TNV).map((v) => `    c${r}_${v} += vec4<f32>(dot(a${r}, b${v}_0), dot(a${r}, b${v}_1), dot(a${r}, b${v}_2), dot(a${r}, b${v}_3));`)),
    );
  } else {
    // TN: A stored K × M; 4 consecutive rows of op(A) are one vec4 of A's row k.
    if (TM % 4) throw new Error('vec4 GEMM TN needs TM % 4 == 0');
    pre.push(...range(TM / 4).map((g) => `  let a${g}col = oA + min(row0 / 4u + ${g}u, M4 - 1u);`));
    pre.push(...range(TNV).map((v) => `  let b${v}col = oB + min(col4 + ${v}u, N4 - 1u);`));
    body.push(
      ...range(TM / 4).map((g) => `    let a${g} = A[k * M4 + a${g}col];`),
      ...range(TNV).map((v) => `    let b${v} = B[k * N4 + b${v}col];`),
      ...range(TM).flatMap((r) => range(TNV).map((v) => `    c${r}_${v} = fma(vec4<f32>(a${r >> 2}.${'xyzw'[r & 3]}), b${v}, c${r}_${v});`)),
    );
  }
  const loop = o.transA ? `  for (var k = 0u; k < p.K; k++) {\n${body.join('\n')}\n  }` : `  for (var kk = 0u; kk < K4; kk++) {\n${body.join('\n')}\n  }`;
  const accs = range(TM).flatMap((r) => range(TNV).map((v) => `  var c${r}_${v} = vec4<f32>(0.0);`));
  const stores = range(TM).flatMap((r) => range(TNV).map((v) => `  if (row0 + ${r}u < p.M && col4 + ${v}u < N4) { store4(row0 + ${r}u, col4 + ${v}u, c${r}_${v}); }`));
  const epi = [
    o.accumulate ? '  v += p.beta * C[idx];' : '',
    o.addend ? '  let e = p.offE + i * p.N + j4 * 4u;\n  v += p.gamma * vec4<f32>(E[e], E[e + 1u], E[e + 2u], E[e + 3u]);' : '',
    o.bias ? '  let b = p.offBias + j4 * 4u;\n  v += vec4<f32>(bias[b], bias[b + 1u], bias[b + 2u], bias[b + 3u]);' : '',
    o.storeZ ? '  let z = i * p.N + j4 * 4u;\n  Zout[z] = v.x; Zout[z + 1u] = v.y; Zout[z + 2u] = v.z; Zout[z + 3u] = v.w;' : '',
  ].filter((s) => s);
  return `${act}
struct GemmParams {
  M: u32, N: u32, K: u32,
  offA: u32, offB: u32, offC: u32, offE: u32, offBias: u32,
  alpha: f32, beta: f32, gamma: f32, pad0: u32,
}
@group(0) @binding(0) var<uniform> p: GemmParams;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;
${o.bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
${o.addend ? '@group(0) @binding(5) var<storage, read> E: array<f32>;' : ''}
${o.storeZ ? '@group(0) @binding(6) var<storage, read_write> Zout: array<f32>;' : ''}

fn store4(i: u32, j4: u32, acc: vec4<f32>) {
  let idx = p.offC / 4u + i * (p.N / 4u) + j4;
  var v = p.alpha * acc;
${epi.join('\n')}
  C[idx] = vec4<f32>(act_f(v.x), act_f(v.y), act_f(v.z), act_f(v.w));
}

@compute @workgroup_size(${WX}, ${WY})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let K4 = p.K / 4u;
  let N4 = p.N / 4u;
  let M4 = p.M / 4u;
  let oA = p.offA / 4u;
  let oB = p.offB / 4u;
  let row0 = gid.y * ${TM}u;
  let col4 = gid.x * ${TNV}u;
  if (row0 >= p.M || col4 >= N4) { return; }
${pre.join('\n')}
${accs.join('\n')}
${loop}
${stores.join('\n')}
}
`;
}

/** Whether a call can use the vec4 kernel (alignment of shapes and offsets). */
export function vec4Eligible(c: GemmCall): boolean {
  const tA = !!c.transA;
  const tB = !!c.transB;
  if (tA && tB) return false;
  if (c.N % 4 || (c.C.offset ?? 0) % 4 || (c.A.offset ?? 0) % 4 || (c.B.offset ?? 0) % 4) return false;
  return tA ? c.M % 4 === 0 : c.K % 4 === 0;
}

export interface Vec4Patch {
  /** Calls that went to the vec4 kernel / to the original kernel. */
  used: number;
  fellBack: number;
  uninstall(): void;
}

export type Vec4Choice = ({ kind: 'generated' } & Vec4Block) | ({ kind: 'file' } & Vec4FileVariant);

/** Routes eligible Kernels.gemm calls of this process to a vec4 kernel (per layout: generated block or the .wgsl file). */
export function installVec4Gemm(blocks: { NN: Vec4Choice; NT: Vec4Choice; TN: Vec4Choice }): Vec4Patch {
  const original = Kernels.prototype.gemm;
  const pipelines = new Map<string, GPUComputePipeline>();
  const patch: Vec4Patch = {
    used: 0,
    fellBack: 0,
    uninstall: () => {
      Kernels.prototype.gemm = original;
    },
  };
  Kernels.prototype.gemm = async function (this: Kernels, c: GemmCall): Promise<Dispatch[]> {
    if (!vec4Eligible(c)) {
      patch.fellBack++;
      return original.call(this, c);
    }
    patch.used++;
    return [await vec4GemmDispatch(this, c, blocks[c.transA ? 'TN' : c.transB ? 'NT' : 'NN'], pipelines)];
  };
  return patch;
}

const sharedPipelines = new Map<string, GPUComputePipeline>();

/** What Kernels.gemm would return for an eligible call with the vec4 kernel `blk`. */
export async function vec4GemmDispatch(k: Kernels, c: GemmCall, blk: Vec4Choice, pipelines = sharedPipelines): Promise<Dispatch> {
  if (!vec4Eligible(c)) throw new Error(`vec4 GEMM: call ${c.M}x${c.N}x${c.K} is not eligible`);
  const layout = c.transA ? 'TN' : c.transB ? 'NT' : 'NN';
  const act = c.activation ?? null;
  const ACT_IDS: Record<string, number> = ACT_ID;
  const alpha = act?.alpha ?? 0;
  const o = {
    transA: !!c.transA, transB: !!c.transB, accumulate: (c.beta ?? 0) !== 0, addend: !!c.E && (c.gamma ?? 0) !== 0,
    bias: !!c.bias, storeZ: !!c.Z, act: act ? ACT_IDS[act.name]! : ACT_ID.identity, alpha: Number.isInteger(alpha) ? alpha : `${alpha}`,
  };
  const code = blk.kind === 'file' ? renderVec4File(blk, o) : vec4GemmSource(blk, o);
  const device = k.ctx.device;
  let pipeline = pipelines.get(code);
  if (!pipeline) {
    const module = device.createShaderModule({ code, label: `vec4 gemm ${layout}` });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === 'error');
    if (errs.length) throw new Error(`vec4 gemm: ${errs.map((e) => `${e.lineNum}: ${e.message}`).join('\n')}\n${code}`);
    pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(code, pipeline);
  }
  const data = new ArrayBuffer(48);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  u.set([c.M, c.N, c.K, c.A.offset ?? 0, c.B.offset ?? 0, c.C.offset ?? 0, c.E?.offset ?? 0, c.bias?.offset ?? 0]);
  f[8] = c.alpha ?? 1;
  f[9] = c.beta ?? 0;
  f[10] = c.gamma ?? 0;
  const params = k.pool.acquire(48, UNIFORM, 'params');
  device.queue.writeBuffer(params, 0, data);
  const entries: GPUBindGroupEntry[] = [
    { binding: 0, resource: { buffer: params } },
    { binding: 1, resource: { buffer: c.A.buffer } },
    { binding: 2, resource: { buffer: c.B.buffer } },
    { binding: 3, resource: { buffer: c.C.buffer } },
  ];
  if (o.bias) entries.push({ binding: 4, resource: { buffer: c.bias!.buffer } });
  if (o.addend) entries.push({ binding: 5, resource: { buffer: c.E!.buffer } });
  if (o.storeZ) entries.push({ binding: 6, resource: { buffer: c.Z! } });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  const [tm, tnv, wx, wy] = blk.kind === 'file' ? [blk.ROWS16 ? 16 : 8, blk.COLS16 ? 4 : 2, blk.WG_X, blk.WG_Y] : [blk.TM, blk.TNV, blk.WX, blk.WY];
  const x = Math.ceil(c.N / 4 / (wx * tnv));
  const y = Math.ceil(c.M / (wy * tm));
  return { pipeline, bindGroup, x, y, label: `vec4 gemm ${layout} ${c.M}x${c.N}x${c.K}`, params };
}

/** 'TMxTN[@WXxWY][:gen]', e.g. '8x16@4x4' (the .wgsl file) or '8x16@4x4:gen' (the generator). */
export function parseVec4Choice(spec: string): Vec4Choice {
  const [body, how] = spec.split(':');
  const [blkS, wgS] = body!.split('@');
  const [tm, tn] = blkS!.split('x').map(Number) as [number, number];
  const [wx, wy] = (wgS ?? '8x8').split('x').map(Number) as [number, number];
  if (how === 'gen') return { kind: 'generated', TM: tm, TNV: tn / 4, WX: wx, WY: wy };
  if (![8, 16].includes(tm) || ![8, 16].includes(tn)) throw new Error(`gemm_vec4.wgsl blocks are 8 or 16 rows × 8 or 16 columns, got ${blkS}`);
  return { kind: 'file', ROWS16: tm === 16, COLS16: tn === 16, WG_X: wx, WG_Y: wy };
}
