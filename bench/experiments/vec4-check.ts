// Correctness of the vec4 GEMM prototype (vec4-gemm.ts) against a float64 triple
// loop: every supported layout, epilogues (bias + activation + Z, α/β/γ·E), awkward
// eligible sizes, and the fallback for ineligible ones.
//   npx vite-node bench/experiments/vec4-check.ts
import { acquireDevice } from '../../src/gpu/device.js';
import { BufferPool, readF32, STORAGE, writeF32 } from '../../src/gpu/buffers.js';
import { Kernels, recordDispatches } from '../../src/gpu/kernels.js';
import { PipelineCache } from '../../src/gpu/shaders.js';
import { Rng } from '../../src/prng.js';
import { installVec4Gemm, parseVec4Choice } from './vec4-gemm.js';

// One block shape per run: --block 16x16@4x4 (the .wgsl file) or 8x8:gen (the generator).
const spec = process.argv[process.argv.indexOf('--block') + 1] ?? '8x8';
const blk = parseVec4Choice(process.argv.includes('--block') ? spec : '8x8');
const patch = installVec4Gemm({ NN: blk, NT: blk, TN: blk });
const ctx = await acquireDevice();
const pool = new BufferPool(ctx.device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
const k = new Kernels(ctx, pool, new PipelineCache(ctx.device));
const rng = new Rng(3);
const rand = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.range(-1, 1));
const up = (v: ArrayLike<number>): GPUBuffer => {
  const b = pool.acquire(Math.max(1, v.length) * 4, STORAGE);
  writeF32(ctx.device, b, v);
  return b;
};
const sig = (z: number): number => 1 / (1 + Math.exp(-z));
let worst = 0;
let cases = 0;
for (const [M, N, K] of [[4, 4, 4], [12, 20, 36], [100, 196, 68], [131, 8, 4], [5, 12, 8], [64, 784, 200], [3, 7, 5]] as const) {
  for (const [tA, tB] of [[false, false], [false, true], [true, false]] as const) {
    for (const epi of ['plain', 'bias-act-z', 'grad'] as const) {
      const offA = 8, offB = 4, offC = 4, offE = 4, offBias = 3;
      const A = rand(offA + M * K), B = rand(offB + K * N), C0 = rand(offC + M * N), E = rand(offE + M * N), bias = rand(offBias + N);
      const bufC = up(C0), bufZ = up(new Float64Array(M * N));
      const alpha = epi === 'grad' ? 0.25 : 1, beta = epi === 'grad' ? 1 : 0, gamma = epi === 'grad' ? 0.1 : 0;
      const d = await k.gemm({
        M, N, K, transA: tA, transB: tB, A: { buffer: up(A), offset: offA }, B: { buffer: up(B), offset: offB }, C: { buffer: bufC, offset: offC },
        alpha, beta, gamma, E: epi === 'grad' ? { buffer: up(E), offset: offE } : undefined,
        bias: epi === 'bias-act-z' ? { buffer: up(bias), offset: offBias } : undefined,
        activation: epi === 'bias-act-z' ? { name: 'sigmoid', alpha: 0 } : null, Z: epi === 'bias-act-z' ? bufZ : undefined, variant: 'regblock-4x4',
      });
      const enc = ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      recordDispatches(pass, d);
      pass.end();
      ctx.device.queue.submit([enc.finish()]);
      const [got, gotZ] = await readF32(ctx.device, pool, [{ buffer: bufC, offset: offC, count: M * N }, { buffer: bufZ, count: M * N }]);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let q = 0; q < K; q++) s += (tA ? A[offA + q * M + i]! : A[offA + i * K + q]!) * (tB ? B[offB + j * K + q]! : B[offB + q * N + j]!);
          let v = alpha * s + beta * C0[offC + i * N + j]! + gamma * E[offE + i * N + j]!;
          if (epi === 'bias-act-z') v += bias[offBias + j]!;
          const want = epi === 'bias-act-z' ? sig(v) : v;
          worst = Math.max(worst, Math.abs(got![i * N + j]! - want) / (1 + Math.abs(want)));
          if (epi === 'bias-act-z') worst = Math.max(worst, Math.abs(gotZ![i * N + j]! - v) / (1 + Math.abs(v)));
          if (Number.isNaN(got![i * N + j]!)) worst = Infinity;
        }
      cases++;
    }
  }
}
console.log(`${process.argv.includes('--block') ? spec : '8x8'}: ${cases} cases, vec4 kernel used ${patch.used}×, fell back ${patch.fellBack}×, worst rel err ${worst.toExponential(2)} ${worst < 1e-5 ? 'OK' : 'FAIL'}`);
ctx.check();
process.exit(worst < 1e-5 ? 0 : 1);
