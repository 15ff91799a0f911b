// Batched dot products (dots.wgsl, GpuVectorOps.recordDots) against float64 and
// bitwise against the per-pair reduce.wgsl sum they replace, at awkward sizes
// (up to one where the first stage has all SUM_GROUPS invocations), with
// offsets, vectors sharing a buffer, repeated and self pairs, groups of every
// shape and the partials poisoned; the grouping; reuse without new pipelines or
// bind groups; and the dispatch count of L-BFGS's trials.
import { describe, expect, it } from 'vitest';
import { DOTS_MAX_PAIRS, DOTS_MAX_VECTORS, Kernels, SUM_GROUPS, sumThreads, type Dispatch } from '../src/gpu/kernels.js';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { PipelineCache } from '../src/gpu/shaders.js';
import { GpuVectorOps, groupDotPairs, type GpuVector } from '../src/gpu/vectors.js';
import { optimize } from '../src/optim/optimize.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { harness, randomArray, type Harness, recordDispatchLabels } from './helpers/gpu.js';

/**
 * |GPU − float64| ≤ TOL · Σₖ|xₖyₖ| (+ a tiny floor): each f32 dot is a strided
 * sum of ≤ ⌈n/T⌉ products, then a lane sum and a 6-level tree, so its rounding
 * error is at most about (⌈n/T⌉ + T/64 + 6)·2⁻²⁴ of Σ|xy| (≈ 6e-6 at n = 70001).
 */
const TOL = 2e-5;

type Pair = readonly [number, number];

/** L-BFGS's trial dots with k stored pairs (src/optim/lbfgs.ts), vector indices g 0, d 1, y_T 2, sᵢ 3 + 2i, yᵢ 4 + 2i. */
function lbfgsPairs(k: number): Pair[] {
  const p: Pair[] = [[0, 1]];
  for (let i = 0; i < k; i++) p.push([0, 3 + 2 * i], [0, 4 + 2 * i]);
  p.push([0, 0], [0, 2]);
  for (let i = 0; i < k; i++) p.push([2, 3 + 2 * i], [2, 4 + 2 * i]);
  p.push([2, 2]);
  return p;
}

/** `count` pairs among `vectors` vectors, repeats and self pairs included. */
function randomPairs(rng: Rng, count: number, vectors: number): Pair[] {
  return Array.from({ length: count }, (_, i) => (i % 5 === 2 ? [i % vectors, i % vectors] : [rng.int(vectors), rng.int(vectors)]) as Pair);
}

/** `count` vectors of n f32 values at non-zero offsets; vectors 0 and 1 share a buffer. */
function vectorsAt(h: Harness, ops: GpuVectorOps, rng: Rng, count: number, n: number): { xs: Float64Array[]; vs: GpuVector[] } {
  const xs = Array.from({ length: count }, () => Float64Array.from(Float32Array.from(randomArray(rng, n))));
  const vs: GpuVector[] = [];
  const shared = h.upload([1e30, ...xs[0]!, 1e30, 1e30, ...(count > 1 ? xs[1]! : []), 1e30]);
  for (let j = 0; j < count; j++) {
    if (j === 0) vs.push(ops.wrap(shared, 1));
    else if (j === 1) vs.push(ops.wrap(shared, n + 3));
    else {
      const off = 1 + ((j * 5) % 7);
      vs.push(ops.wrap(h.upload([...new Array(off).fill(1e30), ...xs[j]!, 1e30]), off));
    }
  }
  return { xs, vs };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/**
 * The batch's dots as recordDots gives them, from slots preset to `start` (zero
 * as prepareDots leaves them; the kernel adds), slots past the batch poisoned,
 * the partials poisoned; and the same dots as one reduce.wgsl sum per pair.
 */
async function batchAndPerPair(h: Harness, ops: GpuVectorOps, kernels: Kernels, vs: GpuVector[], pairs: readonly Pair[], start: number): Promise<{ got: Float32Array; tail: Float32Array; perPair: Float32Array; list: Dispatch[] }> {
  const device = h.ctx.device;
  const vp = pairs.map(([a, b]) => [vs[a]!, vs[b]!] as const);
  const list = await ops.recordDots(vp);
  const { buffer: dots } = ops.dotsSource(pairs.length);
  const slots = dots.size / 4;
  device.queue.writeBuffer(dots, 0, Float32Array.from({ length: slots }, (_, i) => (i < pairs.length ? start : NaN)));
  const partials = (ops as unknown as { dotPartials: GPUBuffer }).dotPartials;
  device.queue.writeBuffer(partials, 0, new Float32Array(partials.size / 4).fill(NaN));
  await h.run(list);
  const all = await h.read(dots, slots);
  // One sum (two dispatches) per pair, into its own slot.
  const scalars = h.upload(new Array(pairs.length).fill(start));
  const sumPartials = h.poisoned(SUM_GROUPS);
  const sums: Dispatch[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const [x, y] = vp[i]!;
    sums.push(...(await kernels.sum({ count: ops.n, map: 'dot', x: { buffer: x.buffer, offset: x.offset }, y: { buffer: y.buffer, offset: y.offset }, partials: sumPartials, scalars, slot: i, scale: 1 })));
  }
  await h.run(sums);
  const perPair = await h.read(scalars, pairs.length);
  kernels.release(sums);
  return { got: all.slice(0, pairs.length), tail: all.slice(pairs.length), perPair, list };
}

describe('batched dot products (dots.wgsl)', () => {
  it('groupDotPairs: each pair once, within the limits; L-BFGS\'s 44 dots in 5 groups of ≤ 7 vectors, 3 of ≤ 11', () => {
    const rng = new Rng(3);
    const cases: [Pair[], number, number][] = [
      [lbfgsPairs(10), 7, 16], [lbfgsPairs(10), 11, 16], [lbfgsPairs(0), 2, 16], [lbfgsPairs(3), 3, 2],
      [randomPairs(rng, 60, 25), 4, 16], [randomPairs(rng, 17, 3), 15, 16], [[[5, 5]], 2, 1],
    ];
    for (const [pairs, V, P] of cases) {
      const groups = groupDotPairs(pairs, V, P);
      const seen = new Array(pairs.length).fill(0);
      for (const g of groups) {
        expect(g.vectors.length).toBeLessThanOrEqual(V);
        expect(new Set(g.vectors).size).toBe(g.vectors.length);
        expect(g.pairs.length).toBeGreaterThan(0);
        expect(g.pairs.length).toBeLessThanOrEqual(P);
        for (const p of g.pairs) {
          seen[p.row]++;
          expect([g.vectors[p.a], g.vectors[p.b]]).toEqual([...pairs[p.row]!]);
        }
      }
      expect(seen.every((c) => c === 1)).toBe(true);
    }
    expect(groupDotPairs(lbfgsPairs(10), 7, 16)).toHaveLength(5); // ⌈21 / 5⌉: ∇J and y_T in every group, 5 others
    expect(groupDotPairs(lbfgsPairs(10), 11, 16)).toHaveLength(3); // ⌈44 / 16⌉
    expect(groupDotPairs([], 7, 16)).toEqual([]);
    expect(() => groupDotPairs([[1, 2]], 1, 16)).toThrow(/maxVectors must be an integer ≥ 2, got 1/);
    expect(() => groupDotPairs([[1, 2]], 4, 0)).toThrow(/maxPairs must be an integer ≥ 1, got 0/);
  });

  it('vectors per dispatch from the device limit: every storage binding but the partials, at most DOTS_MAX_VECTORS', async () => {
    const h = await harness();
    expect(h.kernels.dotsGroup()).toBe(Math.min(DOTS_MAX_VECTORS, h.ctx.limits.maxStorageBuffersPerShaderStage - 1));
    const at = (limit: number): Kernels => new Kernels({ ...h.ctx, limits: { ...h.ctx.limits, maxStorageBuffersPerShaderStage: limit } }, h.pool, h.kernels.cache);
    expect(at(8).dotsGroup()).toBe(7);
    expect(at(40).dotsGroup()).toBe(DOTS_MAX_VECTORS);
    expect(() => at(2).dotsGroup()).toThrow(/3 storage buffers per shader stage, the device allows 2/);
  });

  for (const limit of [4, 8, 0]) {
    it(`against float64 and bitwise the per-pair sum: n = 1, 37, 1031, 70001; 1, 2, P, P + 1, 45 pairs (${limit || 'device'} storage buffers)`, async () => {
      const h = await harness();
      const lim = limit || h.ctx.limits.maxStorageBuffersPerShaderStage;
      const kernels = new Kernels({ ...h.ctx, limits: { ...h.ctx.limits, maxStorageBuffersPerShaderStage: lim } }, h.pool, new PipelineCache(h.ctx.device));
      const rng = new Rng(17 + limit);
      const sizes = limit === 0 ? [1, 37, 1031, 70001] : [37, 1031];
      for (const n of sizes) {
        const ops = new GpuVectorOps(kernels, n);
        const nv = 23;
        const { xs, vs } = vectorsAt(h, ops, rng, nv, n);
        const shapes: [string, Pair[]][] = [
          ['1', [[3, 4]]],
          ['2', [[0, 0], [1, 2]]],
          ['P', randomPairs(rng, DOTS_MAX_PAIRS, 8)],
          ['P+1', randomPairs(rng, DOTS_MAX_PAIRS + 1, 8)],
          ['L-BFGS 45', [...lbfgsPairs(10), [1, 1]]],
        ];
        for (const [name, pairs] of shapes) {
          const label = `n=${n} ${name} V=${kernels.dotsGroup()}`;
          const start = name === '2' ? 0.5 : 0; // the kernel adds into its slots, as sum_final does
          const { got, tail, perPair, list } = await batchAndPerPair(h, ops, kernels, vs, pairs, start);
          expect(list).toHaveLength(groupDotPairs(pairs, kernels.dotsGroup(), DOTS_MAX_PAIRS).length + 1);
          expect(bits(got), `${label}: bitwise the per-pair sums`).toEqual(bits(perPair));
          pairs.forEach(([a, b], i) => {
            let ref = start;
            let mag = 0;
            for (let k = 0; k < n; k++) {
              ref += xs[a]![k]! * xs[b]![k]!;
              mag += Math.abs(xs[a]![k]! * xs[b]![k]!);
            }
            expect(Math.abs(got[i]! - ref), `${label} pair ${i} (${a}, ${b}): ${got[i]} vs ${ref}`).toBeLessThanOrEqual(TOL * mag + 1e-30);
          });
          // Slots past the batch are not written.
          expect(tail.every(Number.isNaN), `${label} slots past the batch`).toBe(true);
        }
        ops.dispose();
      }
    });
  }

  it('threads: sum_partial\'s split (n = 70001 fills SUM_GROUPS invocations)', () => {
    expect([1, 16, 17, 1031, 70001].map(sumThreads)).toEqual([1, 1, 2, 65, SUM_GROUPS]);
  });

  it('reused: the same dispatches, no new pipelines or bind groups; the dots buffer grows past 64 pairs; free() drops the dispatches naming a vector', async () => {
    const h = await harness();
    const rng = new Rng(5);
    const n = 37;
    const ops = new GpuVectorOps(h.kernels, n);
    const { xs, vs } = vectorsAt(h, ops, rng, 23, n);
    const pairs = [...lbfgsPairs(10), [1, 1] as Pair];
    const vp = (ps: readonly Pair[]): (readonly [GpuVector, GpuVector])[] => ps.map(([a, b]) => [vs[a]!, vs[b]!] as const);
    const check = (got: Float64Array, ps: readonly Pair[], ys = xs): void => {
      ps.forEach(([a, b], i) => {
        let ref = 0;
        for (let k = 0; k < n; k++) ref += ys[a]![k]! * ys[b]![k]!;
        expect(Math.abs(got[i]! - ref)).toBeLessThan(1e-5 * (1 + Math.abs(ref)));
      });
    };
    const first = await ops.recordDots(vp(pairs));
    check(await ops.dots(vp(pairs)), pairs);
    const device = h.ctx.device;
    const create = device.createBindGroup;
    let bindGroups = 0;
    device.createBindGroup = function (d: GPUBindGroupDescriptor) {
      bindGroups++;
      return create.call(device, d);
    };
    const pipelines = h.kernels.cache.size;
    try {
      const again = await ops.recordDots(vp(pairs));
      expect(again.length).toBe(first.length);
      again.forEach((d, i) => expect(d).toBe(first[i]));
      check(await ops.dots(vp(pairs)), pairs);
      check(await ops.dots(vp(pairs)), pairs);
    } finally {
      device.createBindGroup = create;
    }
    expect(bindGroups).toBe(0);
    expect(h.kernels.cache.size).toBe(pipelines);

    // 70 pairs: the dots buffer (64 slots) grows, the cached lists go with the old one.
    const many = randomPairs(rng, 70, 23);
    check(await ops.dots(vp(many)), many);
    check(await ops.dots(vp(pairs)), pairs);

    // A vector of the batch freed and replaced: its dispatches go, the new one is used.
    const own = ops.alloc();
    const x = randomArray(rng, n);
    ops.write(own, x);
    const ys = [...xs, Float64Array.from(Float32Array.from(x))];
    const withOwn: Pair[] = [[0, 23], [23, 23], [2, 5]];
    const vs2 = [...vs, own];
    const vp2 = (ps: readonly Pair[]): (readonly [GpuVector, GpuVector])[] => ps.map(([a, b]) => [vs2[a]!, vs2[b]!] as const);
    check(await ops.dots(vp2(withOwn)), withOwn, ys);
    const live = h.pool.stats().live;
    ops.free(own);
    expect(h.pool.stats().live).toBeLessThan(live - 1); // the vector and its dispatches' uniforms
    const other = ops.alloc();
    ops.write(other, xs[4]!);
    vs2[23] = other;
    check(await ops.dots(vp2(withOwn)), withOwn, [...xs, xs[4]!]);
    expect(await ops.recordDots([])).toEqual([]);
    ops.dispose();
  });

  it('L-BFGS (history 10) on the GPU: each trial\'s dots take #groups + 1 dispatches, not 2 per pair', async () => {
    const h = await harness();
    const ctx = h.ctx;
    const net = resolveSpec({ layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } });
    const rng = new Rng(7);
    const X = { rows: 40, cols: 12, data: Float64Array.from({ length: 40 * 12 }, () => rng.uniform()) };
    const model = await createGpuModel(net, Float64Array.from(Float32Array.from(initParameters(net, { seed: 3 }))), ctx.device);
    const obj = new GpuObjective(model, X);
    const V = model.kernels.dotsGroup();
    // Groups expected per batch size (L-BFGS's batches have 4k + 4 pairs).
    const groups = new Map<number, number>();
    const record = obj.ops.recordDots.bind(obj.ops);
    obj.ops.recordDots = async (pairs) => {
      groups.set(pairs.length, groupDotPairs(pairs.map(([x, y]) => [x.id, y.id] as const), V, DOTS_MAX_PAIRS).length);
      return record(pairs);
    };
    // The labels of the dispatches run, in order.
    const { labels, stop } = recordDispatchLabels(ctx.device);
    try {
      await optimize(obj, { method: 'lbfgs', history: 10, maxIterations: 13 });
      await obj.ops.flush();
    } finally {
      stop();
      obj.dispose();
      model.dispose();
    }
    // Each batch: its groups' partial dispatches, then `dots final <pairs>`.
    let run = 0;
    let batches = 0;
    let full = 0;
    for (const label of labels) {
      const m = /^dots final (\d+)$/.exec(label);
      if (m) {
        const pairs = Number(m[1]);
        expect(run, `a batch of ${pairs} dots`).toBe(groups.get(pairs));
        batches++;
        if (pairs === 44) {
          full++;
          expect(run).toBeLessThanOrEqual(Math.max(Math.ceil(21 / (V - 2)), Math.ceil(44 / DOTS_MAX_PAIRS))); // not 88
        }
        run = 0;
      } else if (label.startsWith('dots ')) run++;
      else {
        expect(run, `dots partials before ${label}`).toBe(0);
        expect(label).not.toBe('sum dot'); // no per-pair sums left in the trials
      }
    }
    expect(groups.has(44)).toBe(true); // 10 pairs stored
    expect(full).toBeGreaterThan(0);
    expect(batches).toBeGreaterThanOrEqual(13);
  });
});
