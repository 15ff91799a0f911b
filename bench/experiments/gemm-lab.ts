// GEMM kernel lab: candidate WGSL kernels, generated here and timed through raw
// WebGPU pipelines against the production kernel (Kernels.gemm), to find what is
// fast on a given adapter (SwiftShader first of all). Not part of the library.
//
//   npx vite-node bench/experiments/gemm-lab.ts [--sizes 256,512,1024] [--only name,name] [--layout NN|NT|TN] [--reps N]
//
// C = op(A)·op(B), row-major f32, sizes multiples of 4·TM/TN (no edge handling
// here: the lab measures the inner loop; see bench/RESULTS.md for the edge plan).
import { acquireDevice, adapterLabel } from '../../src/gpu/device.js';
import { BufferPool, readF32, STORAGE, writeF32 } from '../../src/gpu/buffers.js';
import { GEMM_VARIANT_NAMES, Kernels, recordDispatches } from '../../src/gpu/kernels.js';
import { PipelineCache } from '../../src/gpu/shaders.js';
import { Rng } from '../../src/prng.js';
import { parseVec4Choice, vec4GemmDispatch } from './vec4-gemm.js';
import { useTfWebGpu } from '../../src/bench/tfjs.js';

type Layout = 'NN' | 'NT' | 'TN';

interface Candidate {
  name: string;
  /** Output rows × columns one invocation computes. */
  TM: number;
  TN: number;
  WX: number;
  WY: number;
  layouts: Layout[];
  code(layout: Layout): string;
}

const HEAD = `
struct P { M: u32, N: u32, K: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
`;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Scalar, fully unrolled register block (no private arrays). Each invocation
 * owns TM rows × TN columns: contiguous (row0 + r, col0 + c) when !interleave,
 * else strided by the workgroup size (row = base + r·WY, col = base + c·WX) so
 * that neighbouring invocations read neighbouring elements of B.
 */
function scalarKernel(TM: number, TN: number, WX: number, WY: number, interleave: boolean) {
  return (layout: Layout): string => {
    const aAt = (r: number): string => (layout === 'TN' ? `A[k * p.M + i${r}]` : `A[i${r} * p.K + k]`);
    const bAt = (c: number): string => (layout === 'NT' ? `B[j${c} * p.K + k]` : `B[k * p.N + j${c}]`);
    const rows = range(TM)
      .map((r) => (interleave ? `  let i${r} = wid.y * ${WY * TM}u + lid.y + ${r * WY}u;` : `  let i${r} = gid.y * ${TM}u + ${r}u;`))
      .join('\n');
    const cols = range(TN)
      .map((c) => (interleave ? `  let j${c} = wid.x * ${WX * TN}u + lid.x + ${c * WX}u;` : `  let j${c} = gid.x * ${TN}u + ${c}u;`))
      .join('\n');
    const accs = range(TM).flatMap((r) => range(TN).map((c) => `  var c${r}_${c} = 0.0;`)).join('\n');
    const body = [
      ...range(TN).map((c) => `    let b${c} = ${bAt(c)};`),
      ...range(TM).flatMap((r) => [`    let a${r} = ${aAt(r)};`, ...range(TN).map((c) => `    c${r}_${c} = fma(a${r}, b${c}, c${r}_${c});`)]),
    ].join('\n');
    const stores = range(TM).flatMap((r) => range(TN).map((c) => `  C[i${r} * p.N + j${c}] = c${r}_${c};`)).join('\n');
    return `${HEAD}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(${WX}, ${WY})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${rows}
${cols}
${accs}
  for (var k = 0u; k < p.K; k++) {
${body}
  }
${stores}
}`;
  };
}

/**
 * vec4 kernel: TM rows × 4·TNV columns per invocation, accumulators are vec4
 * (4 columns). NN: A read as vec4 along k (4 k-steps per load), B as vec4 along
 * n. NT (B stored N × K, the forward pass): both read as vec4 along k and the
 * 4×4 block of products is reduced with dot(). TN (A stored K × M, ∇W): A read
 * as vec4 along m (4 rows per load), B as vec4 along n.
 * Needs K % 4 == 0 (NN, NT), M % 4 == 0 (TN), N % 4 == 0. Edges: row and
 * column indices are clamped (reads stay valid, once, outside the k loop) and
 * out-of-range stores skipped, so any M, N that satisfy the above work.
 */
function vec4Kernel(TM: number, TNV: number, WX: number, WY: number) {
  return (layout: Layout): string => {
    const pre: string[] = [];
    const lines: string[] = [];
    const accs = range(TM).flatMap((r) => range(TNV).map((v) => `  var c${r}_${v} = vec4<f32>(0.0);`));
    if (layout === 'NN') {
      pre.push(...range(TM).map((r) => `  let a${r}base = min(row0 + ${r}u, p.M - 1u) * K4;`));
      pre.push(...range(TNV).map((v) => `  let b${v}col = min(col4 + ${v}u, N4 - 1u);`));
      lines.push(
        ...range(TM).map((r) => `    let a${r} = A[a${r}base + kk];`),
        ...range(4).flatMap((q) => range(TNV).map((v) => `    let b${q}_${v} = B[(kk * 4u + ${q}u) * N4 + b${v}col];`)),
        ...range(TM).flatMap((r) =>
          range(TNV).map((v) => `    c${r}_${v} = fma(vec4<f32>(a${r}.x), b0_${v}, fma(vec4<f32>(a${r}.y), b1_${v}, fma(vec4<f32>(a${r}.z), b2_${v}, fma(vec4<f32>(a${r}.w), b3_${v}, c${r}_${v}))));`),
        ),
      );
    } else if (layout === 'NT') {
      // B is N × K: column j of op(B) is row j of B, contiguous in k.
      pre.push(...range(TM).map((r) => `  let a${r}base = min(row0 + ${r}u, p.M - 1u) * K4;`));
      pre.push(...range(TNV).flatMap((v) => range(4).map((q) => `  let b${v}_${q}base = min(col4 * 4u + ${v * 4 + q}u, p.N - 1u) * K4;`)));
      lines.push(
        ...range(TM).map((r) => `    let a${r} = A[a${r}base + kk];`),
        ...range(TNV).flatMap((v) => range(4).map((q) => `    let b${v}_${q} = B[b${v}_${q}base + kk];`)),
        ...range(TM).flatMap((r) =>
          range(TNV).map((v) => `    c${r}_${v} += vec4<f32>(dot(a${r}, b${v}_0), dot(a${r}, b${v}_1), dot(a${r}, b${v}_2), dot(a${r}, b${v}_3));`),
        ),
      );
    } else {
      // TN: A is K × M (op(A) = Aᵀ): 4 consecutive rows of op(A) are one vec4 of A's row k. TM % 4 == 0.
      pre.push(...range(TM / 4).map((g) => `  let a${g}col = min(row0 / 4u + ${g}u, M4 - 1u);`));
      pre.push(...range(TNV).map((v) => `  let b${v}col = min(col4 + ${v}u, N4 - 1u);`));
      lines.push(
        ...range(TM / 4).map((g) => `    let a${g} = A[k * M4 + a${g}col];`),
        ...range(TNV).map((v) => `    let b${v} = B[k * N4 + b${v}col];`),
        ...range(TM).flatMap((r) => range(TNV).map((v) => `    c${r}_${v} = fma(vec4<f32>(a${r >> 2}.${'xyzw'[r & 3]}), b${v}, c${r}_${v});`)),
      );
    }
    const loop =
      layout === 'TN'
        ? `  for (var k = 0u; k < p.K; k++) {\n${lines.join('\n')}\n  }`
        : `  for (var kk = 0u; kk < K4; kk++) {\n${lines.join('\n')}\n  }`;
    const stores = range(TM).flatMap((r) =>
      range(TNV).map((v) => `  if (row0 + ${r}u < p.M && col4 + ${v}u < N4) { C[(row0 + ${r}u) * N4 + col4 + ${v}u] = c${r}_${v}; }`),
    );
    return `${HEAD}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;
@compute @workgroup_size(${WX}, ${WY})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let K4 = p.K / 4u;
  let N4 = p.N / 4u;
  let M4 = p.M / 4u;
  let row0 = gid.y * ${TM}u;
  let col4 = gid.x * ${TNV}u;
  if (row0 >= p.M || col4 >= N4) { return; }
${pre.join('\n')}
${accs.join('\n')}
${loop}
${stores.join('\n')}
}`;
  };
}

/**
 * The vec4 kernel written with mat4x4 accumulators: acc_g_v (4 rows × 4
 * columns) += one matrix product per loaded 4 × 4 block — the compact form a
 * hand-written WGSL file can use (TG·TNV statements per k-step instead of
 * 4·TG·TNV).
 */
function matKernel(TG: number, TNV: number, WX: number, WY: number) {
  return (layout: Layout): string => {
    const TM = TG * 4;
    const pre: string[] = [];
    const body: string[] = [];
    const accs = range(TG).flatMap((g) => range(TNV).map((v) => `  var c${g}_${v} = mat4x4<f32>();`));
    if (layout === 'NN') {
      pre.push(...range(TM).map((r) => `  let a${r}base = min(row0 + ${r}u, p.M - 1u) * K4;`));
      pre.push(...range(TNV).map((v) => `  let b${v}col = min(col4 + ${v}u, N4 - 1u);`));
      body.push(
        ...range(TG).map((g) => `    let am${g} = mat4x4<f32>(${range(4).map((i) => `A[a${g * 4 + i}base + kk]`).join(', ')});`),
        ...range(TNV).map((v) => `    let bm${v} = mat4x4<f32>(${range(4).map((q) => `B[(kk * 4u + ${q}u) * N4 + b${v}col]`).join(', ')});`),
        ...range(TG).flatMap((g) => range(TNV).map((v) => `    c${g}_${v} += bm${v} * am${g};`)),
      );
    } else if (layout === 'NT') {
      pre.push(...range(TM).map((r) => `  let a${r}base = min(row0 + ${r}u, p.M - 1u) * K4;`));
      pre.push(...range(TNV).flatMap((v) => range(4).map((q) => `  let b${v}_${q}base = min(col4 * 4u + ${v * 4 + q}u, p.N - 1u) * K4;`)));
      body.push(
        ...range(TG).map((g) => `    let am${g} = mat4x4<f32>(${range(4).map((i) => `A[a${g * 4 + i}base + kk]`).join(', ')});`),
        ...range(TNV).map((v) => `    let bt${v} = transpose(mat4x4<f32>(${range(4).map((q) => `B[b${v}_${q}base + kk]`).join(', ')}));`),
        ...range(TG).flatMap((g) => range(TNV).map((v) => `    c${g}_${v} += bt${v} * am${g};`)),
      );
    } else {
      pre.push(...range(TG).map((g) => `  let a${g}col = min(row0 / 4u + ${g}u, M4 - 1u);`));
      pre.push(...range(TNV).map((v) => `  let b${v}col = min(col4 + ${v}u, N4 - 1u);`));
      body.push(
        ...range(TG).map((g) => `    let a${g} = A[k * M4 + a${g}col];`),
        ...range(TNV).map((v) => `    let b${v} = B[k * N4 + b${v}col];`),
        ...range(TG).flatMap((g) => range(TNV).map((v) => `    c${g}_${v} += mat4x4<f32>(b${v} * a${g}.x, b${v} * a${g}.y, b${v} * a${g}.z, b${v} * a${g}.w);`)),
      );
    }
    const loop = layout === 'TN' ? `  for (var k = 0u; k < p.K; k++) {\n${body.join('\n')}\n  }` : `  for (var kk = 0u; kk < K4; kk++) {\n${body.join('\n')}\n  }`;
    const stores = range(TG).flatMap((g) =>
      range(TNV).flatMap((v) => range(4).map((i) => `  if (row0 + ${g * 4 + i}u < p.M && col4 + ${v}u < N4) { C[(row0 + ${g * 4 + i}u) * N4 + col4 + ${v}u] = c${g}_${v}[${i}]; }`)),
    );
    return `${HEAD}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;
@compute @workgroup_size(${WX}, ${WY})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let K4 = p.K / 4u;
  let N4 = p.N / 4u;
  let M4 = p.M / 4u;
  let row0 = gid.y * ${TM}u;
  let col4 = gid.x * ${TNV}u;
  if (row0 >= p.M || col4 >= N4) { return; }
${pre.join('\n')}
${accs.join('\n')}
${loop}
${stores.join('\n')}
}`;
  };
}

const mat = (TG: number, TNV: number, WX = 8, WY = 8): Candidate => ({
  name: `mat-${TG * 4}x${TNV * 4}${WX === 8 && WY === 8 ? '' : `-wg${WX}x${WY}`}`,
  TM: TG * 4, TN: TNV * 4, WX, WY, layouts: ['NN', 'NT', 'TN'], code: matKernel(TG, TNV, WX, WY),
});

const vec = (TM: number, TNV: number, WX = 8, WY = 8, suffix = ''): Candidate => ({
  name: `vec4-${TM}x${TNV * 4}${suffix || (WX === 8 && WY === 8 ? '' : `-wg${WX}x${WY}`)}`,
  TM, TN: TNV * 4, WX, WY, layouts: TM % 4 === 0 ? ['NN', 'NT', 'TN'] : ['NN', 'NT'], code: vec4Kernel(TM, TNV, WX, WY),
});
const CANDIDATES: Candidate[] = [
  { name: 'scalar-4x4', TM: 4, TN: 4, WX: 8, WY: 8, layouts: ['NN', 'NT', 'TN'], code: scalarKernel(4, 4, 8, 8, false) },
  { name: 'scalar-4x4-interleaved', TM: 4, TN: 4, WX: 8, WY: 8, layouts: ['NN', 'NT', 'TN'], code: scalarKernel(4, 4, 8, 8, true) },
  { name: 'scalar-8x4', TM: 8, TN: 4, WX: 8, WY: 8, layouts: ['NN', 'NT', 'TN'], code: scalarKernel(8, 4, 8, 8, false) },
  vec(4, 1),
  vec(8, 1),
  vec(16, 1),
  vec(4, 2),
  vec(8, 2),
  vec(16, 2),
  vec(8, 4),
  vec(4, 4),
  vec(16, 4),
  vec(8, 2, 4, 4),
  vec(8, 2, 16, 4),
  vec(8, 2, 64, 1),
  vec(8, 4, 4, 4),
  vec(8, 4, 16, 4),
  vec(16, 1, 4, 4),
  vec(16, 2, 4, 4),
  mat(2, 2),
  mat(2, 4),
  mat(4, 2),
  mat(4, 4),
  mat(2, 4, 4, 4),
  mat(4, 2, 4, 4),
];

// ---- harness ----
const args = process.argv.slice(2);
const flag = (k: string): string | undefined => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const sizes = (flag('sizes') ?? '256,512').split(',').map(Number);
const only = flag('only')?.split(',');
const layout = (flag('layout') ?? 'NN') as Layout;
const repsArg = flag('reps');
const shapeArg = flag('shape'); // M,N,K instead of square sizes
// gemm_vec4.wgsl blocks to time as well, e.g. --files 8x8,16x16@4x4 (through the Kernels-compatible dispatch).
const files = flag('files')?.split(',') ?? [];

const ctx = await acquireDevice();
const { device } = ctx;
const pool = new BufferPool(device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
const kernels = new Kernels(ctx, pool, new PipelineCache(device));
console.log(`adapter: ${adapterLabel(ctx.adapter)}; layout ${layout}; fastest of reps after 2 warm-up runs`);

/** Fastest wall time of `reps` runs after 2 warm-up runs, and the process CPU seconds of that run (both cores count). */
let lastCpu = 0;
async function time(run: () => Promise<void>, reps: number): Promise<number> {
  await run();
  await run();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    const t = (performance.now() - t0) / 1000;
    if (t < best) {
      best = t;
      const c = process.cpuUsage(c0);
      lastCpu = (c.user + c.system) / 1e6;
    }
  }
  return best;
}

async function submitWait(pipeline: GPUComputePipeline, bg: GPUBindGroup, x: number, y: number): Promise<void> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(x, y);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}

const shapes: [number, number, number][] = shapeArg ? [shapeArg.split(',').map(Number) as [number, number, number]] : sizes.map((n) => [n, n, n]);
for (const [M, N, K] of shapes) {
  const reps = repsArg ? Number(repsArg) : M * N * K >= 1024 ** 3 ? 1 : 3;
  const flop = 2 * M * N * K;
  const rng = new Rng(M + N + K);
  const aRows = layout === 'TN' ? K : M;
  const aCols = layout === 'TN' ? M : K;
  const bRows = layout === 'NT' ? N : K;
  const bCols = layout === 'NT' ? K : N;
  const a = Float32Array.from({ length: aRows * aCols }, () => rng.range(-1, 1));
  const b = Float32Array.from({ length: bRows * bCols }, () => rng.range(-1, 1));
  const A = pool.acquire(a.length * 4, STORAGE);
  const B = pool.acquire(b.length * 4, STORAGE);
  const C = pool.acquire(M * N * 4, STORAGE);
  writeF32(device, A, a);
  writeF32(device, B, b);
  const ref = (i: number, j: number): number => {
    let s = 0;
    for (let k = 0; k < K; k++) s += (layout === 'TN' ? a[k * M + i]! : a[i * K + k]!) * (layout === 'NT' ? b[j * K + k]! : b[k * N + j]!);
    return s;
  };
  const check = async (): Promise<number> => {
    const [c] = await readF32(device, pool, [{ buffer: C, count: M * N }]);
    let worst = 0;
    const r2 = new Rng(5);
    for (let t = 0; t < 64; t++) {
      const i = r2.int(M);
      const j = r2.int(N);
      const e = Math.abs(c![i * N + j]! - ref(i, j)) / (1 + Math.abs(ref(i, j)));
      worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
    }
    return worst;
  };
  const results: string[] = [];
  const prod = only ? GEMM_VARIANT_NAMES.filter((v) => only.includes(v) || only.includes('production')) : GEMM_VARIANT_NAMES.filter((v) => v !== 'tiled-64' || M * N * K <= 512 ** 3);
  for (const variant of prod) {
    const d = await kernels.gemm({ M, N, K, transA: layout === 'TN', transB: layout === 'NT', A: { buffer: A }, B: { buffer: B }, C: { buffer: C }, variant });
    const t = await time(async () => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      recordDispatches(pass, d);
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    }, reps);
    results.push(`${M}x${N}x${K} ${layout} production ${variant.padEnd(24)} ${(flop / t / 1e9).toFixed(3).padStart(7)} GFLOP/s  ${(t * 1000).toFixed(1)} ms  cpu ${(lastCpu * 1000).toFixed(0)} ms (${(flop / lastCpu / 1e9).toFixed(2)} GFLOP/cpu-s)  err ${(await check()).toExponential(1)}`);
    console.log(results[results.length - 1]);
    kernels.release(d);
  }
  if (args.includes('--tfjs')) {
    // TF.js webgpu's matMul on the same device, same data and timing rules (NN only).
    const eng = await useTfWebGpu(ctx);
    const tf = eng.tf;
    const ta = tf.tensor2d(a, [aRows, aCols]);
    const tb = tf.tensor2d(b, [bRows, bCols]);
    const t = await time(async () => {
      const tc = tf.matMul(ta, tb, layout === 'TN', layout === 'NT');
      await eng.sync();
      tc.dispose();
    }, reps);
    results.push(`${M}x${N}x${K} ${layout} TF.js      ${'tf.matMul (webgpu)'.padEnd(24)} ${(flop / t / 1e9).toFixed(3).padStart(7)} GFLOP/s  ${(t * 1000).toFixed(1)} ms  cpu ${(lastCpu * 1000).toFixed(0)} ms (${(flop / lastCpu / 1e9).toFixed(2)} GFLOP/cpu-s)`);
    console.log(results[results.length - 1]);
    ta.dispose();
    tb.dispose();
  }
  for (const spec of files) {
    const d = [await vec4GemmDispatch(kernels, { M, N, K, transA: layout === 'TN', transB: layout === 'NT', A: { buffer: A }, B: { buffer: B }, C: { buffer: C }, variant: 'regblock-4x4' }, parseVec4Choice(spec))];
    device.queue.writeBuffer(C, 0, new Float32Array(M * N).fill(NaN));
    const t = await time(async () => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      recordDispatches(pass, d);
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    }, reps);
    results.push(`${M}x${N}x${K} ${layout} wgsl-file  ${`vec4 ${spec}`.padEnd(24)} ${(flop / t / 1e9).toFixed(3).padStart(7)} GFLOP/s  ${(t * 1000).toFixed(1)} ms  cpu ${(lastCpu * 1000).toFixed(0)} ms (${(flop / lastCpu / 1e9).toFixed(2)} GFLOP/cpu-s)  err ${(await check()).toExponential(1)}`);
    console.log(results[results.length - 1]);
    kernels.release(d);
  }
  for (const cand of CANDIDATES) {
    if (only && !only.includes(cand.name)) continue;
    if (!cand.layouts.includes(layout)) continue;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: cand.code(layout) });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === 'error');
    if (errs.length) {
      console.log(`${cand.name}: compile error ${errs.map((e) => `${e.lineNum}: ${e.message}`).join('; ')}`);
      await device.popErrorScope();
      continue;
    }
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const params = pool.acquire(16, 0x40 | 0x08);
    device.queue.writeBuffer(params, 0, new Uint32Array([M, N, K, 0]));
    const bg = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [params, A, B, C].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const err = await device.popErrorScope();
    if (err) {
      console.log(`${cand.name}: ${err.message}`);
      continue;
    }
    const x = Math.ceil(N / (cand.WX * cand.TN));
    const y = Math.ceil(M / (cand.WY * cand.TM));
    if (cand.name.startsWith('scalar') && (N % (cand.WX * cand.TN) || M % (cand.WY * cand.TM))) {
      console.log(`${cand.name}: ${M}x${N} not a multiple of its tile`);
      continue;
    }
    device.queue.writeBuffer(C, 0, new Float32Array(M * N).fill(NaN));
    const t = await time(() => submitWait(pipeline, bg, x, y), reps);
    results.push(`${M}x${N}x${K} ${layout} candidate  ${cand.name.padEnd(24)} ${(flop / t / 1e9).toFixed(3).padStart(7)} GFLOP/s  ${(t * 1000).toFixed(1)} ms  cpu ${(lastCpu * 1000).toFixed(0)} ms (${(flop / lastCpu / 1e9).toFixed(2)} GFLOP/cpu-s)  err ${(await check()).toExponential(1)}`);
    console.log(results[results.length - 1]);
    pool.release(params);
  }
  [A, B, C].forEach((buf) => pool.release(buf));
}
pool.destroy();
ctx.destroy();
process.exit(0);
