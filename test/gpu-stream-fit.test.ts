// Streaming through the public training API (issue 12 §3): fit(model, data,
// { maxDataBytes }) and `wgnn train` with maxDataBytes keep a training set over
// the cap in host memory and stream mini-batches, bitwise the resident run (θ,
// loss curve, final full-data cost streamed chunk by chunk); full-batch methods
// (L-BFGS, CG, GD) stream the whole set chunk by chunk in every evaluation, also
// bitwise the resident run chunked alike; bad caps are refused with the values named.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import type { Model } from '../src/model-contract.js';
import { fit, type FitOptions } from '../src/fit.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import { type Matrix } from '../src/matrix.js';
import { main } from '../src/cli/main.js';
import { checkConfig, type TrainConfig } from '../src/train/config.js';
import { train } from '../src/train/run.js';
import { MAIN_JOB } from '../src/train/defaults.js';
import type { GpuObjective } from '../src/gpu/objective.js';
import { gpu } from './helpers/gpu.js';
import { capture } from './helpers/io.js';

const aeSpec: NetworkSpec = { layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
const regSpec: NetworkSpec = { layers: [6, 4, 3], activation: ['tanh', 'identity'], lambda: 1e-3 };

function uniform(m: number, n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { rows: m, cols: n, data: Float64Array.from({ length: m * n }, () => rng.uniform()) };
}

async function gpuModel(spec: NetworkSpec, maxChunkRows?: number): Promise<Model> {
  const parameters = Float64Array.from(Float32Array.from(initParameters(resolveSpec(spec), { seed: 5 })));
  return createModel(spec, { backend: 'webgpu', parameters, device: (await gpu()).device, gemmVariant: 'unrolled-4x4', ...(maxChunkRows ? { maxChunkRows } : {}) });
}

async function fitRun(spec: NetworkSpec, data: { X: Matrix; Y?: Matrix }, opts: FitOptions, maxChunkRows?: number) {
  const m = await gpuModel(spec, maxChunkRows);
  // Whether fit's objective streamed (GpuObjective.streaming).
  let streaming: boolean | null = null;
  const objective = m.objective.bind(m);
  m.objective = (ds, o) => {
    const obj = objective(ds, o) as GpuObjective;
    streaming = obj.streaming;
    return obj;
  };
  try {
    const r = await fit(m, data, opts);
    const after = await m.cost(data.X, data.Y, { gradient: false });
    return { r, theta: await m.readParameters(), after, streaming };
  } finally {
    m.dispose();
  }
}

describe('fit with maxDataBytes', () => {
  it('Adam, sparse autoencoder over several chunks: bitwise the resident θ, curve and final full-data cost', async () => {
    const X = uniform(40, 12, 7);
    const opts: FitOptions = { optimizer: { method: 'adam', learningRate: 0.01, batchSize: 7, epochs: 2, seed: 5 }, costEvery: 2 };
    // 6 rows a chunk: the resident set is 7 buffers; the streamed final cost uploads the same 7 chunks one at a time (ρ̂ pass included).
    const resident = await fitRun(aeSpec, { X }, opts, 6);
    const streamed = await fitRun(aeSpec, { X }, { ...opts, maxDataBytes: 1000 }, 6);
    expect([resident.streaming, streamed.streaming]).toEqual([false, true]);
    expect(Array.from(streamed.theta)).toEqual(Array.from(resident.theta));
    expect(streamed.r.curve).toEqual(resident.r.curve);
    expect(streamed.r.cost).toBe(resident.r.cost);
    expect(streamed.r.parts).toEqual(resident.r.parts);
    expect(streamed.r.rhoHatMean).toBe(resident.r.rhoHatMean);
    // model.cost streams its chunks too: bitwise the resident objective's one-submit full cost.
    expect(resident.after.cost).toBe(resident.r.cost);
    expect(streamed.after.cost).toBe(resident.r.cost);
  }, 240_000);

  it('momentum with targets and a validation set: bitwise the resident run', async () => {
    const X = uniform(23, 6, 3);
    const Y = uniform(23, 3, 4);
    const opts: FitOptions = { optimizer: { method: 'momentum', learningRate: 0.05, momentum: 0.9, batchSize: 5, epochs: 2, seed: 9 }, validation: { X: uniform(9, 6, 8), Y: uniform(9, 3, 9) } };
    // A cap of 1 byte streams one example at a time; the resident set is in 1-row chunks alike.
    const resident = await fitRun(regSpec, { X, Y }, opts, 1);
    const streamed = await fitRun(regSpec, { X, Y }, { ...opts, maxDataBytes: 1 }, 1);
    expect([resident.streaming, streamed.streaming]).toEqual([false, true]);
    expect(Array.from(streamed.theta)).toEqual(Array.from(resident.theta));
    expect(streamed.r.cost).toBe(resident.r.cost);
    expect(streamed.r.validation).toEqual(resident.r.validation);
  }, 240_000);

  it('L-BFGS, CG and GD over the cap stream the whole set chunk by chunk in every evaluation: bitwise the resident run chunked alike', async () => {
    // 11 examples × 12 features × 4 bytes = 528 bytes; a cap of 100 bytes holds 2 examples,
    // so every evaluation uploads 6 chunks one at a time. The resident run has chunks of 2 rows too.
    const X = uniform(11, 12, 1);
    for (const [optimizer, iterations] of [
      [{ method: 'lbfgs', maxIterations: 6, optTol: 0, progTol: 0 }, 6],
      // CG with one trial per round trip: speculation (the resident default) moves θ by float32 steps.
      [{ method: 'cg', maxIterations: 6, optTol: 0, progTol: 0, speculate: 1 }, 6],
      [{ method: 'gd', learningRate: 0.5, iterations: 5 }, 5],
    ] as const) {
      const opts: FitOptions = { optimizer };
      const resident = await fitRun(aeSpec, { X }, opts, 2);
      const streamed = await fitRun(aeSpec, { X }, { ...opts, maxDataBytes: 100 }, 2);
      expect([resident.streaming, streamed.streaming], optimizer.method).toEqual([false, true]);
      expect(streamed.r.iterations, optimizer.method).toBe(iterations);
      expect(Array.from(streamed.theta), optimizer.method).toEqual(Array.from(resident.theta));
      expect(streamed.r.curve, optimizer.method).toEqual(resident.r.curve);
      expect(streamed.r.cost, optimizer.method).toBe(resident.r.cost);
      expect(streamed.r.cost, optimizer.method).toBeLessThan(resident.r.curve[0]!.y);
    }
    // CG with its default speculation over a streamed set: one trial per round trip, the same search.
    const cg = await fitRun(aeSpec, { X }, { optimizer: { method: 'cg', maxIterations: 6, optTol: 0, progTol: 0 }, maxDataBytes: 100 }, 2);
    expect(cg.r.iterations).toBe(6);
  }, 240_000);

  it('refuses bad caps and a cap with a data set already made; the CPU backend ignores it', async () => {
    const X = uniform(10, 12, 1);
    const g = await gpuModel(aeSpec);
    try {
      for (const bad of [0, -5, 1.5, Number.NaN]) {
        await expect(fit(g, { X }, { optimizer: { method: 'adam' }, maxDataBytes: bad })).rejects.toThrow(/maxDataBytes must be a positive integer number of bytes/);
      }
      await expect(fit(g, g.dataset(X), { optimizer: { method: 'adam' }, maxDataBytes: 100 })).rejects.toThrow(/maxDataBytes \(100\) applies to matrices/);
      // Under the cap: resident, and L-BFGS runs.
      const r = await fit(g, { X }, { optimizer: { method: 'lbfgs', maxIterations: 2 }, maxDataBytes: 480 });
      expect(r.iterations).toBe(2);
      // A streamed set cannot feed encodeDataset (it lives in host memory).
      await expect(g.encodeDataset(g.dataset(X, undefined, { maxDataBytes: 100 }))).rejects.toThrow(/kept in host memory \(480 bytes as float32, over maxDataBytes 100\)/);
    } finally {
      g.dispose();
    }
    const cpu = await createModel(aeSpec, { backend: 'cpu', seed: 1 });
    const r = await fit(cpu, { X }, { optimizer: { method: 'lbfgs', maxIterations: 2 }, maxDataBytes: 100 });
    expect(r.iterations).toBe(2);
    await expect(fit(cpu, { X }, { maxDataBytes: 0 })).rejects.toThrow(/maxDataBytes must be a positive integer/);
  }, 240_000);
});

// 40 digits × 784 pixels = 125 440 bytes as float32. A 784-4-784 net (θ 28 240 bytes) with
// bindings capped at 16 rows (50 176 bytes): the resident set is 3 buffers, the final cost 3 chunks.
const tiny = (out: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  ...MAIN_JOB,
  name: 'stream',
  network: { ...MAIN_JOB.network!, layers: [784, 4, 784] },
  data: { source: 'mnist', limit: 40 },
  optimizer: { method: 'adam', learningRate: 0.01, batchSize: 10, epochs: 2, seed: 3 },
  costEvery: 1,
  checkpointEvery: 0,
  maxBindingBytes: 50176,
  output: out,
  ...extra,
});

describe('wgnn train with maxDataBytes', () => {
  it('streamed (config key and --max-data-bytes) gives bitwise the resident model file and summary figures', async () => {
    const base = mkdtempSync(join(tmpdir(), 'wgnn-stream-'));
    const cfgPath = join(base, 'cfg.json');
    writeFileSync(cfgPath, JSON.stringify(tiny(join(base, 'unused'))));
    const runs: Record<string, { model: Buffer; summary: Record<string, unknown>; log: string }> = {};
    for (const [name, flags] of [['resident', []], ['streamed', ['--max-data-bytes', '100000']]] as const) {
      const dir = join(base, name);
      const c = capture();
      const code = await main(['train', '--config', cfgPath, '--out', dir, '--quiet', ...flags], c.io);
      expect(code, c.err.join('')).toBe(0);
      runs[name] = { model: readFileSync(join(dir, 'model.safetensors')), summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), log: c.err.join('') };
    }
    const [a, b] = [runs.resident!, runs.streamed!];
    expect(b.summary.config).toMatchObject({ maxDataBytes: 100000 });
    expect(b.summary.streamed).toEqual({ bytes: 125440, cap: 100000 });
    expect(a.summary.streamed).toBeUndefined();
    expect(b.model.equals(a.model)).toBe(true);
    for (const k of ['finalCost', 'costParts', 'rhoHatMean', 'rhoHatMax', 'iterations', 'evaluations', 'testReconstructionError']) expect(b.summary[k], k).toEqual(a.summary[k]);
    expect(a.summary.finalCost).toBeGreaterThan(0);
    // The same through the config key, without the CLI.
    const viaKey = await train(tiny(join(base, 'key'), { maxDataBytes: 100000 }));
    expect(viaKey.summary.finalCost).toBe(a.summary.finalCost);
    expect(readFileSync(join(base, 'key', 'model.safetensors')).equals(a.model)).toBe(true);
  }, 600_000);

  it('L-BFGS over the cap streams every evaluation (bitwise the resident run); bad or misplaced maxDataBytes in the schema are refused', async () => {
    const base = mkdtempSync(join(tmpdir(), 'wgnn-stream-'));
    // 100 000 bytes hold 31 digits; the bindings (16 rows) chunk both runs alike.
    const lbfgs = { optimizer: { method: 'lbfgs' as const, maxIterations: 3 } };
    const resident = await train(tiny(join(base, 'lbfgs-resident'), lbfgs));
    const streamed = await train(tiny(join(base, 'lbfgs-streamed'), { ...lbfgs, maxDataBytes: 100000 }));
    expect(streamed.summary.streamed).toEqual({ bytes: 125440, cap: 100000 });
    for (const k of ['finalCost', 'costParts', 'iterations', 'evaluations'] as const) expect(streamed.summary[k], k).toEqual(resident.summary[k]);
    expect(readFileSync(join(base, 'lbfgs-streamed', 'model.safetensors')).equals(readFileSync(join(base, 'lbfgs-resident', 'model.safetensors')))).toBe(true);
    const out = join(base, 'refused');
    for (const bad of [0, -1, 2.5, '1000']) {
      expect(() => checkConfig(tiny(out, { maxDataBytes: bad as number }))).toThrow(/maxDataBytes/);
    }
    expect(() => checkConfig(tiny(out, { maxDataBytes: 0 }))).toThrow(/maxDataBytes must be a positive integer number of bytes, got 0/);
    expect(() => checkConfig({ ...tiny(out), network: undefined, optimizer: undefined, data: { source: 'mnist' }, stacked: { autoencoders: [{ hidden: 4, optimizer: { method: 'adam' } }], softmax: { optimizer: { method: 'adam' } } }, maxDataBytes: 1000 })).toThrow(/maxDataBytes applies to single-network runs/);
    // The documented Fashion-MNIST example is a valid configuration.
    expect(checkConfig(JSON.parse(readFileSync('examples/fashion-autoencoder.json', 'utf8'))).optimizer!.method).toBe('adam');
    const c = capture();
    expect(await main(['train', '--max-data-bytes', '0', '--quiet'], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/max-data-bytes/);
  }, 120_000);
});
