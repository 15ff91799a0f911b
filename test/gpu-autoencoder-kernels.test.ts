// Autoencoder-option kernels (corrupt.wgsl, ksparse.wgsl, contractive.wgsl, hidden δ with mask and contractive
// term, the 'product' sum) against float64 loops at awkward sizes, outputs
// poisoned with NaN.
import { describe, expect, it } from 'vitest';
import { SUM_GROUPS } from '../src/gpu/kernels.js';
import { STORAGE } from '../src/gpu/buffers.js';
import { corruptMatrix, type CorruptionSpec } from '../src/noise.js';
import { Rng } from '../src/prng.js';
import { hiddenDelta, sparsityDelta } from '../src/cpu/steps.js';
import { harness, identity, maxRelErr, randomArray, type Harness } from './helpers/gpu.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function stateBuffer(h: Harness): GPUBuffer {
  return h.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
}
function setState(h: Harness, state: GPUBuffer, seed: number, enabled: boolean): void {
  h.ctx.device.queue.writeBuffer(state, 0, new Uint32Array([seed >>> 0, enabled ? 1 : 0, 0, 0]));
}

describe('input corruption', () => {
  it('corrupt equals corruptMatrix (mask, salt-pepper exactly; gaussian to 1e-5), one Dispatch reused across seeds', async () => {
    const h = await harness();
    const rng = new Rng(1);
    const [rows, cols, rowOffset] = [37, 29, 1000];
    const x = randomArray(rng, rows * cols + 3, 0, 1);
    const X = { rows, cols, data: x.subarray(3) };
    const x32 = Float32Array.from(X.data); // what the GPU reads
    const specs: CorruptionSpec[] = [{ kind: 'mask', level: 0.3 }, { kind: 'salt-pepper', level: 0.25, low: -0.5, high: 1.5 }, { kind: 'gaussian', level: 0.3 }];
    for (const spec of specs) {
      const out = h.poisoned(rows * cols);
      const state = stateBuffer(h);
      const d = await h.kernels.corrupt({ rows, cols, rowOffset, X: { buffer: h.upload(x), offset: 3 }, out, spec, state });
      let previous: Float32Array | null = null;
      for (const seed of [1, 0xdeadbeef]) {
        setState(h, state, seed, true);
        await h.run([d]);
        const got = await h.read(out, rows * cols);
        const want = corruptMatrix({ rows, cols, data: x32 }, spec, seed, rowOffset);
        if (spec.kind === 'gaussian') expect(maxRelErr(got, want), `${spec.kind} seed ${seed}`).toBeLessThan(1e-5);
        else expect(Array.from(got), `${spec.kind} seed ${seed}`).toEqual(Array.from(Float32Array.from(want)));
        if (previous) expect(Array.from(got)).not.toEqual(Array.from(previous));
        previous = got;
      }
      setState(h, state, 5, false);
      await h.run([d]);
      expect(Array.from(await h.read(out, rows * cols)), `${spec.kind} disabled`).toEqual(Array.from(x32));
      state.destroy();
    }
  });

  it('mask fraction ≈ ν and gaussian noise has mean ≈ 0, std ≈ σ (20000 values)', async () => {
    const h = await harness();
    const [rows, cols] = [400, 50];
    const n = rows * cols;
    const X = h.upload(new Float32Array(n).fill(0.5));
    const state = stateBuffer(h);
    setState(h, state, 12345, true);
    const nu = 0.3;
    const masked = h.poisoned(n);
    const noisy = h.poisoned(n);
    const sigma = 0.25;
    await h.run([
      await h.kernels.corrupt({ rows, cols, rowOffset: 0, X: { buffer: X }, out: masked, spec: { kind: 'mask', level: nu }, state }),
      await h.kernels.corrupt({ rows, cols, rowOffset: 0, X: { buffer: X }, out: noisy, spec: { kind: 'gaussian', level: sigma }, state }),
    ]);
    const m = await h.read(masked, n);
    expect(m.every((v) => v === 0 || v === 0.5)).toBe(true);
    const frac = m.filter((v) => v === 0).length / n;
    expect(Math.abs(frac - nu)).toBeLessThan(4 * Math.sqrt((nu * (1 - nu)) / n));
    const g = Array.from(await h.read(noisy, n), (v) => v - 0.5);
    const mean = g.reduce((s, v) => s + v, 0) / n;
    const std = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs(std - sigma)).toBeLessThan((4 * sigma) / Math.sqrt(2 * n));
    state.destroy();
  });
});

describe('k-sparse', () => {
  it('topKMask keeps exactly the k largest per row (ties to the lower index); maskMultiply applies it', async () => {
    const h = await harness();
    const rng = new Rng(2);
    const [rows, n] = [37, 29];
    // Values on a coarse grid so rows have many ties.
    const a = Array.from(randomArray(rng, rows * n, 0, 1), (v) => Math.round(v * 8) / 8);
    for (let j = 0; j < n; j++) a[3 * n + j] = 0.5; // one row all equal
    // k is read from a u32 buffer at run time (at an offset): one topk dispatch serves every k.
    const kState = h.pool.acquire(16, STORAGE);
    const A0 = h.upload(a);
    const mask0 = h.poisoned(rows * n);
    const topk = await h.kernels.topKMask({ rows, n, k: { buffer: kState, offset: 2 }, A: A0, mask: mask0 });
    for (const k of [1, 5, n - 1, n]) {
      h.ctx.device.queue.writeBuffer(kState, 0, Uint32Array.of(0xffffffff, 0xffffffff, k, 0));
      const mask = h.poisoned(rows * n);
      const A = h.upload(a);
      await h.run([await h.kernels.topKMask({ rows, n, k: { buffer: kState, offset: 2 }, A, mask }), await h.kernels.maskMultiply({ count: rows * n, A, mask })]);
      const got = await h.read(mask, rows * n);
      const want = new Float64Array(rows * n);
      for (let i = 0; i < rows; i++) {
        const order = Array.from({ length: n }, (_, j) => j).sort((p, q) => a[i * n + q]! - a[i * n + p]! || p - q);
        for (const j of order.slice(0, k)) want[i * n + j] = 1;
        expect(got.subarray(i * n, (i + 1) * n).reduce((s, v) => s + v, 0), `k=${k} row ${i}`).toBe(k);
      }
      expect(Array.from(got), `k=${k}`).toEqual(Array.from(want));
      expect(maxRelErr(await h.read(A, rows * n), a.map((v, i) => v * want[i]!)), `k=${k} masked A`).toBe(0);
      // The dispatch built once, rerun after the write, gives the same mask.
      await h.run([topk]);
      expect(Array.from(await h.read(mask0, rows * n)), `k=${k}, reused dispatch`).toEqual(Array.from(want));
    }
    // All-equal row: the first k units survive.
    const mask = h.poisoned(rows * n);
    h.ctx.device.queue.writeBuffer(kState, 8, Uint32Array.of(4));
    await h.run([await h.kernels.topKMask({ rows, n, k: { buffer: kState, offset: 2 }, A: h.upload(a), mask })]);
    expect(Array.from(await h.read(mask, n, 3 * n))).toEqual(Array.from({ length: n }, (_, j) => (j < 4 ? 1 : 0)));
  });
});

describe('contractive and masked hidden δ', () => {
  it('δ = ((g + sparsity) · f′ + 2w·s²(1−2a)·S_j) · mask for sigmoid; mask alone for tanh', async () => {
    const h = await harness();
    const rng = new Rng(3);
    const [rows, n] = [37, 29];
    const [rho, beta, w] = [0.1, 0.7, 0.35];
    for (const useMask of [false, true]) {
      const z = randomArray(rng, rows * n, -3, 3);
      const a = z.map(sigmoid);
      const g = randomArray(rng, rows * n);
      const S = randomArray(rng, n + 5, 0, 3);
      const rhoHat = randomArray(rng, n, 0.05, 0.95);
      const m = Array.from({ length: rows * n }, () => (rng.uniform() < 0.4 ? 1 : 0));
      const G = h.upload(g);
      const d = await h.kernels.hiddenDelta({
        rows, n, activation: { name: 'sigmoid', alpha: 0 }, G, A: h.upload(a), rhoHat: { buffer: h.upload(rhoHat) }, rho, beta,
        mask: useMask ? h.upload(m) : undefined, contractive: { weight: w, rowSumSq: { buffer: h.upload(S), offset: 5 } },
      });
      await h.run([d]);
      // The CPU step with W = I, so Wᵀδ is g itself.
      const want = hiddenDelta(identity(n), g, a, z, { name: 'sigmoid', alpha: 0 }, rows, n, n, {
        sparsity: sparsityDelta(rhoHat, rho, beta), contractive: { weight: w, rowSq: S.subarray(5) }, mask: useMask ? Uint8Array.from(m) : null,
      });
      expect(maxRelErr(await h.read(G, rows * n), want), `mask=${useMask}`).toBeLessThan(1e-5);
    }
    // tanh with a mask (no contractive term).
    const z = randomArray(rng, rows * n, -3, 3);
    const a = z.map(Math.tanh);
    const g = randomArray(rng, rows * n);
    const m = Array.from({ length: rows * n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const G = h.upload(g);
    await h.run([await h.kernels.hiddenDelta({ rows, n, activation: { name: 'tanh', alpha: 0 }, G, A: h.upload(a), mask: h.upload(m) })]);
    expect(maxRelErr(await h.read(G, rows * n), hiddenDelta(identity(n), g, a, z, { name: 'tanh', alpha: 0 }, rows, n, n, { mask: Uint8Array.from(m) }))).toBeLessThan(1e-5);
    await expect(
      h.kernels.hiddenDelta({ rows, n, activation: { name: 'tanh', alpha: 0 }, G, A: G, contractive: { weight: 1, rowSumSq: { buffer: G } } }),
    ).rejects.toThrow(/sigmoid/);
  });

  it('rowSumSq, slopeSq, the product sum and scaleRowsAdd', async () => {
    const h = await harness();
    const rng = new Rng(4);
    const [rows, cols] = [37, 29];
    const W = randomArray(rng, rows * cols + 2);
    // out[j] = Σₖ W[2 + j·cols + k]², written at offset 1.
    const out = h.poisoned(rows + 1);
    await h.run([await h.kernels.rowSumSq({ rows, cols, W: { buffer: h.upload(W), offset: 2 }, out: { buffer: out, offset: 1 } })]);
    const S = Array.from({ length: rows }, (_, j) => {
      let s = 0;
      for (let k = 0; k < cols; k++) s += W[2 + j * cols + k]! ** 2;
      return s;
    });
    expect(maxRelErr(await h.read(out, rows, 1), S)).toBeLessThan(1e-5);

    const count = 1001;
    const a = randomArray(rng, count, 0, 1);
    const sq = h.poisoned(count);
    await h.run([await h.kernels.slopeSq({ count, A: h.upload(a), out: sq })]);
    expect(maxRelErr(await h.read(sq, count), a.map((v) => (v * (1 - v)) ** 2))).toBeLessThan(1e-6);

    const y = randomArray(rng, count);
    const scalars = h.upload([0, 2, 0]);
    await h.run(await h.kernels.sum({ count, map: 'product', x: { buffer: sq }, y: { buffer: h.upload([7, ...y]), offset: 1 }, partials: h.poisoned(SUM_GROUPS), scalars, slot: 1, scale: 3 }));
    let dot = 0;
    for (let i = 0; i < count; i++) dot += (a[i]! * (1 - a[i]!)) ** 2 * y[i]!;
    const got = await h.read(scalars, 3);
    expect(Math.abs(got[1]! - 2 - 3 * dot) / (1 + Math.abs(3 * dot))).toBeLessThan(1e-5);
    expect([got[0], got[2]]).toEqual([0, 0]);

    // G[1 + j·cols + k] += coef·q[3 + j]·W[2 + j·cols + k].
    const g0 = randomArray(rng, rows * cols + 1);
    const q = randomArray(rng, rows + 3);
    const coef = -0.6;
    const G = h.upload(g0);
    await h.run([await h.kernels.scaleRowsAdd({ rows, cols, G: { buffer: G, offset: 1 }, W: { buffer: h.upload(W), offset: 2 }, q: { buffer: h.upload(q), offset: 3 }, coef })]);
    const want = Array.from(g0, (v, i) => (i === 0 ? v : v + coef * q[3 + Math.floor((i - 1) / cols)]! * W[2 + i - 1]!));
    expect(maxRelErr(await h.read(G, rows * cols + 1), want)).toBeLessThan(1e-6);
  });
});
