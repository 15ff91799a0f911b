// The VAE kernels (shaders/vae.wgsl) against the float64 reference (src/cpu/vae.ts)
// at awkward sizes, outputs poisoned with NaN.
import { describe, expect, it } from 'vitest';
import { klPerExample, reparameterize as cpuReparameterize } from '../src/cpu/vae.js';
import { softplus } from '../src/cpu/activations.js';
import { headDelta, iwAccumulate, klRows, reparameterize, rowNll } from '../src/gpu/vae-kernels.js';
import { normalMatrix } from '../src/noise.js';
import { Rng } from '../src/prng.js';
import { harness, maxRelErr, randomArray, type Harness } from './helpers/gpu.js';

function stateBuffer(h: Harness, seed: number, enabled: boolean): GPUBuffer {
  const b = h.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  h.ctx.device.queue.writeBuffer(b, 0, new Uint32Array([seed >>> 0, enabled ? 1 : 0, 0, 0]));
  return b;
}

const f32 = (a: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(a));

describe('VAE kernels', () => {
  it('reparameterize: ε from the same uniforms as noiseNormal (max |Δε| reported), z = μ + σε; off ⇒ z = μ', async () => {
    const h = await harness();
    const rng = new Rng(2);
    const [rows, d, rowOffset] = [37, 5, 1000];
    const H = f32(randomArray(rng, rows * 2 * d, -2, 2));
    const Hb = h.upload(H);
    for (const seed of [1, 0xdeadbeef]) {
      const Z = h.poisoned(rows * d);
      const EPS = h.poisoned(rows * d);
      const state = stateBuffer(h, seed, true);
      await h.run([await reparameterize(h.kernels, { rows, d, rowOffset, H: Hb, Z, EPS, state })]);
      const eps = await h.read(EPS, rows * d);
      const want = normalMatrix(seed, rows, d, rowOffset);
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(eps[i]! - want[i]!));
      console.log(`ε GPU vs CPU, seed ${seed}: max |Δ| = ${maxDiff.toExponential(2)} over ${want.length} values`);
      // Measured 1.5e-7: f32 rounding of ln, √, cos. One differing uniform would give an O(1) difference.
      expect(maxDiff).toBeLessThan(1e-6);
      expect(maxRelErr(await h.read(Z, rows * d), cpuReparameterize(H, Float64Array.from(eps), rows, d))).toBeLessThan(2e-6);
      state.destroy();
    }
    const Z = h.poisoned(rows * d);
    const EPS = h.poisoned(rows * d);
    await h.run([await reparameterize(h.kernels, { rows, d, rowOffset, H: Hb, Z, EPS, state: stateBuffer(h, 3, false) })]);
    const z = await h.read(Z, rows * d);
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) expect(z[r * d + j]).toBe(Math.fround(H[r * 2 * d + j]!));
    expect(Array.from(await h.read(EPS, rows * d)).every((v) => v === 0)).toBe(true);
  });

  it('kl_rows and head_delta match the reference', async () => {
    const h = await harness();
    const rng = new Rng(3);
    const [rows, d, beta] = [41, 3, 0.7];
    const H = f32(randomArray(rng, rows * 2 * d, -2, 2));
    const DZ = f32(randomArray(rng, rows * d));
    const EPS = f32(normalMatrix(4, rows, d));
    const kl = h.poisoned(rows);
    const DH = h.poisoned(rows * 2 * d);
    const Hb = h.upload(H);
    await h.run([
      await klRows(h.kernels, { rows, d, H: Hb, out: kl }),
      await headDelta(h.kernels, { rows, d, beta, H: Hb, DZ: h.upload(DZ), EPS: h.upload(EPS), DH }),
    ]);
    expect(maxRelErr(await h.read(kl, rows), klPerExample(H, rows, d))).toBeLessThan(1e-5);
    const want = new Float64Array(rows * 2 * d);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) {
        const mu = H[r * 2 * d + j]!;
        const s2 = Math.exp(H[r * 2 * d + d + j]!);
        const dz = DZ[r * d + j]!;
        want[r * 2 * d + j] = dz + beta * mu;
        want[r * 2 * d + d + j] = 0.5 * dz * EPS[r * d + j]! * Math.sqrt(s2) + 0.5 * beta * (s2 - 1);
      }
    }
    expect(maxRelErr(await h.read(DH, rows * 2 * d), want)).toBeLessThan(1e-5);
  });

  it('row_nll (Bernoulli from logits, Gaussian) and iw_accumulate (a logsumexp over samples)', async () => {
    const h = await harness();
    const rng = new Rng(5);
    const [rows, n, d, offX] = [19, 29, 4, 7];
    const OUT = f32(randomArray(rng, rows * n, -6, 6));
    const X = f32(randomArray(rng, offX + rows * n, 0, 1));
    for (const gaussian of [false, true]) {
      const out = h.poisoned(rows);
      await h.run([await rowNll(h.kernels, { rows, n, gaussian, OUT: h.upload(OUT), X: { buffer: h.upload(X), offset: offX }, out })]);
      const want = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < n; k++) {
          const v = OUT[r * n + k]!;
          const x = X[offX + r * n + k]!;
          want[r] += gaussian ? 0.5 * (v - x) ** 2 : x * softplus(-v) + (1 - x) * softplus(v);
        }
      }
      expect(maxRelErr(await h.read(out, rows), want), gaussian ? 'gaussian' : 'bernoulli').toBeLessThan(1e-5);
    }
    // Three samples: the accumulator holds (max, Σ exp(lw − max)) of the three log-weights.
    const H = f32(randomArray(rng, rows * 2 * d, -1, 1));
    const ACC = h.poisoned(rows * 2);
    const konst = 1.5;
    const lws: Float64Array[] = [];
    for (let s = 0; s < 3; s++) {
      const Z = f32(randomArray(rng, rows * d, -2, 2));
      const E = f32(randomArray(rng, rows * d, -2, 2));
      const REC = f32(randomArray(rng, rows, 0, 40 * s + 1));
      await h.run([await iwAccumulate(h.kernels, { rows, d, konst, first: s === 0, H: h.upload(H), Z: h.upload(Z), EPS: h.upload(E), REC: h.upload(REC), ACC })]);
      lws.push(Float64Array.from({ length: rows }, (_, r) => {
        let t = 0;
        for (let j = 0; j < d; j++) t += -0.5 * Z[r * d + j]! ** 2 + 0.5 * H[r * 2 * d + d + j]! + 0.5 * E[r * d + j]! ** 2;
        return -REC[r]! - konst + t;
      }));
    }
    const acc = await h.read(ACC, rows * 2);
    const got = Float64Array.from({ length: rows }, (_, r) => acc[2 * r]! + Math.log(acc[2 * r + 1]!));
    const want = Float64Array.from({ length: rows }, (_, r) => {
      const mx = Math.max(...lws.map((l) => l[r]!));
      return mx + Math.log(lws.reduce((s, l) => s + Math.exp(l[r]! - mx), 0));
    });
    expect(maxRelErr(got, want)).toBeLessThan(1e-5);
  });
});
