// The VAE trained end to end: a smoke test on both backends whose ELBO must improve
// by a margin a broken gradient does not reach, fresh ε per evaluation (and fixed
// for line searches), and a run folder whose summary.json `wgnn eval` reproduces.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { createModel } from '../src/model.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { optimize } from '../src/optim/optimize.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import { GpuObjective } from '../src/gpu/objective.js';
import type { GpuModel } from '../src/gpu/model.js';
import { train } from '../src/train/run.js';
import { gpu } from './helpers/gpu.js';

/** 96 binary 16-pixel patterns: 4 prototypes with 1-pixel flips (structure a 2-D code can learn). */
function patterns(): Matrix {
  const rng = new Rng(3);
  const protos = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => (rng.uniform() < 0.5 ? 1 : 0)));
  const m = 96;
  const data = new Float64Array(m * 16);
  for (let i = 0; i < m; i++) {
    const p = protos[i % 4]!;
    const flip = rng.int(16);
    for (let j = 0; j < 16; j++) data[i * 16 + j] = j === flip ? 1 - p[j]! : p[j]!;
  }
  return { rows: m, cols: 16, data };
}

const spec: NetworkSpec = { layers: [16, 12, 2, 12, 16], activation: ['tanh', 'identity', 'tanh', 'sigmoid'], loss: 'cross-entropy', vae: {} };
const adam = { method: 'adam', learningRate: 0.01, batchSize: 32, epochs: 60, seed: 1 } as const;

describe('VAE training', () => {
  it('CPU: Adam lowers the −ELBO from ≈ 12 nats to < 6.5; a gradient that does not cross z = μ + σε stays > 1 nat worse', async () => {
    const net = resolveSpec(spec);
    const X = patterns();
    const theta0 = initParameters(net, { init: 'glorot', seed: 1 });
    const before = (await (await createModel(net, { backend: 'cpu', parameters: theta0 })).evaluateVae(X, { samples: 0 })).negElbo;
    const objective = cpuNetworkObjective(net, theta0, X);
    await optimize(objective, adam);
    const m = await createModel(net, { backend: 'cpu', parameters: await objective.ops.read(objective.theta) });
    const after = await m.evaluateVae(X, { samples: 50 });
    expect(before).toBeGreaterThan(10);
    expect(after.negElbo).toBeLessThan(6.5);
    expect(after.nll!).toBeLessThan(after.negElbo);
    // A broken gradient that does not cross the reparameterization (no ∂J/∂θ for the encoder
    // trunk and heads) leaves the code uninformative and stays far above the trained bound.
    const broken = cpuNetworkObjective(net, theta0, X);
    const evalOf = broken.evaluate.bind(broken);
    const head = paramLayout(net).slots[1]!;
    broken.evaluate = async (o) => {
      const r = await evalOf(o);
      broken.grad.fill(0, 0, head.b + head.nOut);
      return r;
    };
    await optimize(broken, adam);
    const bm = await createModel(net, { backend: 'cpu', parameters: await broken.ops.read(broken.theta) });
    const b = await bm.evaluateVae(X, { samples: 50 });
    console.log(`−ELBO before ${before.toFixed(2)}, trained ${after.negElbo.toFixed(2)} (IWAE ${after.nll!.toFixed(2)}), encoder gradient dropped ${b.negElbo.toFixed(2)} (IWAE ${b.nll!.toFixed(2)})`);
    expect(b.nll!).toBeGreaterThan(after.nll! + 1);
  });

  it('ε continues on resume: evaluation n of a resumed objective draws what evaluation n of the first run drew', async () => {
    const net = resolveSpec(spec);
    const X = patterns();
    const theta = initParameters(net, { init: 'glorot', seed: 2 });
    const first = cpuNetworkObjective(net, theta, X);
    const costs: number[] = [];
    for (let n = 0; n < 4; n++) costs.push((await first.evaluate())!);
    expect(new Set(costs).size).toBe(4); // fresh ε each time, θ unchanged
    const resumed = cpuNetworkObjective(net, theta, X, undefined, { presentationsBefore: 3 });
    expect(await resumed.evaluate()).toBe(costs[3]);
    const fixed = cpuNetworkObjective(net, theta, X, undefined, { noise: 'fixed' });
    expect(await fixed.evaluate()).toBe(await fixed.evaluate());
  });

  it('GPU: the same training lowers the −ELBO as far; ε is fresh per evaluation, fixed for L-BFGS', async () => {
    const net = resolveSpec(spec);
    const X = patterns();
    const ctx = await gpu();
    const g = (await createModel(net, { backend: 'webgpu', device: ctx.device, init: 'glorot', seed: 1, gemmVariant: 'unrolled-4x4' })) as GpuModel;
    try {
      const fresh = new GpuObjective(g, X, undefined, { noise: 'fresh' });
      const c1 = await fresh.evaluate();
      const c2 = await fresh.evaluate();
      expect(c1).not.toBe(c2); // θ unchanged, ε redrawn
      fresh.dispose();
      const fixed = new GpuObjective(g, X, undefined, { noise: 'fixed' });
      expect(await fixed.evaluate()).toBe(await fixed.evaluate());
      fixed.dispose();
      const o = new GpuObjective(g, X);
      await optimize(o, adam);
      o.dispose();
      expect((await g.evaluateVae(X, { samples: 0 })).negElbo).toBeLessThan(7);
    } finally {
      g.dispose();
    }
  });
});

describe('wgnn gradcheck --spec', () => {
  it('checks a VAE spec from a JSON file (ε fixed): < 1e-9; refuses network flags beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgnn-spec-'));
    try {
      const file = join(dir, 'vae.json');
      writeFileSync(file, JSON.stringify({ network: { ...spec, lambda: 1e-3 } }));
      let text = '';
      const code = await main(['gradcheck', '--spec', file, '--batch', '4', '--epsilon', '1e-5', '--json'], { stdout: (t) => void (text += t), stderr: () => {} });
      expect(code).toBe(0);
      const r = JSON.parse(text);
      expect(r.layers).toEqual([16, 12, 2, 12, 16]);
      expect(r.maxRelDiff).toBeLessThan(1e-9);
      let err = '';
      expect(await main(['gradcheck', '--spec', file, '--layers', '4,2,4'], { stdout: () => {}, stderr: (t) => void (err += t) })).toBe(1);
      expect(err).toMatch(/--spec gives the whole network; drop --layers/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a VAE run folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgnn-vae-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes samples, manifold and latent pictures; wgnn eval reproduces summary.json', async () => {
    const out = join(dir, 'run');
    // One GEMM variant: timing every variant for each new shape would dominate this small run.
    const saved = process.env.WEBGPU_NN_GEMM;
    process.env.WEBGPU_NN_GEMM = 'unrolled-4x4';
    try {
      await trainAndEval(out);
    } finally {
      if (saved === undefined) delete process.env.WEBGPU_NN_GEMM;
      else process.env.WEBGPU_NN_GEMM = saved;
    }
  }, 400_000);
});

async function trainAndEval(out: string): Promise<void> {
  {
    const { summary } = await train({
      name: 'vae-smoke', output: out, seed: 1, init: 'glorot', backend: 'webgpu', checkpointEvery: 0,
      network: { layers: [784, 16, 2, 16, 784], activation: ['relu', 'identity', 'relu', 'sigmoid'], loss: 'cross-entropy', vae: {} },
      data: { source: 'mnist', limit: 120, testFraction: 0.02 },
      optimizer: { method: 'adam', learningRate: 0.003, batchSize: 40, epochs: 2, seed: 1 },
      vaeEval: { samples: 4, seed: 9 },
    });
    for (const f of ['samples.png', 'manifold.png', 'latent.png', 'reconstructions.png', 'model.safetensors']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(summary.testNegElbo).toBeGreaterThan(50);
    expect(summary.testNll).toBeLessThan(summary.testNegElbo! + 1);
    expect(summary.costParts.kl).toBeGreaterThan(0);
    let text = '';
    const code = await main(['eval', '--model', out, '--json'], { stdout: (t) => void (text += t), stderr: () => {} });
    expect(code).toBe(0);
    const e = JSON.parse(text);
    expect(e.testNegElbo).toBe(summary.testNegElbo);
    expect(e.testNll).toBe(summary.testNll);
    expect(e.importanceSamples).toBe(4);
    expect(JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')).testNll).toBe(summary.testNll);
  }
}
