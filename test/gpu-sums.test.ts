// Batched scalar sums (sums.wgsl, Kernels.sums): every map at awkward sizes with
// offsets, more input buffers than one dispatch binds, several terms per slot,
// more terms than one batch, the partials poisoned; each slot bitwise what one
// reduce.wgsl `sum` per term gives in list order, and within float32 rounding of
// float64; the dispatch count; and an evaluation's cost in 2 sum dispatches.
import { describe, expect, it } from 'vitest';
import { createGpuModel } from '../src/gpu/model.js';
import type { GpuDataset } from '../src/gpu/dataset.js';
import { SUMS_MAX_TERMS, sumsPartials, type SumMap, type SumTerm } from '../src/gpu/kernels.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { harness, recordDispatchLabels, type Harness } from './helpers/gpu.js';

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** The float64 value of one term over the f32 inputs. */
function reference(map: SumMap, x: Float32Array, y: Float32Array | null, rho: number): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    const w = y ? y[k]! : 0;
    s +=
      map === 'square' ? v * v
      : map === 'abs' ? Math.abs(v)
      : map === 'kl' ? rho * Math.log(rho / v) + (1 - rho) * Math.log((1 - rho) / (1 - v))
      : map === 'dot' || map === 'product' ? v * w
      : map === 'halfSqDiff' ? 0.5 * (v - w) ** 2
      : map === 'bceLogits' ? Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))) - w * v
      : v;
  }
  return s;
}

interface Case {
  terms: SumTerm[];
  values: { x: Float32Array; y: Float32Array | null; rho: number }[];
  slots: number;
}

/** `count` terms over `buffers` buffers (each term reads at an offset), maps cycling through all, slots shared. */
function randomTerms(h: Harness, rng: Rng, count: number, buffers: number, slots: number): Case {
  const len = 9000;
  const host = Array.from({ length: buffers }, (_, b) => Float32Array.from({ length: len }, () => (b % 2 ? rng.range(0.05, 0.95) : rng.range(-2, 2))));
  const gpuBufs = host.map((a) => h.upload(a));
  const maps: SumMap[] = ['identity', 'square', 'abs', 'kl', 'dot', 'halfSqDiff', 'bceLogits', 'product'];
  const terms: SumTerm[] = [];
  const values: Case['values'] = [];
  for (let r = 0; r < count; r++) {
    const map = maps[r % maps.length]!;
    // Awkward lengths: 1, a few, around 16·64, and past SUM_GROUPS·16 is not needed (T caps at 4096 either way).
    const n = [1, 7, 333, 1025, 4099, 8191][r % 6]!;
    // KL needs x in (0, 1): the odd buffers.
    const xb = map === 'kl' ? 1 + 2 * rng.int(Math.floor(buffers / 2)) : rng.int(buffers);
    const yb = rng.int(buffers);
    const offX = rng.int(len - n);
    const offY = rng.int(len - n);
    const two = ['dot', 'halfSqDiff', 'bceLogits', 'product'].includes(map);
    const rho = 0.07;
    terms.push({ count: n, map, x: { buffer: gpuBufs[xb]!, offset: offX }, y: two ? { buffer: gpuBufs[yb]!, offset: offY } : undefined, slot: r % slots, scale: 0.5 + (r % 3), rho: map === 'kl' ? rho : undefined });
    values.push({ x: host[xb]!.subarray(offX, offX + n), y: two ? host[yb]!.subarray(offY, offY + n) : null, rho });
  }
  return { terms, values, slots };
}

/** Runs the batched sums and one `sum` per term from slots preset to `start`, the partials poisoned. */
async function batchedAndPerTerm(h: Harness, c: Case, start: number[]): Promise<{ batched: Float32Array; perTerm: Float32Array; dispatches: number }> {
  const partials = h.poisoned(sumsPartials(c.terms));
  const scalars = h.upload(start);
  const list = await h.kernels.sums(c.terms, partials, scalars);
  await h.run(list);
  const batched = await h.read(scalars, c.slots);
  const scalars2 = h.upload(start);
  const partials2 = h.poisoned(4096);
  const per = [];
  for (const t of c.terms) per.push(...(await h.kernels.sum({ ...t, partials: partials2, scalars: scalars2 })));
  await h.run(per);
  const perTerm = await h.read(scalars2, c.slots);
  h.kernels.release(list);
  h.kernels.release(per);
  return { batched, perTerm, dispatches: list.length };
}

describe('Kernels.sums', () => {
  it('every map, offsets, 9 buffers, 3 slots, 23 terms (two batches): bitwise one sum per term, and float64 to 1e-5', async () => {
    const h = await harness();
    const rng = new Rng(11);
    const c = randomTerms(h, rng, 23, 9, 3);
    const start = [0.25, -3, 7];
    const { batched, perTerm } = await batchedAndPerTerm(h, c, start);
    expect(bits(batched)).toEqual(bits(perTerm));
    for (let s = 0; s < c.slots; s++) {
      let want = start[s]!;
      let mag = Math.abs(start[s]!);
      c.terms.forEach((t, r) => {
        if (t.slot !== s) return;
        const v = c.values[r]!;
        const x = t.scale * reference(t.map, v.x, v.y, v.rho);
        want += x;
        mag += Math.abs(x);
      });
      expect(Math.abs(batched[s]! - want), `slot ${s}`).toBeLessThanOrEqual(1e-5 * mag + 1e-6);
    }
  });

  it('a batch takes one dispatch per group of terms whose buffers fit the bindings, and one final dispatch', async () => {
    const h = await harness();
    const G = h.kernels.sumsBuffers();
    const rng = new Rng(5);
    // Two buffers, many terms: one group per batch.
    const few = randomTerms(h, rng, SUMS_MAX_TERMS, 2, 2);
    expect((await batchedAndPerTerm(h, few, [0, 0])).dispatches).toBe(2);
    // G + 1 terms, term r reading buffer r alone: G in the first group, one in the second.
    const many = randomTerms(h, rng, G + 1, G + 1, 1);
    const bufs = [...new Set(many.terms.map((t) => t.x.buffer))];
    while (bufs.length < G + 1) bufs.push(h.upload([1, 2, 3]));
    const own = many.terms.map((t, r) => ({ ...t, map: 'square' as SumMap, y: undefined, x: { buffer: bufs[r]!, offset: 0 }, count: 3 }));
    const r = await batchedAndPerTerm(h, { ...many, terms: own }, [1]);
    expect(bits(r.batched)).toEqual(bits(r.perTerm));
    expect(r.dispatches).toBe(3);
  });

  it('an evaluation of the UFLDL network sums its five parts of J in 2 dispatches (18 → 10 per evaluation)', async () => {
    const h = await harness();
    const net = resolveSpec({ layers: [64, 25, 64], activation: 'sigmoid', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } });
    const rng = new Rng(7);
    const X = { rows: 100, cols: 64, data: Float64Array.from({ length: 6400 }, () => rng.uniform()) };
    const model = await createGpuModel(net, Float64Array.from(Float32Array.from(initParameters(net, { seed: 3 }))), h.ctx.device);
    try {
      const ds = model.dataset(X, X) as GpuDataset;
      await model.evaluate(ds, { cost: true, gradient: true });
      const rec = recordDispatchLabels(h.ctx.device);
      await model.evaluate(ds, { cost: true, gradient: true });
      rec.stop();
      expect(rec.labels.filter((l) => l.startsWith('sum'))).toEqual(['sums halfSqDiff,square,square,kl,identity', 'sums final 5']);
      expect(rec.labels).toHaveLength(10);
    } finally {
      model.dispose();
    }
  });
});
