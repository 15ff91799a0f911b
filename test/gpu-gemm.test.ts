// GEMM kernels against a float64 triple loop, every variant and layout, awkward sizes.
import { describe, expect, it } from 'vitest';
import { GEMM_VARIANT_NAMES, Kernels, splitKSlices, TILED_PINGPONG_BYTES, tiledVec4, vec4Eligible, type Dispatch, type GemmCall } from '../src/gpu/kernels.js';
import { PipelineCache } from '../src/gpu/shaders.js';
import { Rng } from '../src/prng.js';
import { harness, maxRelErr, randomArray, type Harness } from './helpers/gpu.js';

/** C = op(A)·op(B), row-major, op by the same storage rules as gemm.wgsl. */
function refGemm(M: number, N: number, K: number, A: Float64Array, B: Float64Array, transA: boolean, transB: boolean): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (transA ? A[k * M + i]! : A[i * K + k]!) * (transB ? B[j * K + k]! : B[k * N + j]!);
      C[i * N + j] = s;
    }
  return C;
}

interface EpilogueCase { M: number; N: number; K: number; transA: boolean; transB: boolean; pad: number; epilogue: boolean }

/**
 * One GEMM call's inputs on the GPU (A at an offset of `pad` elements; with
 * `epilogue`, C starts as C0 and α = 0.5, β = 2, γ = −0.25, bias and tanh apply, Z
 * poisoned; without, C is poisoned), the call's fields, and `check()`, which
 * compares C (and Z) with float64 after the run.
 */
function epilogueCase(h: Harness, rng: Rng, c: EpilogueCase, label: string): { call: Omit<GemmCall, 'variant'>; check(): Promise<void> } {
  const { M, N, K, transA, transB, pad, epilogue } = c;
  const A = randomArray(rng, M * K);
  const B = randomArray(rng, K * N);
  const C0 = randomArray(rng, M * N);
  const E = randomArray(rng, M * N);
  const bias = randomArray(rng, N);
  const bufA = h.upload([...new Array(pad).fill(7), ...A]);
  const bufC = epilogue ? h.upload([...new Array(pad).fill(7), ...C0]) : h.poisoned(M * N);
  const Z = h.poisoned(M * N);
  const [bufB, bufE, bufBias] = [h.upload(B), h.upload(E), h.upload(bias)];
  const call: Omit<GemmCall, 'variant'> = {
    M, N, K, transA, transB, A: { buffer: bufA, offset: pad }, B: { buffer: bufB }, C: { buffer: bufC, offset: pad },
    ...(epilogue ? { alpha: 0.5, beta: 2, E: { buffer: bufE }, gamma: -0.25, bias: { buffer: bufBias }, activation: { name: 'tanh', alpha: 0 }, Z } : {}),
  };
  const check = async (): Promise<void> => {
    const AB = refGemm(M, N, K, A, B, transA, transB);
    const what = `${label} ${M}x${N}x${K} transA=${transA} transB=${transB}`;
    if (!epilogue) {
      expect(maxRelErr(await h.read(bufC, M * N, pad), AB), what).toBeLessThan(1e-5);
      return;
    }
    const z = AB.map((v, i) => 0.5 * v + 2 * C0[i]! - 0.25 * E[i]! + bias[i % N]!);
    expect(maxRelErr(await h.read(Z, M * N), z), `${what} Z`).toBeLessThan(1e-5);
    expect(maxRelErr(await h.read(bufC, M * N, pad), z.map(Math.tanh)), `${what} C`).toBeLessThan(1e-5);
    expect(Array.from(await h.read(bufC, pad)), 'elements before the offset are untouched').toEqual(new Array(pad).fill(7));
  };
  return { call, check };
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 65, 129],
  [129, 7, 65],
  [65, 129, 7],
  [1, 33, 17],
  [70, 1, 5],
  // Shapes the vec4 variants take (N, K multiples of 4, M too for Aᵀ), awkward otherwise.
  [12, 20, 36],
  [100, 196, 68],
  [132, 8, 4],
  [4, 4, 4],
];
const LAYOUTS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

// tiled-128 takes tens of seconds per pipeline to compile on SwiftShader (a busy 2-core
// machine): it and its split-K form have their own tests below, one pipeline per code
// path, not the full grid.
const GRID_VARIANTS = GEMM_VARIANT_NAMES.filter((v) => v !== 'tiled-128' && v !== 'tiled-128-splitk');

describe('gemm', () => {
  it('vec4 variants take aligned calls and fall back otherwise', () => {
    const ref = { buffer: null as unknown as GPUBuffer };
    expect(vec4Eligible({ M: 7, N: 8, K: 12, A: ref, B: ref, C: ref })).toBe(true);
    expect(vec4Eligible({ M: 7, N: 8, K: 12, A: { ...ref, offset: 2 }, B: ref, C: ref })).toBe(false);
    expect(vec4Eligible({ M: 7, N: 8, K: 12, transA: true, A: ref, B: ref, C: ref })).toBe(false);
    expect(vec4Eligible({ M: 8, N: 8, K: 13, transA: true, A: ref, B: ref, C: ref })).toBe(true);
    expect(vec4Eligible({ M: 8, N: 6, K: 12, A: ref, B: ref, C: ref })).toBe(false);
    expect(vec4Eligible({ M: 8, N: 8, K: 12, transA: true, transB: true, A: ref, B: ref, C: ref })).toBe(false);
  });

  for (const variant of GRID_VARIANTS) {
    it(`${variant}: every layout at awkward sizes, output poisoned with NaN`, async () => {
      const h = await harness();
      const rng = new Rng(11);
      for (const [M, N, K] of SHAPES) {
        for (const [transA, transB] of LAYOUTS) {
          const A = randomArray(rng, M * K);
          const B = randomArray(rng, K * N);
          const C = h.poisoned(M * N);
          const d = await h.kernels.gemm({ M, N, K, transA, transB, A: { buffer: h.upload(A) }, B: { buffer: h.upload(B) }, C: { buffer: C }, variant });
          await h.run(d);
          const got = await h.read(C, M * N);
          const err = maxRelErr(got, refGemm(M, N, K, A, B, transA, transB));
          expect(err, `${variant} ${M}x${N}x${K} transA=${transA} transB=${transB}`).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('epilogue: offsets, α, β·C, γ·E, bias and activation', async () => {
    const h = await harness();
    const rng = new Rng(5);
    for (const [M, N, K, pad] of [[9, 13, 66, 3], [12, 20, 68, 4]] as const)
    for (const variant of GRID_VARIANTS) {
      const { call, check } = epilogueCase(h, rng, { M, N, K, transA: false, transB: false, pad, epilogue: true }, variant);
      await h.run(await h.kernels.gemm({ ...call, variant }));
      await check();
    }
  });

  it('tiled-128: vec4 and scalar loads, direct and transposed staging of both operands, partial tiles, epilogue; outputs poisoned', async () => {
    const h = await harness();
    const rng = new Rng(17);
    // Each call is one pipeline (tens of seconds to compile on SwiftShader), so two calls
    // cover every code path: NT with vec4 loads stages both operands transposed (scattered
    // into k-major tiles); TN with scalar loads stages both directly. The other layouts
    // combine the same paths. Both have partial tiles in M, N and K and more than one
    // workgroup each way; the first also carries the whole epilogue and offsets.
    const calls = [
      { M: 130, N: 136, K: 36, transA: false, transB: true, pad: 4, vec: [true, true], epilogue: true },
      { M: 131, N: 133, K: 37, transA: true, transB: false, pad: 0, vec: [false, false], epilogue: false },
    ];
    for (const c of calls) {
      const ref = { buffer: null as unknown as GPUBuffer };
      expect(Object.values(tiledVec4({ ...c, A: { ...ref, offset: c.pad }, B: ref })), `${c.M}x${c.N}x${c.K} loads`).toEqual(c.vec);
      const { call, check } = epilogueCase(h, rng, c, 'tiled-128');
      await h.run(await h.kernels.gemm({ ...call, variant: 'tiled-128' }));
      await check();
    }
    // One workgroup buffer (devices with less than 32 KiB of workgroup memory): two barriers per k-tile.
    const small = new Kernels({ ...h.ctx, limits: { ...h.ctx.limits, maxComputeWorkgroupStorageSize: TILED_PINGPONG_BYTES - 16 } }, h.pool, new PipelineCache(h.ctx.device));
    const [M, N, K] = [133, 132, 52];
    const A = randomArray(rng, M * K);
    const B = randomArray(rng, K * N);
    const C = h.poisoned(M * N);
    await h.run(await small.gemm({ M, N, K, A: { buffer: h.upload(A) }, B: { buffer: h.upload(B) }, C: { buffer: C }, variant: 'tiled-128' }));
    expect(maxRelErr(await h.read(C, M * N), refGemm(M, N, K, A, B, false, false)), 'tiled-128 single-buffered NN').toBeLessThan(1e-5);
  }, 600_000);

  it('splitKSlices: enough workgroups for a large GPU on thin, deep products, none where tiles are many or K is shallow', () => {
    const GiB = 2 ** 30;
    expect(splitKSlices(200, 784, 4096, GiB)).toBe(16); // ∇W at batch 4096: 14 tiles → 224 workgroups
    expect(splitKSlices(4096, 200, 784, GiB)).toBe(6); // 49 k-tiles: 6 slices of 9 (the last 4)
    expect(splitKSlices(200, 784, 256, GiB)).toBe(2); // 16 k-tiles: two slices of 8
    expect(splitKSlices(200, 784, 127, GiB)).toBe(1); // 8 k-tiles: too shallow to split
    expect(splitKSlices(4096, 4096, 4096, GiB)).toBe(1); // 1024 tiles already
    expect(splitKSlices(200, 784, 4096, 200 * 784 * 4 * 3)).toBe(3); // the scratch must fit one binding
  });

  it('tiled-128-splitk: K in slices (the last one shorter), summed in order with the whole epilogue; scalar and vec4 loads, both stagings; outputs poisoned, scratch released', async () => {
    const h = await harness();
    const rng = new Rng(23);
    // Forced slice counts (the default splits only deeper K): K = 100 is 7 k-tiles, 3 slices of 3, 3 and 1;
    // K = 37 is 3 k-tiles, one each. Both have partial tiles in M and N and two workgroup rows per slice.
    const calls = [
      { M: 130, N: 136, K: 100, transA: false, transB: true, pad: 4, splitK: 3, epilogue: true },
      { M: 131, N: 133, K: 37, transA: true, transB: false, pad: 0, splitK: 5, epilogue: false },
    ];
    for (const c of calls) {
      const { M, N, K, transA, transB, splitK } = c;
      const { call, check } = epilogueCase(h, rng, c, 'tiled-128-splitk');
      const live = h.pool.stats().live;
      const ds = await h.kernels.gemm({ ...call, variant: 'tiled-128-splitk', splitK });
      const slices = Math.min(splitK, Math.ceil(K / 16));
      expect(ds.map((d) => d.label)).toEqual([`gemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${M}x${N}x${K} split ${slices}`, `gemm split-K sum ${M}x${N}`]);
      expect(ds[0]!.y).toBe(2 * slices);
      await h.run(ds);
      await check();
      h.kernels.release(ds);
      expect(h.pool.stats().live, 'uniforms and the slices scratch released').toBe(live);
    }
    // Two products of one shape in one pass share one scratch buffer (the second's slices overwrite the first's after its sum ran).
    {
      const [M, N, K] = [131, 133, 37];
      const A1 = randomArray(rng, M * K), B1 = randomArray(rng, K * N), A2 = randomArray(rng, M * K), B2 = randomArray(rng, K * N);
      const [a1, b1, a2, b2, C1, C2] = [h.upload(A1), h.upload(B1), h.upload(A2), h.upload(B2), h.poisoned(M * N), h.poisoned(M * N)];
      const live = h.pool.stats().live;
      const call = (A: GPUBuffer, B: GPUBuffer, C: GPUBuffer): Promise<Dispatch[]> => h.kernels.gemm({ M, N, K, transA: true, A: { buffer: A }, B: { buffer: B }, C: { buffer: C }, variant: 'tiled-128-splitk', splitK: 3 });
      const first = await call(a1, b1, C1);
      const second = await call(a2, b2, C2);
      expect(second[1]!.owned![0]).toBe(first[1]!.owned![0]);
      await h.run([...first, ...second]);
      expect(maxRelErr(await h.read(C1, M * N), refGemm(M, N, K, A1, B1, true, false)), 'first of two sharing the scratch').toBeLessThan(1e-5);
      expect(maxRelErr(await h.read(C2, M * N), refGemm(M, N, K, A2, B2, true, false)), 'second of two sharing the scratch').toBeLessThan(1e-5);
      h.kernels.release(first);
      expect(h.pool.stats().live, 'the scratch stays while the second holds it (with its two uniforms)').toBe(live + 3);
      h.kernels.release(second);
      expect(h.pool.stats().live).toBe(live);
    }
    await expect(h.kernels.gemm({ M: 2, N: 2, K: 2, A: { buffer: h.upload([1, 2, 3, 4]) }, B: { buffer: h.upload([1, 2, 3, 4]) }, C: { buffer: h.poisoned(4) }, variant: 'tiled-128-splitk', splitK: 0 })).rejects.toThrow(/splitK must be a positive integer number of K slices, got 0/);
  }, 600_000);
});
