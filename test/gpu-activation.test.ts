// Activation epilogue, hidden-layer δ (with sparsity and L1), output δ and softmax
// kernels against the CPU reference's activations, outputs poisoned with NaN.
import { describe, expect, it } from 'vitest';
import { activate } from '../src/cpu/activations.js';
import { hiddenDelta, lossTerms, outputDelta, softmaxRow, sparsityDelta } from '../src/cpu/steps.js';
import { COLSUM_DIRECT_ROWS } from '../src/gpu/kernels.js';
import { Rng } from '../src/prng.js';
import type { Activation, ActivationName } from '../src/spec.js';
import { harness, identity, maxRelErr, randomArray } from './helpers/gpu.js';

const ALL: Activation[] = (['sigmoid', 'tanh', 'identity', 'relu', 'prelu', 'elu', 'softplus', 'softsign', 'hardtanh', 'step'] as ActivationName[]).map((name) => ({
  name,
  alpha: name === 'prelu' ? 0.25 : name === 'elu' ? 0.7 : 0,
}));

describe('activation kernels', () => {
  it('f in the GEMM epilogue for every activation (z from −20 to 20)', async () => {
    const h = await harness();
    const rng = new Rng(1);
    const M = 37;
    // A = identity (M × 1), B = 1 × N row of z values: C = f(z).
    for (const act of ALL) {
      const z = randomArray(rng, M, -20, 20);
      const C = h.poisoned(M);
      const d = await h.kernels.gemm({ M, N: 1, K: 1, A: { buffer: h.upload(z) }, B: { buffer: h.upload([1]) }, C: { buffer: C }, activation: act, variant: 'regblock-4x4' });
      await h.run(d);
      expect(maxRelErr(await h.read(C, M), Array.from(z, (v) => activate(act, v))), act.name).toBeLessThan(2e-6);
    }
  });

  it('hidden δ = (g + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + λ₁ sign(a)) • f′ for every activation', async () => {
    const h = await harness();
    const rng = new Rng(2);
    const [rows, n] = [13, 7];
    for (const act of ALL.filter((a) => a.name !== 'step')) {
      for (const sparse of [false, true]) {
        const z = randomArray(rng, rows * n, -3, 3);
        const a = z.map((v) => activate(act, v));
        const g = randomArray(rng, rows * n);
        const rhoHat = randomArray(rng, n + 3, 0.05, 0.95);
        const [rho, beta, l1] = [0.1, 2, sparse ? 0 : 0.3];
        const G = h.upload(g);
        const d = await h.kernels.hiddenDelta({
          rows, n, activation: act, G, A: h.upload(a), Z: h.upload(z),
          rhoHat: sparse ? { buffer: h.upload(rhoHat), offset: 3 } : undefined, rho, beta, l1,
        });
        await h.run([d]);
        // The CPU step with W = I, so Wᵀδ is g itself.
        const want = hiddenDelta(identity(n), g, a, z, act, rows, n, n, { sparsity: sparse ? sparsityDelta(rhoHat.subarray(3), rho, beta) : null, l1Weight: l1 });
        expect(maxRelErr(await h.read(G, rows * n), want), `${act.name} sparse=${sparse}`).toBeLessThan(1e-5);
      }
    }
  });

  it('output δ: (a − y)·f′ for squared error, a − y for cross-entropy', async () => {
    const h = await harness();
    const rng = new Rng(3);
    const [rows, n] = [9, 5];
    for (const act of ALL.filter((a) => a.name !== 'step')) {
      for (const squared of [true, false]) {
        const z = randomArray(rng, rows * n, -3, 3);
        const a = z.map((v) => activate(act, v));
        const y = randomArray(rng, rows * n + 2, 0, 1);
        const D = h.poisoned(rows * n);
        const d = await h.kernels.outputDelta({ rows, n, activation: act, squared, A: h.upload(a), Y: { buffer: h.upload(y), offset: 2 }, D, Z: h.upload(z) });
        await h.run([d]);
        const want = outputDelta(squared ? 'squared' : 'cross-entropy', act, z, a, y.subarray(2));
        expect(maxRelErr(await h.read(D, rows * n), want), `${act.name} squared=${squared}`).toBeLessThan(1e-5);
      }
    }
  });

  it('δ kernels with ∇b fused: the same δ, and ∇b = scale · Σᵢ δ + beta · ∇b (outputs poisoned)', async () => {
    const h = await harness();
    const rng = new Rng(5);
    const colSums = (d: ArrayLike<number>, rows: number, n: number): Float64Array => {
      const out = new Float64Array(n);
      for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) out[j] += d[i * n + j]!;
      return out;
    };
    for (const [rows, n] of [[1, 1], [13, 7], [37, 70], [COLSUM_DIRECT_ROWS, 3]] as const) {
      for (const act of [{ name: 'sigmoid', alpha: 0 }, { name: 'tanh', alpha: 0 }, { name: 'elu', alpha: 0.7 }] as Activation[]) {
        const z = randomArray(rng, rows * n, -3, 3);
        const a = z.map((v) => activate(act, v));
        const y = randomArray(rng, rows * n, 0, 1);
        const prev = randomArray(rng, n);
        const [scale, beta] = [1 / (rows + 2), 1];
        // Output δ (squared error), ∇b poisoned beyond its slots and with beta 0 (poison never read).
        const D = h.poisoned(rows * n);
        const gb = h.poisoned(n + 4);
        await h.run([await h.kernels.outputDelta({ rows, n, activation: act, squared: true, A: h.upload(a), Y: { buffer: h.upload(y) }, D, Z: h.upload(z), biasGrad: { out: { buffer: gb, offset: 3 }, scale, beta: 0 } })]);
        const wantD = outputDelta('squared', act, z, a, y);
        const what = `${act.name} ${rows}×${n}`;
        expect(maxRelErr(await h.read(D, rows * n), wantD), `output δ ${what}`).toBeLessThan(1e-5);
        expect(maxRelErr(await h.read(gb, n, 3), colSums(wantD, rows, n).map((v) => scale * v)), `output ∇b ${what}`).toBeLessThan(1e-5);
        // Hidden δ with sparsity, accumulating into ∇b (beta 1).
        const g = randomArray(rng, rows * n);
        const rhoHat = randomArray(rng, n, 0.05, 0.95);
        const G = h.upload(g);
        const hb = h.upload([9, ...prev]);
        await h.run([await h.kernels.hiddenDelta({ rows, n, activation: act, G, A: h.upload(a), Z: h.upload(z), rhoHat: { buffer: h.upload(rhoHat) }, rho: 0.1, beta: 2, l1: 0, biasGrad: { out: { buffer: hb, offset: 1 }, scale, beta } })]);
        const wantG = hiddenDelta(identity(n), g, a, z, act, rows, n, n, { sparsity: sparsityDelta(rhoHat, 0.1, 2), l1Weight: 0 });
        expect(maxRelErr(await h.read(G, rows * n), wantG), `hidden δ ${what}`).toBeLessThan(1e-5);
        expect(maxRelErr(await h.read(hb, n, 1), colSums(wantG, rows, n).map((v, j) => scale * v + beta * prev[j]!)), `hidden ∇b ${what}`).toBeLessThan(2e-5);
        expect((await h.read(hb, 1))[0]).toBe(9);
      }
    }
    // More rows than one pass per column is for: refused, not silently slow.
    await expect(h.kernels.outputDelta({ rows: COLSUM_DIRECT_ROWS + 1, n: 1, activation: { name: 'sigmoid', alpha: 0 }, squared: true, A: h.poisoned(1), Y: { buffer: h.poisoned(1) }, D: h.poisoned(1), biasGrad: { out: { buffer: h.poisoned(1) }, scale: 1, beta: 0 } })).rejects.toThrow(/at most 512 rows/);
  });

  it('softmax rows are stable for large logits and give −Σ y log p', async () => {
    const h = await harness();
    const rng = new Rng(4);
    for (const [rows, n] of [[1, 1], [7, 10], [65, 3]] as const) {
      const z = randomArray(rng, rows * n, -50, 50).map((v, i) => (i % 3 === 0 ? v + 1000 : v));
      const y = randomArray(rng, rows * n, 0, 1);
      const A = h.poisoned(rows * n);
      const rowLoss = h.poisoned(rows);
      const d = await h.kernels.softmax({ rows, n, Z: h.upload(z), Y: { buffer: h.upload(y) }, A, rowLoss });
      await h.run([d]);
      const gotA = await h.read(A, rows * n);
      const gotL = await h.read(rowLoss, rows);
      // Compare with the CPU steps on the float32 logits the GPU saw.
      const z64 = Float64Array.from(Float32Array.from(z));
      const p = new Float64Array(rows * n);
      for (let i = 0; i < rows; i++) {
        softmaxRow(z64, p, i * n, n);
        expect(maxRelErr(gotA.subarray(i * n, (i + 1) * n), p.subarray(i * n, (i + 1) * n)), `row ${i}`).toBeLessThan(1e-5);
        // One row's −Σ y log p: lossTerms over that row alone (m = 1).
        const loss = lossTerms('softmax-cross-entropy', z64.subarray(i * n, (i + 1) * n), p.subarray(i * n, (i + 1) * n), y.subarray(i * n, (i + 1) * n), 1, n);
        expect(Math.abs(gotL[i]! - loss) / (1 + Math.abs(loss)), `loss row ${i}`).toBeLessThan(1e-5);
      }
    }
  });
});
