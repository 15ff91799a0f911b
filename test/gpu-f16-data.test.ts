// Half-precision data sets (issue 13, DatasetOptions.dataPrecision 'f16'): the
// host rounding to halves against a float64 reference, the unpack and packed
// gather kernels on awkward sizes (outputs poisoned) against the CPU-rounded
// values exactly, the whole network's cost and ∇θ over an f16 data set (one
// chunk, several data and evaluation chunks, a mini-batch) against the float64
// reference on the rounded data, the f16 path against the f32 path, bad inputs,
// and a short fit whose data buffers take half the bytes.
import { describe, expect, it } from 'vitest';
import { cpuCost } from '../src/cpu/network.js';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { GpuDataset } from '../src/gpu/dataset.js';
import { createModel } from '../src/model.js';
import { fit } from '../src/fit.js';
import { checkConfig, type TrainConfig } from '../src/train/config.js';
import { MAIN_JOB } from '../src/train/defaults.js';
import { main } from '../src/cli/main.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from './helpers/io.js';
import { F16_MAX, fromF16Bits, packF16, roundF16, roundedToF16, toF16Bits } from '../src/f16.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, SpecError, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { BufferPool, readF32, STORAGE } from '../src/gpu/buffers.js';
import { gpu, harness, relNormDiff, uploadPermutation } from './helpers/gpu.js';

/** The parity tolerances of test/gpu-parity.test.ts: J relative to |J|, ∇θ as ‖Δ‖/‖∇‖. */
const TOL = { cost: 1e-5, grad: 1e-4 } as const;
/**
 * The f16 path's J against the f32 path's on the same (unrounded) data in [0, 1),
 * relative (README, "Half-precision data"): measured ≤ 1.4e-5 here; each value
 * moves by at most 2⁻¹¹ ≈ 4.9e-4 of itself when rounded to a half.
 */
const F16_VS_F32 = 1e-4;

/** Every finite half, ascending by value (the float64 reference of rounding). */
const HALVES: { v: number; h: number }[] = [];
for (let h = 0; h < 0x10000; h++) {
  const v = fromF16Bits(h);
  if (Number.isFinite(v) && !Object.is(v, -0)) HALVES.push({ v, h });
}
HALVES.sort((a, b) => a.v - b.v);

/** Nearest half by search over every half; ties to the even bit pattern. */
function nearestHalf(x: number): number {
  let lo = 0;
  let hi = HALVES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALVES[mid]!.v <= x) lo = mid;
    else hi = mid;
  }
  const a = HALVES[lo]!;
  const b = HALVES[hi]!;
  const da = Math.abs(x - a.v);
  const db = Math.abs(b.v - x);
  if (da < db) return a.v;
  if (db < da) return b.v;
  return (a.h & 1) === 0 ? a.v : b.v;
}

/** Values of every magnitude a half holds: subnormals, normals, near the top, exact ties. */
function awkwardValues(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    if (k === 0) out[i] = sign * rng.uniform() * 2 ** -14; // subnormal range
    else if (k === 1) out[i] = sign * 2 ** rng.range(-14, 15.99); // any normal
    else if (k === 2 && i % 3 === 0) out[i] = sign * (Math.floor(rng.uniform() * 1024) + 0.5) * 2 ** -24; // a tie between subnormals
    else if (k === 2) out[i] = sign * (1024 + Math.floor(rng.uniform() * 1024) + 0.5) * 2 ** (rng.int(29) - 24); // a tie between normals (exponent −14 … 14)
    else out[i] = rng.range(-1, 1);
  }
  return out;
}

describe('f16 rounding on the host', () => {
  it('known values: 1, 1/3, 65504, 65519 → 65504, 65520 overflows, ties to even, subnormals, signs', () => {
    expect(toF16Bits(1)).toBe(0x3c00);
    expect(toF16Bits(-2)).toBe(0xc000);
    expect(toF16Bits(0)).toBe(0);
    expect(toF16Bits(-0)).toBe(0x8000);
    expect(toF16Bits(1 / 3)).toBe(0x3555);
    expect(roundF16(1 / 3)).toBe(0.333251953125);
    expect(toF16Bits(F16_MAX)).toBe(0x7bff);
    expect(roundF16(65519)).toBe(65504);
    expect(toF16Bits(65520)).toBe(0x7c00);
    expect(toF16Bits(-65520)).toBe(0xfc00);
    // Ties: halfway between two halves goes to the even fraction.
    expect(roundF16(1 + 2 ** -11)).toBe(1);
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundF16(2049)).toBe(2048);
    expect(roundF16(2051)).toBe(2052);
    // Subnormals: multiples of 2⁻²⁴, kept (not flushed); ties to even there too.
    expect(toF16Bits(2 ** -24)).toBe(0x0001);
    expect(roundF16(2 ** -25)).toBe(0);
    expect(roundF16(3 * 2 ** -25)).toBe(2 ** -23);
    expect(toF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // the largest subnormal's tie rounds up to the smallest normal
    expect(toF16Bits(2 ** -14 - 2 ** -24)).toBe(0x03ff);
    expect(toF16Bits(6e-8)).toBe(0x0001);
    expect(toF16Bits(1e-9)).toBe(0);
  });

  it('every half round-trips; random values of every magnitude round to the nearest half (float64 search)', () => {
    for (let h = 0; h < 0x10000; h++) {
      if (((h >>> 10) & 0x1f) === 31 && h & 0x3ff) continue; // NaN
      expect(toF16Bits(fromF16Bits(h))).toBe(h);
    }
    const xs = awkwardValues(new Rng(3), 4000);
    for (const x of xs) expect(roundF16(x), `${x}`).toBe(nearestHalf(x));
  });

  it('packs two per u32 in pack2x16float layout, padding an odd count', () => {
    expect(Array.from(packF16([1, 2, 3]))).toEqual([0x40003c00, 0x00004200]);
    expect(Array.from(packF16([-1, 0.5], 0, 1))).toEqual([0xbc00]);
  });
});

describe('unpack and packed gather kernels', () => {
  it('unpack: 37×29 halves from any element offset, output poisoned, equal the host rounding exactly', async () => {
    const h = await harness();
    const values = awkwardValues(new Rng(5), 37 * 29);
    const words = packF16(values);
    const src = h.pool.acquire(words.byteLength, STORAGE);
    h.ctx.device.queue.writeBuffer(src, 0, words);
    for (const [offset, count] of [[0, 37 * 29], [29 * 5, 29 * 7], [1, 1], [13, 400], [37 * 29 - 1, 1]] as const) {
      const dst = h.poisoned(count + 1);
      await h.run([await h.kernels.unpack({ count, offset, src, dst })]);
      const got = await h.read(dst, count + 1);
      for (let i = 0; i < count; i++) expect(got[i], `offset ${offset} element ${i}`).toBe(roundF16(values[offset + i]!));
      expect(got[count]).toBeNaN(); // nothing past count
    }
  });

  it('packed gather: a mini-batch from f16 chunks of odd sizes equals the host-rounded rows exactly', async () => {
    const h = await harness();
    const rng = new Rng(8);
    for (const [m, cols, chunk, start, rows] of [[37, 29, 10, 3, 21], [23, 5, 7, 0, 23], [9, 1, 4, 2, 5]] as const) {
      const X = awkwardValues(rng, m * cols);
      const { perm, order } = uploadPermutation(h, rng, m);
      const dst = h.poisoned(rows * cols);
      const list = [];
      for (let lo = 0; lo < m; lo += chunk) {
        const count = Math.min(chunk, m - lo);
        const words = packF16(X, lo * cols, count * cols);
        const src = h.pool.acquire(words.byteLength, STORAGE);
        h.ctx.device.queue.writeBuffer(src, 0, words);
        list.push(await h.kernels.gather({ rows, cols, start, src, order, dst, lo, count, packed: true }));
      }
      await h.run(list);
      const got = await h.read(dst, rows * cols);
      for (let r = 0; r < rows; r++) {
        const e = perm[start + r]!;
        for (let c = 0; c < cols; c++) expect(got[r * cols + c], `${m}×${cols} row ${r}`).toBe(roundF16(X[e * cols + c]!));
      }
    }
  });
});

function uniformMatrix(rng: Rng, rows: number, cols: number): Matrix {
  return { rows, cols, data: Float64Array.from(Float32Array.from({ length: rows * cols }, () => rng.uniform())) };
}

const half = (M: Matrix): Matrix => ({ rows: M.rows, cols: M.cols, data: roundedToF16(M.data) });

interface NetCase {
  name: string;
  spec: NetworkSpec;
  /** Targets of this width (absent: an autoencoder). */
  targets?: number;
}

const NETS: NetCase[] = [
  { name: 'sparse autoencoder 29-3-29 (KL sparsity: the ρ̂ pass unpacks too)', spec: { layers: [29, 3, 29], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } } },
  { name: 'regression 29-6-5 with targets', spec: { layers: [29, 6, 5], activation: ['tanh', 'identity'], loss: 'squared', lambda: 1e-3 }, targets: 5 },
];

/**
 * Layouts of the 37 examples: one chunk; maxBindingBytes 1024 with 5 examples per
 * evaluation chunk (data chunks of 15 rows = 3 evaluation chunks, odd element offsets).
 */
const LAYOUTS = [
  { name: 'one chunk', opts: {}, dataChunks: 1, evalRows: 37 },
  { name: 'data chunks of 15, evaluation chunks of 5', opts: { maxBindingBytes: 1024, maxChunkRows: 5 }, dataChunks: 3, evalRows: 5 },
];

describe('the whole network over an f16 data set', () => {
  for (const nc of NETS) {
    for (const lay of LAYOUTS) {
      it(`${nc.name}, ${lay.name}: J and ∇θ equal the float64 reference on the rounded data; f16 vs f32 within ${F16_VS_F32}`, async () => {
        const net = resolveSpec(nc.spec);
        const rng = new Rng(21);
        const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed: 4 })));
        const X = uniformMatrix(rng, 37, 29);
        const Y = nc.targets ? uniformMatrix(rng, 37, nc.targets) : undefined;
        const want = cpuCost(net, theta, half(X), Y ? half(Y) : undefined, { gradient: true });
        const model = await createGpuModel(net, theta, (await gpu()).device, lay.opts);
        const ds = model.dataset(X, Y, { dataPrecision: 'f16' }) as GpuDataset;
        const ds32 = model.dataset(X, Y) as GpuDataset;
        try {
          expect(ds.precision).toBe('f16');
          expect(ds.chunks.length).toBe(lay.dataChunks);
          expect(ds.evalRows).toBe(lay.evalRows);
          await model.evaluate(ds);
          const got = await model.readCost();
          const grad = await model.readGradient();
          expect(Math.abs(got.cost - want.cost) / Math.abs(want.cost), 'J').toBeLessThan(TOL.cost);
          expect(relNormDiff(grad, want.grad!), '∇θ').toBeLessThan(TOL.grad);
          await model.evaluate(ds32, { gradient: false });
          const j32 = (await model.readCost()).cost;
          const rel = Math.abs(got.cost - j32) / Math.abs(j32);
          console.log(`${nc.name}, ${lay.name}: |J16 − J32| / J32 = ${rel.toExponential(2)}`);
          expect(rel).toBeLessThan(F16_VS_F32);
        } finally {
          model.release(ds);
          model.release(ds32);
          model.dispose();
        }
      });
    }
  }

  it('encodeDataset over f16 evaluation chunks: f32 features equal the encoding of the rounded data', async () => {
    const net = resolveSpec(NETS[0]!.spec);
    const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed: 4 })));
    const X = uniformMatrix(new Rng(23), 37, 29);
    const model = await createGpuModel(net, theta, (await gpu()).device, { maxBindingBytes: 1024, maxChunkRows: 5 });
    const ds = model.dataset(X, undefined, { dataPrecision: 'f16' }) as GpuDataset;
    try {
      const feats = await model.encodeDataset(ds, 2);
      expect(feats.precision).toBe('f32');
      expect(feats.chunks.length).toBe(8); // one per evaluation chunk: 7 × 5 + 2
      const want = await model.encode(half(X), 2);
      const got: number[] = [];
      const pool = new BufferPool(model.ctx.device, model.ctx.limits.maxBufferSize, { maxBindingSize: model.ctx.limits.maxStorageBufferBindingSize });
      for (const c of feats.chunks) got.push(...(await readF32(model.ctx.device, pool, [{ buffer: c.X, count: c.rows * 3 }]))[0]!);
      pool.destroy();
      expect(got).toEqual(Array.from(want.data));
      model.release(feats);
    } finally {
      model.release(ds);
      model.dispose();
    }
  });

  it('a mini-batch gathered from f16 chunks: J and ∇θ equal the reference on the rounded batch rows', async () => {
    for (const nc of NETS) {
      const net = resolveSpec(nc.spec);
      const rng = new Rng(22);
      const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed: 6 })));
      const X = uniformMatrix(rng, 37, 29);
      const Y = nc.targets ? uniformMatrix(rng, 37, nc.targets) : undefined;
      const model = await createGpuModel(net, theta, (await gpu()).device, { maxBindingBytes: 1024, maxChunkRows: 5 });
      const ds = model.dataset(X, Y, { dataPrecision: 'f16' }) as GpuDataset;
      const obj = new GpuObjective(model, ds);
      try {
        const seed = 17;
        obj.shuffle(seed);
        const perm = new Uint32Array(37);
        for (let i = 0; i < 37; i++) perm[i] = i;
        new Rng(seed).shuffle(perm);
        const batch = { start: 4, count: 7 }; // 7 rows of the widest layer fit one 1024-byte binding
        const rows = (M: Matrix): Matrix => {
          const d = new Float64Array(batch.count * M.cols);
          for (let r = 0; r < batch.count; r++) d.set(M.data.subarray(perm[batch.start + r]! * M.cols, (perm[batch.start + r]! + 1) * M.cols), r * M.cols);
          return half({ rows: batch.count, cols: M.cols, data: d });
        };
        const want = cpuCost(net, theta, rows(X), Y ? rows(Y) : undefined, { gradient: true });
        const cost = (await obj.evaluate({ batch }))!;
        const grad = await model.readGradient();
        expect(Math.abs(cost - want.cost) / Math.abs(want.cost), `${nc.name} J`).toBeLessThan(TOL.cost);
        expect(relNormDiff(grad, want.grad!), `${nc.name} ∇θ`).toBeLessThan(TOL.grad);
      } finally {
        obj.dispose();
        model.release(ds);
        model.dispose();
      }
    }
  });
});

describe('bad input', () => {
  const spec: NetworkSpec = { layers: [6, 3, 6], activation: 'sigmoid', autoencoder: true };
  const X: Matrix = { rows: 5, cols: 6, data: Float64Array.from({ length: 30 }, (_, i) => (i === 3 * 6 + 4 ? 1e5 : 0.5)) };

  it('a value that overflows a half is refused, naming it and its place (both backends); f32 takes it', async () => {
    for (const backend of ['webgpu', 'cpu'] as const) {
      const model = await createModel(spec, { backend, seed: 1 });
      try {
        expect(() => model.dataset(X, undefined, { dataPrecision: 'f16' }), backend).toThrow(SpecError);
        expect(() => model.dataset(X, undefined, { dataPrecision: 'f16' }), backend).toThrow(/X\[3\]\[4\] = 100000 overflows half precision/);
        model.release(model.dataset(X));
      } finally {
        model.dispose();
      }
    }
  });

  it('an unknown precision is refused by name (dataset, fit, run config); f16 with streaming or a made data set is refused', async () => {
    const ok: Matrix = { ...X, data: X.data.map(() => 0.25) };
    const model = await createModel(spec, { backend: 'webgpu', seed: 1 });
    try {
      expect(() => model.dataset(ok, undefined, { dataPrecision: 'bf16' as 'f16' })).toThrow(/dataPrecision must be 'f32' or 'f16', got "bf16"/);
      await expect(fit(model, { X: ok }, { dataPrecision: 'fp8' as 'f16' })).rejects.toThrow(/"fp8"/);
      // 5×6 halves are 60 bytes: over a cap of 50 it would stream, and streaming is float32.
      expect(() => model.dataset(ok, undefined, { dataPrecision: 'f16', maxDataBytes: 50 })).toThrow(/60 bytes as f16, over maxDataBytes \(50\)/);
      const ds = model.dataset(ok, undefined, { dataPrecision: 'f16', maxDataBytes: 60 });
      expect(ds.location).toBe('gpu');
      await expect(fit(model, ds, { dataPrecision: 'f16' })).rejects.toThrow(/a data set already made keeps its precision/);
      model.release(ds);
    } finally {
      model.dispose();
    }
    const config = { network: { layers: [784, 10, 784], activation: 'sigmoid', autoencoder: true }, data: { source: 'mnist' }, optimizer: { method: 'lbfgs' } };
    expect(() => checkConfig({ ...config, dataPrecision: 'half' })).toThrow(/dataPrecision must be 'f32' or 'f16', got "half"/);
    expect(checkConfig({ ...config, dataPrecision: 'f16' }).dataPrecision).toBe('f16');
  });
});

describe('fit with dataPrecision f16', () => {
  it('trains (J decreases) and the data buffers take half the bytes', async () => {
    const spec: NetworkSpec = { layers: [32, 8, 32], activation: 'sigmoid', autoencoder: true, lambda: 1e-4 };
    const rng = new Rng(9);
    const X = uniformMatrix(rng, 64, 32);
    const model = await createModel(spec, { backend: 'webgpu', seed: 2 });
    const gm = model as unknown as { poolStats(): { liveBytes: number } };
    try {
      const before = gm.poolStats().liveBytes;
      const d32 = model.dataset(X);
      const bytes32 = gm.poolStats().liveBytes - before;
      model.release(d32);
      const d16 = model.dataset(X, undefined, { dataPrecision: 'f16' }) as GpuDataset;
      const bytes16 = gm.poolStats().liveBytes - before;
      expect(bytes32).toBe(64 * 32 * 4);
      expect(bytes16).toBe(bytes32 / 2);
      expect(d16.chunks[0]!.X.size).toBe(64 * 32 * 2);
      model.release(d16);
      const r = await fit(model, { X }, { dataPrecision: 'f16', optimizer: { method: 'adam', learningRate: 0.05, batchSize: 16, epochs: 8, seed: 1, costEvery: 1 } });
      expect(r.curve.length).toBeGreaterThan(2);
      expect(r.cost).toBeLessThan(r.curve[0]!.y * 0.9);
    } finally {
      model.dispose();
    }
  });

  it('the CPU backend holds the rounded values', async () => {
    const spec: NetworkSpec = { layers: [6, 3, 6], activation: 'sigmoid', autoencoder: true };
    const X = uniformMatrix(new Rng(2), 5, 6);
    const model = await createModel(spec, { backend: 'cpu', seed: 1 });
    const ds = model.dataset(X, undefined, { dataPrecision: 'f16' }) as unknown as { X: Matrix };
    expect(Array.from(ds.X.data)).toEqual(Array.from(X.data, roundF16));
    model.dispose();
  });
});

describe('wgnn train --data-precision f16', () => {
  it('stores the set as halves in fewer buffers, and ends within the f16-vs-f32 tolerance of the f32 run', async () => {
    // 40 digits × 784 pixels; bindings of 50 176 bytes: f32 in 3 buffers (16 rows), f16 in 2 (32 rows = 2 evaluation chunks of 16).
    const base = mkdtempSync(join(tmpdir(), 'wgnn-f16-'));
    const cfg: TrainConfig = {
      ...MAIN_JOB, name: 'f16', network: { ...MAIN_JOB.network!, layers: [784, 4, 784] }, data: { source: 'mnist', limit: 40 },
      optimizer: { method: 'adam', learningRate: 0.01, batchSize: 10, epochs: 2, seed: 3 }, costEvery: 1, checkpointEvery: 0, maxBindingBytes: 50176,
    };
    const cfgPath = join(base, 'cfg.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const runs: Record<string, { summary: { finalCost: number; config: { dataPrecision?: string } }; log: string }> = {};
    for (const [name, flags] of [['f32', []], ['f16', ['--data-precision', 'f16']]] as const) {
      const c = capture();
      const code = await main(['train', '--config', cfgPath, '--out', join(base, name), ...flags], c.io);
      expect(code, c.err.join('')).toBe(0);
      runs[name] = { summary: JSON.parse(readFileSync(join(base, name, 'summary.json'), 'utf8')), log: c.err.join('') };
    }
    expect(runs.f16!.summary.config.dataPrecision).toBe('f16');
    expect(runs.f16!.log).toMatch(/training set stored as f16 on the GPU in 2 buffers per matrix/);
    expect(runs.f32!.log).not.toMatch(/stored as f16/);
    const rel = Math.abs(runs.f16!.summary.finalCost - runs.f32!.summary.finalCost) / runs.f32!.summary.finalCost;
    console.log(`wgnn train, 40 digits: |J16 − J32| / J32 = ${rel.toExponential(2)}`);
    expect(rel).toBeLessThan(F16_VS_F32);
    const c = capture();
    expect(await main(['train', '--data-precision', 'f8', '--quiet'], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/data-precision/);
  }, 300_000);
});
