// The training worker's host (src/worker/host.ts) driven in Node on a Dawn
// device, as a page drives it through postMessage: live learning-rate changes
// continue the optimizer exactly (same iterates as a step schedule), divergence
// stops training with a message, method and batch-size changes keep the step
// count, and the inputs that excite a unit most are sorted.
import { afterAll, describe, expect, it } from 'vitest';
import { GpuObjective } from '../src/gpu/objective.js';
import { createModel } from '../src/model.js';
import type { GpuModel } from '../src/gpu/model.js';
import { Rng } from '../src/prng.js';
import type { NetworkSpec } from '../src/spec.js';
import { optimize } from '../src/optim/optimize.js';
import { TrainerHost } from '../src/worker/host.js';
import type { BuildRequest, TrainerEvent, TrainerRequest } from '../src/worker/protocol.js';
import { gpu, relNormDiff } from './helpers/gpu.js';

const spec: NetworkSpec = { layers: [16, 6, 16], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };

function data(rows: number, seed: number): { rows: number; cols: number; data: Float32Array } {
  const rng = new Rng(seed);
  return { rows, cols: 16, data: Float32Array.from({ length: rows * 16 }, () => rng.uniform()) };
}
const X = data(60, 5);
const heldOut = data(20, 6);

class Driver {
  events: TrainerEvent[] = [];
  private waiters: (() => void)[] = [];
  private id = 1;
  readonly host: TrainerHost;
  constructor() {
    this.host = new TrainerHost({
      post: (e) => {
        this.events.push(e);
        this.waiters.splice(0).forEach((w) => w());
      },
      device: async () => (await gpu()).device,
    });
  }
  async until<T extends TrainerEvent>(pred: (e: TrainerEvent) => e is T, from = 0, ms = 30_000): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const hit = this.events.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() - t0 > ms) throw new Error(`timed out; last events: ${JSON.stringify(this.events.slice(-3))}`);
      await new Promise<void>((ok) => {
        this.waiters.push(ok);
        setTimeout(ok, 200);
      });
    }
  }
  async call(make: (id: number) => TrainerRequest): Promise<unknown> {
    const id = this.id++;
    const from = this.events.length;
    this.host.handle(make(id));
    const r = await this.until((e): e is Extract<TrainerEvent, { type: 'reply' }> => e.type === 'reply' && e.id === id, from);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  }
  /** Sends `n` step requests and waits until the step count reaches `target`. */
  async steps(n: number, target: number): Promise<void> {
    for (let i = 0; i < n; i++) this.host.handle({ type: 'step' });
    await this.until((e): e is TrainerEvent => e.type === 'progress' && e.step === target && e.state === 'paused');
  }
}

const drivers: Driver[] = [];
afterAll(async () => {
  for (const d of drivers) await d.call((id) => ({ type: 'dispose', id }));
});

function request(over: Partial<BuildRequest> = {}): BuildRequest {
  return { mode: 'autoencoder', spec, X, heldOut, shown: 4, seed: 1, settings: { method: 'adam', learningRate: 0.01, batchSize: 20, costEvery: 1, heldOutEveryMs: 0 }, ...over };
}

describe('training worker host', () => {
  it('a live learning-rate change continues Adam exactly (as a step schedule would)', async () => {
    const d = new Driver();
    drivers.push(d);
    const info = (await d.call((id) => ({ type: 'build', id, request: request() }))) as { layers: number[]; steps: number };
    expect(info.layers).toEqual([16, 6, 16]);
    await d.steps(7, 7);
    await d.call((id) => ({ type: 'update', id, settings: { learningRate: 0.03 } }));
    await d.steps(6, 13);
    const got = (await d.call((id) => ({ type: 'parameters', id }))) as { theta: Float64Array; steps: number };
    expect(got.steps).toBe(13);

    // The same run in one optimize() call: lr 0.01 for 7 iterations, then 0.03 (a per-iteration step schedule).
    const ctx = await gpu();
    const model = (await createModel(spec, { backend: 'webgpu', device: ctx.device, seed: 1, init: 'ufldl' })) as GpuModel;
    const obj = new GpuObjective(model, X);
    await optimize(obj, { method: 'adam', learningRate: { type: 'step', lr: 0.01, gamma: 3, every: 7, per: 'iteration' }, batchSize: 20, seed: 1, iterations: 13 });
    const want = await model.readParameters();
    obj.dispose();
    model.dispose();
    expect(relNormDiff(got.theta, want)).toBeLessThan(1e-6);

    // Held-out cost, ρ̂ and reconstructions of the shown rows were posted.
    expect(d.events.some((e) => e.type === 'held-out' && Number.isFinite(e.reading.cost))).toBe(true);
    const rho = d.events.filter((e) => e.type === 'rho-hat').pop() as Extract<TrainerEvent, { type: 'rho-hat' }>;
    expect(rho.values.length).toBe(6);
    const rec = d.events.filter((e) => e.type === 'reconstructions').pop() as Extract<TrainerEvent, { type: 'reconstructions' }>;
    expect([rec.inputs.rows, rec.outputs.rows, rec.outputs.cols]).toEqual([4, 4, 16]);

    // The held-out rows that excite unit 2 most, in falling order.
    const top = (await d.call((id) => ({ type: 'top-inputs', id, unit: 2, count: 5 }))) as { rows: number[]; activations: number[] };
    expect(top.rows).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(top.activations[i]!).toBeLessThanOrEqual(top.activations[i - 1]!);
    await expect(d.call((id) => ({ type: 'top-inputs', id, unit: 6, count: 5 }))).rejects.toThrow(/unit must be an integer in 0 … 5, got 6/);
  }, 60_000);

  it('stops on a NaN cost and says at which step', async () => {
    const d = new Driver();
    drivers.push(d);
    await d.call((id) => ({ type: 'build', id, request: request({ settings: { method: 'sgd', learningRate: 1e6, batchSize: 20, costEvery: 1, heldOutEveryMs: 0 } }) }));
    d.host.handle({ type: 'start' });
    const div = await d.until((e): e is Extract<TrainerEvent, { type: 'diverged' }> => e.type === 'diverged');
    expect(Number.isFinite(div.value)).toBe(false);
    expect(div.step).toBeGreaterThan(0);
    expect(typeof div.weightsFinite).toBe('boolean');
    await new Promise((r) => setTimeout(r, 300));
    const last = d.events.filter((e) => e.type === 'progress').pop() as Extract<TrainerEvent, { type: 'progress' }>;
    expect(last.state).toBe('diverged');
    expect(last.step).toBe(div.step);
    await expect(d.call((id) => ({ type: 'update', id, settings: { learningRate: -1 } }))).rejects.toThrow(/learning rate must be a positive number, got -1/);
  }, 60_000);

  it('L-BFGS (full batch) takes the same iterates as optimize(), reporting evaluations and ‖∇J‖; switching to it from Adam keeps the step count', async () => {
    const d = new Driver();
    drivers.push(d);
    await d.call((id) => ({ type: 'build', id, request: request({ settings: { method: 'lbfgs', learningRate: 0.01, batchSize: 20, costEvery: 1, heldOutEveryMs: 0 } }) }));
    await d.steps(4, 4);
    const got = (await d.call((id) => ({ type: 'parameters', id }))) as { theta: Float64Array };
    const ctx = await gpu();
    const model = (await createModel(spec, { backend: 'webgpu', device: ctx.device, seed: 1, init: 'ufldl' })) as GpuModel;
    const obj = new GpuObjective(model, X, undefined, { noise: 'fixed' });
    await optimize(obj, { method: 'lbfgs', maxIterations: 4 });
    const want = await model.readParameters();
    obj.dispose();
    model.dispose();
    expect(relNormDiff(got.theta, want)).toBeLessThan(1e-6);
    const progress = d.events.filter((e): e is Extract<TrainerEvent, { type: 'progress' }> => e.type === 'progress' && !!e.lineSearch);
    const last = progress[progress.length - 1]!;
    expect(last.step).toBe(4);
    expect(last.lineSearch!.evaluations).toBeGreaterThanOrEqual(4);
    expect(last.lineSearch!.gradNorm).toBeGreaterThan(0);
    const costs = progress.filter((e) => e.cost).map((e) => e.cost!.cost);
    for (let i = 1; i < costs.length; i++) expect(costs[i]!).toBeLessThanOrEqual(costs[i - 1]!);

    // Adam for two steps, then L-BFGS: the step count goes on.
    await d.call((id) => ({ type: 'update', id, settings: { method: 'adam' } }));
    await d.steps(2, 6);
    await d.call((id) => ({ type: 'update', id, settings: { method: 'lbfgs' } }));
    await d.steps(1, 7);
  }, 60_000);

  it('keeps the step count through a change of method, batch size and λ (model rebuilt around θ)', async () => {
    const d = new Driver();
    drivers.push(d);
    await d.call((id) => ({ type: 'build', id, request: request({ steps: 100 }) }));
    await d.steps(2, 102);
    await d.call((id) => ({ type: 'update', id, settings: { batchSize: 7 } }));
    await d.steps(2, 104);
    await d.call((id) => ({ type: 'update', id, settings: { method: 'momentum' } }));
    await d.steps(2, 106);
    const before = (await d.call((id) => ({ type: 'parameters', id }))) as { theta: Float64Array };
    await d.call((id) => ({ type: 'update', id, spec: { ...spec, lambda: 0.01 } }));
    const after = (await d.call((id) => ({ type: 'parameters', id }))) as { theta: Float64Array; spec: NetworkSpec; steps: number };
    expect(after.spec.lambda).toBe(0.01);
    expect(relNormDiff(after.theta, before.theta)).toBe(0);
    await d.steps(1, 107);
    await expect(d.call((id) => ({ type: 'update', id, spec: { ...spec, layers: [16, 5, 16] } }))).rejects.toThrow(/architecture/);
  }, 60_000);
  it("mode 'vae': −ELBO parts (reconstruction, KL), samples from fixed seeds, the 2-D manifold and the held-out codes μ; modes checked", async () => {
    const vaeSpec: NetworkSpec = { layers: [16, 8, 2, 8, 16], activation: ['relu', 'identity', 'relu', 'sigmoid'], loss: 'cross-entropy', vae: { beta: 1, seed: 3 } };
    const d = new Driver();
    drivers.push(d);
    // The mode must match the network.
    await expect(d.call((id) => ({ type: 'build', id, request: request({ mode: 'vae' }) }))).rejects.toThrow(/mode "vae" needs a variational autoencoder/);
    await expect(d.call((id) => ({ type: 'build', id, request: request({ spec: vaeSpec }) }))).rejects.toThrow(/build it with mode "vae"/);
    await expect(d.call((id) => ({ type: 'build', id, request: request({ mode: 'vae', spec: vaeSpec, vae: { samples: 9, sampleSeed: 1, manifold: 99 } }) }))).rejects.toThrow(/vae\.manifold must be an integer in 0 … 32, got 99/);
    const from = d.events.length;
    await d.call((id) => ({ type: 'build', id, request: request({ mode: 'vae', spec: vaeSpec, vae: { samples: 9, sampleSeed: 5, manifold: 4 } }) }));
    type Pics = Extract<TrainerEvent, { type: 'vae-pictures' }>;
    const isPics = (e: TrainerEvent): e is Pics => e.type === 'vae-pictures';
    const first = await d.until(isPics, from);
    expect(first.samples.rows).toBe(9);
    expect(first.samples.cols).toBe(16);
    expect(first.manifold!.n).toBe(4);
    expect(first.manifold!.images.rows).toBe(16);
    expect(first.codes!.rows).toBe(heldOut.rows);
    expect(first.codes!.cols).toBe(2);
    for (const m of [first.samples, first.manifold!.images, first.codes!]) expect(Array.from(m.data).every(Number.isFinite)).toBe(true);
    const held0 = d.events.slice(from).find((e): e is Extract<TrainerEvent, { type: 'held-out' }> => e.type === 'held-out')!;
    expect(held0.reading.parts.kl).toBeGreaterThanOrEqual(0);
    // J = reconstruction + β·KL (β = 1, no weight decay).
    expect(held0.reading.cost).toBeCloseTo(held0.reading.parts.data + held0.reading.parts.kl!, 4);
    // The samples come from the same z every time: the decoder's change is the training's.
    const mark = d.events.length;
    await d.steps(3, 3);
    const again = await d.until((e): e is Pics => isPics(e) && e.step === 3, mark);
    const diff = Array.from(again.samples.data).reduce((a, v, i) => a + Math.abs(v - first.samples.data[i]!), 0);
    expect(diff).toBeGreaterThan(0);
    const trained = d.events.slice(mark).filter((e): e is Extract<TrainerEvent, { type: 'progress' }> => e.type === 'progress' && !!e.cost);
    expect(trained.length).toBeGreaterThan(0);
    expect(trained[0]!.cost!.parts.kl).toBeGreaterThanOrEqual(0);
    await expect(d.call((id) => ({ type: 'top-inputs', id, unit: 0, count: 3 }))).rejects.toThrow(/not for a variational autoencoder/);
  }, 60_000);
});
