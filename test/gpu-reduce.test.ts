// Reductions (column sums, scalar sums with every map) and vector kernels
// against float64 loops, at awkward sizes, outputs poisoned with NaN.
import { describe, expect, it } from 'vitest';
import { COLSUM_DIRECT_ROWS, COLSUM_STRIPS, SUM_GROUPS, SUM_MAPS, type SumMap } from '../src/gpu/kernels.js';
import { GpuVectorOps } from '../src/gpu/vectors.js';
import { Rng } from '../src/prng.js';
import { harness, maxRelErr, randomArray } from './helpers/gpu.js';

const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

function refMap(map: SumMap, x: number, y: number, rho: number): number {
  switch (map) {
    case 'identity': return x;
    case 'square': return x * x;
    case 'abs': return Math.abs(x);
    case 'kl': return rho * Math.log(rho / x) + (1 - rho) * Math.log((1 - rho) / (1 - x));
    case 'dot': case 'product': return x * y;
    case 'halfSqDiff': return 0.5 * (x - y) ** 2;
    case 'bceLogits': return softplus(x) - y * x;
  }
}

describe('reductions', () => {
  it('colsum: scale, accumulate, offsets', async () => {
    const h = await harness();
    const rng = new Rng(3);
    for (const [rows, cols] of [[1, 1], [7, 65], [129, 7], [1, 33], [300, 17], [2500, 5]] as const) {
      const X = randomArray(rng, rows * cols);
      const prev = randomArray(rng, cols);
      const want = new Float64Array(cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[j] += X[i * cols + j]!;
      const out = h.poisoned(cols + 2);
      const partials = h.poisoned(COLSUM_STRIPS * cols);
      const d1 = await h.kernels.colsum({ rows, cols, X: { buffer: h.upload(X) }, out: { buffer: out, offset: 2 }, scale: 1 / rows, partials });
      await h.run(d1);
      expect(maxRelErr(await h.read(out, cols, 2), want.map((v) => v / rows)), `${rows}x${cols}`).toBeLessThan(1e-5);
      const acc = h.upload(prev);
      const d2 = await h.kernels.colsum({ rows, cols, X: { buffer: h.upload([0, ...X]), offset: 1 }, out: { buffer: acc }, scale: 2, beta: 1, partials });
      await h.run(d2);
      expect(maxRelErr(await h.read(acc, cols), want.map((v, j) => 2 * v + prev[j]!)), `${rows}x${cols} accumulate`).toBeLessThan(1e-5);
    }
  });

  it('colsum: one pass up to COLSUM_DIRECT_ROWS rows, two above, the same sums either side', async () => {
    const h = await harness();
    const rng = new Rng(8);
    for (const [rows, cols] of [[COLSUM_DIRECT_ROWS, 67], [COLSUM_DIRECT_ROWS + 1, 67], [256, 784], [33, 200]] as const) {
      const X = randomArray(rng, rows * cols);
      const prev = randomArray(rng, cols);
      const want = new Float64Array(cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[j] += X[i * cols + j]!;
      const out = h.upload([...prev, 0]);
      const partials = h.poisoned(COLSUM_STRIPS * cols);
      const list = await h.kernels.colsum({ rows, cols, X: { buffer: h.upload([7, 7, 7, ...X]), offset: 3 }, out: { buffer: out }, scale: 0.5, beta: -1, partials });
      expect(list.length, `${rows}x${cols} dispatches`).toBe(rows <= COLSUM_DIRECT_ROWS ? 1 : 2);
      await h.run(list);
      expect(maxRelErr(await h.read(out, cols), want.map((v, j) => 0.5 * v - prev[j]!)), `${rows}x${cols}`).toBeLessThan(1e-5);
      // The one-pass kernel writes nothing past its columns.
      expect((await h.read(out, 1, cols))[0]).toBe(0);
    }
  });

  it('scalar sums: every map, sizes from 1 to beyond one grid pass, accumulating into a slot', async () => {
    const h = await harness();
    const rng = new Rng(4);
    const rho = 0.07;
    const sizes = [1, 7, 65, 129, 16 * SUM_GROUPS + 77, 40 * SUM_GROUPS + 3];
    for (const map of Object.keys(SUM_MAPS) as SumMap[]) {
      for (const n of sizes) {
        const kl = map === 'kl';
        const x = randomArray(rng, n, kl ? 0.01 : -3, kl ? 0.99 : 3);
        const y = randomArray(rng, n, 0, 1);
        let want = 0;
        for (let i = 0; i < n; i++) want += refMap(map, x[i]!, y[i]!, rho);
        const scalars = h.upload([0, 0, 5, 0]);
        const list = await h.kernels.sum({
          count: n, map, x: { buffer: h.upload([9, ...x]), offset: 1 }, y: { buffer: h.upload(y) },
          partials: h.poisoned(SUM_GROUPS), scalars, slot: 2, scale: 0.5, rho,
        });
        await h.run(list);
        const got = await h.read(scalars, 4);
        expect(got[2]! - 5, `${map} n=${n}`).toBeCloseTo(0.5 * want, Math.max(0, 4 - Math.round(Math.log10(1 + Math.abs(want)))));
        expect(Math.abs(got[2]! - 5 - 0.5 * want) / (1 + Math.abs(0.5 * want)), `${map} n=${n}`).toBeLessThan(1e-5);
        expect([got[0], got[1], got[3]]).toEqual([0, 0, 0]);
      }
    }
  });
});

describe('GPU vector operations', () => {
  it('axpy, axpby, scale, copy, fill, adam and dot against float64, recorded into one submit', async () => {
    const h = await harness();
    const rng = new Rng(6);
    for (const n of [1, 7, 65, 129, 1000]) {
      const ops = new GpuVectorOps(h.kernels, n);
      const x = randomArray(rng, n);
      const y = randomArray(rng, n);
      const [vx, vy, vm, vv] = [ops.alloc(), ops.alloc(), ops.alloc(), ops.alloc()];
      ops.write(vx, x);
      ops.write(vy, y);
      const X = Array.from(x);
      let Y = Array.from(y);
      ops.axpy(0.3, vx, vy);
      Y = Y.map((v, i) => 0.3 * X[i]! + v);
      ops.axpby(-2, vx, 0.5, vy);
      Y = Y.map((v, i) => -2 * X[i]! + 0.5 * v);
      ops.scale(1.5, vy);
      Y = Y.map((v) => 1.5 * v);
      expect(maxRelErr(await ops.read(vy), Y), `n=${n} axpy/axpby/scale`).toBeLessThan(1e-5);
      const dot = await ops.dot(vx, vy);
      const want = X.reduce((s, v, i) => s + v * Y[i]!, 0);
      expect(Math.abs(dot - want) / (1 + Math.abs(want)), `n=${n} dot`).toBeLessThan(1e-5);
      // Two Adam steps on θ = y with gradient x.
      let m = new Array(n).fill(0);
      let v = new Array(n).fill(0);
      const p = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
      for (let t = 1; t <= 2; t++) {
        ops.adam(vy, vx, vm, vv, { ...p, t });
        m = m.map((mi, i) => p.beta1 * mi + (1 - p.beta1) * X[i]!);
        v = v.map((vi, i) => p.beta2 * vi + (1 - p.beta2) * X[i]! ** 2);
        Y = Y.map((yi, i) => yi - (p.lr * (m[i]! / (1 - p.beta1 ** t))) / (Math.sqrt(v[i]! / (1 - p.beta2 ** t)) + p.epsilon));
      }
      expect(maxRelErr(await ops.read(vy), Y), `n=${n} adam`).toBeLessThan(1e-5);
      ops.copy(vx, vy);
      ops.fill(0.25, vx);
      expect(maxRelErr(await ops.read(vy), X), `n=${n} copy`).toBeLessThan(1e-6);
      expect(maxRelErr(await ops.read(vx), new Array(n).fill(0.25)), `n=${n} fill`).toBe(0);
      const before = h.pool.stats().live;
      ops.dispose();
      expect(h.pool.stats().live).toBeLessThan(before);
    }
  });

  it('combine and batched dots against float64 (one readback), dots buffer re-zeroed, destination poisoned', async () => {
    const h = await harness();
    const rng = new Rng(16);
    for (const n of [1, 7, 129, 1000]) {
      const ops = new GpuVectorOps(h.kernels, n);
      const xs = [0, 1, 2, 3].map(() => randomArray(rng, n));
      const vs = xs.map((x) => {
        const v = ops.alloc();
        ops.write(v, x);
        return v;
      });
      const dst = ops.alloc();
      ops.write(dst, new Array(n).fill(NaN));
      const c = [0.5, -1.25, 3, 1e-3];
      ops.combine(c, vs, dst);
      const want = Array.from({ length: n }, (_, i) => c.reduce((s, ci, j) => s + ci * xs[j]![i]!, 0));
      expect(maxRelErr(await ops.read(dst), want), `n=${n} combine`).toBeLessThan(1e-5);
      expect(() => ops.combine([1, 2], [vs[0]!, dst], dst)).toThrow(/destination/);
      expect(() => ops.combine([1], [vs[0]!, vs[1]!], dst)).toThrow(/1 coefficients for 2 vectors/);

      // 70 pairs: more than the first dots buffer (64 slots), so it grows once.
      const pairs = Array.from({ length: 70 }, (_, k) => [vs[k % 4]!, k % 5 === 4 ? dst : vs[(k * 7 + 1) % 4]!] as const);
      const arrays = new Map<unknown, ArrayLike<number>>(vs.map((v, j) => [v, xs[j]!]));
      arrays.set(dst, want);
      const ref = pairs.map(([a, b]) => Array.from(arrays.get(a)!).reduce((s, v, i) => s + v * arrays.get(b)![i]!, 0));
      const reads0 = h.pool.readbacks;
      for (const short of [5, 70, 70]) {
        const got = await ops.dots(pairs.slice(0, short));
        expect(got.length).toBe(short);
        got.forEach((g, k) => expect(Math.abs(g - ref[k]!) / (1 + Math.abs(ref[k]!)), `n=${n} dot ${k}`).toBeLessThan(1e-5));
      }
      expect(h.pool.readbacks - reads0).toBe(3);
      ops.dispose();
    }
  });
});
