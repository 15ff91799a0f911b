// The fused linear combination (combine.wgsl, GpuVectorOps.combine) against
// float64 and against the float32 axpy chain it replaces, at awkward sizes,
// with offsets, groups of every shape and the destination poisoned; and the
// dispatch count of the L-BFGS direction.
import { describe, expect, it } from 'vitest';
import { COMBINE_MAX, Kernels } from '../src/gpu/kernels.js';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { PipelineCache } from '../src/gpu/shaders.js';
import { GpuVectorOps, type GpuVector } from '../src/gpu/vectors.js';
import { optimize } from '../src/optim/optimize.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { harness, maxRelErr, randomArray, type Harness, recordDispatchLabels } from './helpers/gpu.js';

/** |GPU − float64| / (1 + |float64|): f32 rounding of ≤ 17 terms of size ≤ 4. */
const TOL_F64 = 1e-5;
/** Against the f32 axpy chain, rounded step by step: a few ulp (an FMA may skip one rounding). */
const TOL_CHAIN = 1e-6;

/** dst = Σⱼ cⱼ·vⱼ in float64. */
function reference(coefs: readonly number[], xs: readonly Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < xs.length; j++) for (let i = 0; i < n; i++) out[i] += coefs[j]! * xs[j]![i]!;
  return out;
}

/** The axpy chain in float32: acc ← 0; acc ← fl(fl(cⱼ·vⱼ) + acc) in index order. */
function chainF32(coefs: readonly number[], xs: readonly Float64Array[], n: number): Float64Array {
  const f = Math.fround;
  const out = new Float64Array(n);
  for (let j = 0; j < xs.length; j++) for (let i = 0; i < n; i++) out[i] = f(f(f(coefs[j]!) * f(xs[j]![i]!)) + out[i]!);
  return out;
}

/** `count` vectors of n values, each at its own non-zero offset of its own buffer. */
function vectorsAt(h: Harness, ops: GpuVectorOps, rng: Rng, count: number, n: number): { xs: Float64Array[]; vs: GpuVector[] } {
  const xs: Float64Array[] = [];
  const vs: GpuVector[] = [];
  for (let j = 0; j < count; j++) {
    const off = 1 + ((j * 5) % 7);
    const x = randomArray(rng, n);
    xs.push(x);
    vs.push(ops.wrap(h.upload([...new Array(off).fill(1e30), ...x, 1e30]), off));
  }
  return { xs, vs };
}

describe('combine: d = Σⱼ cⱼ·vⱼ in ⌈k/G⌉ dispatches', () => {
  it('G from the device limit: every storage binding but dst a vector, at most COMBINE_MAX', async () => {
    const h = await harness();
    const G = h.kernels.combineGroup();
    expect(G).toBe(Math.min(COMBINE_MAX, h.ctx.limits.maxStorageBuffersPerShaderStage - 1));
    expect(G).toBeGreaterThanOrEqual(7); // the default limit of 8 storage buffers gives 7
    const small = new Kernels({ ...h.ctx, limits: { ...h.ctx.limits, maxStorageBuffersPerShaderStage: 4 } }, h.pool, h.kernels.cache);
    expect(small.combineGroup()).toBe(3);
  });

  for (const limit of [4, 8]) {
    it(`against float64 and the f32 axpy chain: n = 1, 37, 1031; 1, 2, G, G + 1, 2G + 3 vectors; offsets; dst poisoned (${limit} storage buffers)`, async () => {
      const h = await harness();
      const kernels = new Kernels({ ...h.ctx, limits: { ...h.ctx.limits, maxStorageBuffersPerShaderStage: limit } }, h.pool, new PipelineCache(h.ctx.device));
      const G = kernels.combineGroup();
      expect(G).toBe(limit - 1);
      const rng = new Rng(41 + limit);
      for (const n of [1, 37, 1031]) {
        const ops = new GpuVectorOps(kernels, n);
        for (const k of [1, 2, G, G + 1, 2 * G + 3]) {
          const { xs, vs } = vectorsAt(h, ops, rng, k, n);
          const coefs = Array.from({ length: k }, () => rng.range(-4, 4));
          const dstOff = 3;
          const dstBuf = h.poisoned(dstOff + n + 2);
          const dst = ops.wrap(dstBuf, dstOff);
          // Another op first, so the combination's coefficients sit past slot 0.
          const other = ops.alloc();
          ops.fill(7, other);
          ops.combine(coefs, vs, dst);
          await ops.flush();
          const all = await h.read(dstBuf, dstOff + n + 2);
          const got = all.subarray(dstOff, dstOff + n);
          const label = `n=${n} k=${k} G=${G}`;
          expect(maxRelErr(got, reference(coefs, xs, n)), `${label} vs float64`).toBeLessThan(TOL_F64);
          expect(maxRelErr(got, chainF32(coefs, xs, n)), `${label} vs f32 chain`).toBeLessThan(TOL_CHAIN);
          // Only dst's n elements are written.
          for (const i of [0, 1, 2, dstOff + n, dstOff + n + 1]) expect(all[i], `${label} element ${i}`).toBeNaN();
          ops.free(other);
        }
        ops.dispose();
      }
    });
  }

  it('reused dispatches: new coefficients, no new pipelines or bind groups; free() drops the dispatches naming a vector', async () => {
    const h = await harness();
    const rng = new Rng(9);
    const n = 37;
    const ops = new GpuVectorOps(h.kernels, n);
    const G = h.kernels.combineGroup();
    const { xs, vs } = vectorsAt(h, ops, rng, 2 * G + 3, n);
    const dst = ops.alloc();
    const run = async (coefs: number[]): Promise<void> => {
      ops.write(dst, new Array(n).fill(NaN));
      ops.combine(coefs, vs, dst);
      expect(maxRelErr(await ops.read(dst), reference(coefs, xs, n))).toBeLessThan(TOL_F64);
    };
    await run(vs.map(() => rng.range(-2, 2)));
    const device = h.ctx.device;
    const create = device.createBindGroup;
    let bindGroups = 0;
    device.createBindGroup = function (d: GPUBindGroupDescriptor) {
      bindGroups++;
      return create.call(device, d);
    };
    const pipelines = h.kernels.cache.size;
    try {
      await run(vs.map(() => rng.range(-2, 2)));
      await run(vs.map(() => rng.range(-2, 2)));
    } finally {
      device.createBindGroup = create;
    }
    expect(bindGroups).toBe(0);
    expect(h.kernels.cache.size).toBe(pipelines);

    // A vector of the combination freed and replaced: its dispatches go, the new one is used.
    const own = ops.alloc();
    const x = randomArray(rng, n);
    ops.write(own, x);
    const coefs = [0.5, -2];
    ops.combine(coefs, [vs[0]!, own], dst);
    expect(maxRelErr(await ops.read(dst), reference(coefs, [xs[0]!, x], n))).toBeLessThan(TOL_F64);
    const live = h.pool.stats().live;
    ops.free(own);
    expect(h.pool.stats().live).toBeLessThan(live - 1); // the vector and its dispatch's uniform
    const again = ops.alloc();
    ops.write(again, xs[1]!);
    ops.combine(coefs, [vs[0]!, again], dst);
    expect(maxRelErr(await ops.read(dst), reference(coefs, [xs[0]!, xs[1]!], n))).toBeLessThan(TOL_F64);
    ops.dispose();
  });

  it('no vectors: dst ← 0; refuses a destination among the vectors or in one of their buffers', async () => {
    const h = await harness();
    const n = 5;
    const ops = new GpuVectorOps(h.kernels, n);
    const dst = ops.wrap(h.poisoned(n));
    ops.combine([], [], dst);
    expect(Array.from(await ops.read(dst))).toEqual([0, 0, 0, 0, 0]);
    const shared = h.upload(new Array(2 * n).fill(1));
    const a = ops.wrap(shared, 0);
    const b = ops.wrap(shared, n);
    expect(() => ops.combine([1, 1], [dst, a], dst)).toThrow(/destination is also vector 0/);
    expect(() => ops.combine([1], [a], b)).toThrow(/vector 0 lies in the destination's buffer \(offsets 0 and 5\)/);
    expect(() => ops.combine([1], [a, b], dst)).toThrow(/1 coefficients for 2 vectors/);
    ops.dispose();
  });

  it('L-BFGS (history 10) on the GPU: ⌈(2k + 1)/G⌉ combine dispatches per direction with k pairs stored', async () => {
    const h = await harness();
    const ctx = h.ctx;
    const net = resolveSpec({ layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } });
    const rng = new Rng(7);
    const X = { rows: 40, cols: 12, data: Float64Array.from({ length: 40 * 12 }, () => rng.uniform()) };
    const model = await createGpuModel(net, Float64Array.from(Float32Array.from(initParameters(net, { seed: 3 }))), ctx.device);
    const obj = new GpuObjective(model, X);
    const G = model.kernels.combineGroup();
    // Vectors per combine call, and combine dispatches run (their bind groups carry the label).
    const sizes: number[] = [];
    const combine = obj.ops.combine.bind(obj.ops);
    obj.ops.combine = (c, v, d) => {
      sizes.push(v.length);
      combine(c, v, d);
    };
    const rec = recordDispatchLabels(ctx.device);
    try {
      await optimize(obj, { method: 'lbfgs', history: 10, maxIterations: 13 });
      await obj.ops.flush();
    } finally {
      rec.stop();
      obj.dispose();
      model.dispose();
    }
    const ran = rec.labels.filter((l) => l.startsWith('combine')).length;
    expect(rec.labels.length - ran).toBeGreaterThan(0); // the counter saw the other dispatches' labels too
    expect(sizes.length).toBeGreaterThanOrEqual(12);
    expect(sizes).toContain(21); // 10 pairs stored: 21 vectors, ⌈21/7⌉ = 3 dispatches (22 as fill + axpy)
    expect(ran).toBe(sizes.reduce((s, k) => s + Math.ceil(k / G), 0));
  });
});
