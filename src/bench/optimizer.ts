// `wgnn bench lbfgs|cg|adam`: round trips per iteration of a training run on
// the UFLDL sparse-autoencoder exercise's problem (64-25-64, sigmoid,
// λ = 1e-4, ρ = 0.01, β = 3, 10 000 8×8 patches), and its wall time with a
// readback latency injected (GpuModelOptions.readbackLatencyMs), as a browser's
// mapAsync adds 5–15 ms to every readback (gpuweb/gpuweb#4432).
//
// The patches are synthetic and seeded (sums of random gratings plus noise,
// scaled to [0.1, 0.9] as UFLDL does): the figures measured here (readbacks,
// submits and dispatches per iteration, time) do not depend on the pictures.
// Submits and dispatches are counted by wrapping the device's queue.submit
// and compute passes' dispatchWorkgroups for the duration of the timed run.

import type { GpuContext } from '../gpu/device.js';
import { createGpuModel } from '../gpu/model.js';
import { GpuObjective } from '../gpu/objective.js';
import { initParameters } from '../params.js';
import { Rng } from '../prng.js';
import { resolveSpec, type Network, type NetworkSpec } from '../spec.js';
import { matrix, type Matrix } from '../matrix.js';
import { optimize, type OptimizerOptions } from '../optim/optimize.js';
import type { CgOptions } from '../optim/cg.js';
import { benchMeta, type BenchMeta } from './common.js';

export type OptimizerBenchMethod = 'lbfgs' | 'cg' | 'adam';

export interface OptimizerBenchOptions {
  method: OptimizerBenchMethod;
  /** Training patches (default 10 000). */
  patches?: number;
  /** Timed iterations (default: L-BFGS and CG 20, Adam 200 steps). */
  iterations?: number;
  /** Injected readback latencies in ms, one timed run each (default [0, 10]). */
  latencies?: number[];
  /** Adam: examples per step (default 100). */
  batchSize?: number;
  /** Adam: a cost reading every this many steps (default 5). */
  costEvery?: number;
  /** Adam: readings in flight (default 4; 0 waits for each, as before issue 12). */
  costsInFlight?: number;
  /** CG: the first-step rule (CgOptions.initialStep; default 'previous'). */
  initialStep?: CgOptions['initialStep'];
  /** CG: line-search trials per round trip (CgOptions.speculate; default 3). */
  speculate?: number;
  /** CG: skip the speculated trials the search does not need (GpuObjective.gateTrials; default true). */
  gateTrials?: boolean;
  log?: (line: string) => void;
}

export interface OptimizerBenchRun {
  latencyMs: number;
  iterations: number;
  evaluations: number;
  seconds: number;
  readbacksPerIteration: number;
  submitsPerIteration: number | null;
  dispatchesPerIteration: number | null;
  /** Cost-and-gradient evaluations the device ran (GpuObjective.deviceEvaluations): `evaluations` plus the speculated trials the search did not use. */
  deviceEvaluations: number;
  finalCost: number | null;
}

export interface OptimizerBenchResult extends BenchMeta {
  bench: 'optimizer';
  method: OptimizerBenchMethod;
  config: { layers: number[]; patches: number; iterations: number; batchSize: number | null; costEvery: number | null; costsInFlight: number | null };
  runs: OptimizerBenchRun[];
  /** seconds(latency) / seconds(0) for each run with latency > 0 (needs a run at 0). */
  slowdown: { latencyMs: number; ratio: number }[];
  notes: string[];
}

/** UFLDL's sparse autoencoder exercise: 64-25-64, sigmoid, λ = 1e-4, ρ = 0.01, β = 3. */
export const UFLDL_NETWORK: NetworkSpec = { layers: [64, 25, 64], activation: 'sigmoid', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } };

/** Seeded synthetic 8×8 patches in [0.1, 0.9]: a few random gratings plus noise per patch. */
export function syntheticPatches(count: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float64Array(count * 64);
  for (let p = 0; p < count; p++) {
    const row = data.subarray(p * 64, (p + 1) * 64);
    for (let g = 0; g < 3; g++) {
      const angle = rng.uniform() * Math.PI;
      const freq = 0.2 + rng.uniform() * 1.2;
      const phase = rng.uniform() * 2 * Math.PI;
      const amp = rng.normal();
      const [cx, cy] = [Math.cos(angle) * freq, Math.sin(angle) * freq];
      for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) row[r * 8 + c] += amp * Math.cos(cx * c + cy * r + phase);
    }
    for (let i = 0; i < 64; i++) row[i] += 0.3 * rng.normal();
    // UFLDL's normalization: remove the patch mean, clip to ±3 standard deviations, map to [0.1, 0.9].
    let mean = 0;
    for (let i = 0; i < 64; i++) mean += row[i]!;
    mean /= 64;
    for (let i = 0; i < 64; i++) row[i] -= mean;
  }
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += data[i]! * data[i]!;
  const s3 = 3 * Math.sqrt(sq / data.length);
  for (let i = 0; i < data.length; i++) data[i] = ((Math.max(-s3, Math.min(s3, data[i]!)) / s3 + 1) * 0.4) + 0.1;
  return matrix(count, 64, data);
}

/** Counts queue submits and compute dispatches on `device` until `stop()` (null: the device objects could not be wrapped). */
export function instrument(device: GPUDevice): { submits: number; dispatches: number; stop(): void } | null {
  const queue = device.queue;
  const origSubmit = queue.submit;
  const origEncoder = device.createCommandEncoder;
  const c = {
    submits: 0,
    dispatches: 0,
    stop(): void {
      queue.submit = origSubmit;
      device.createCommandEncoder = origEncoder;
    },
  };
  try {
    queue.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
      c.submits++;
      return origSubmit.call(queue, buffers);
    };
    device.createCommandEncoder = function (this: GPUDevice, desc?: GPUCommandEncoderDescriptor) {
      const enc = origEncoder.call(device, desc);
      const origPass = enc.beginComputePass;
      enc.beginComputePass = function (d?: GPUComputePassDescriptor) {
        const pass = origPass.call(enc, d);
        const origDispatch = pass.dispatchWorkgroups;
        pass.dispatchWorkgroups = function (x: number, y?: number, z?: number) {
          c.dispatches++;
          return origDispatch.call(pass, x, y, z);
        };
        // Indirect dispatches count as recorded (a gated trial's may do no work).
        const origIndirect = pass.dispatchWorkgroupsIndirect;
        pass.dispatchWorkgroupsIndirect = function (buffer: GPUBuffer, offset: number) {
          c.dispatches++;
          return origIndirect.call(pass, buffer, offset);
        };
        return pass;
      };
      return enc;
    };
    if (device.queue.submit === origSubmit) throw new Error('not writable');
    return c;
  } catch {
    c.stop();
    return null;
  }
}

function optimizerOptions(o: Required<Pick<OptimizerBenchOptions, 'method'>> & { iterations: number; batchSize: number; costEvery: number; costsInFlight: number; initialStep?: CgOptions['initialStep']; speculate?: number }): OptimizerOptions {
  if (o.method === 'adam') {
    return { method: 'adam', learningRate: 0.01, batchSize: o.batchSize, iterations: o.iterations, epochs: Infinity, costEvery: o.costEvery, costsInFlight: o.costsInFlight, seed: 1 };
  }
  // No early stop: every run makes exactly `iterations` iterations.
  const fullBatch = { maxIterations: o.iterations, optTol: 0, progTol: 0 };
  return o.method === 'cg' ? { method: 'cg', ...fullBatch, initialStep: o.initialStep, speculate: o.speculate } : { method: o.method, ...fullBatch };
}

export async function benchOptimizer(ctx: GpuContext, opts: OptimizerBenchOptions): Promise<OptimizerBenchResult> {
  const log = opts.log ?? (() => {});
  const method = opts.method;
  const patches = opts.patches ?? 10_000;
  const iterations = opts.iterations ?? (method === 'adam' ? 200 : 20);
  const latencies = opts.latencies ?? [0, 10];
  const batchSize = opts.batchSize ?? 100;
  const costEvery = opts.costEvery ?? 5;
  const costsInFlight = opts.costsInFlight ?? 4;
  for (const [k, v] of [['patches', patches], ['iterations', iterations], ['batchSize', batchSize], ['costEvery', costEvery]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(costsInFlight) || costsInFlight < 0) throw new RangeError(`costsInFlight must be an integer ≥ 0, got ${costsInFlight}`);
  if (!latencies.length || latencies.some((l) => !(l >= 0 && Number.isFinite(l)))) throw new RangeError(`latencies must be finite numbers ≥ 0, got ${latencies.join(', ')}`);
  const meta = await benchMeta(ctx);
  const net: Network = resolveSpec(UFLDL_NETWORK);
  const X = syntheticPatches(patches, 12);
  const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 1 })));
  if (opts.initialStep !== undefined && method !== 'cg') throw new RangeError(`initialStep applies to cg only, not ${method}`);
  if (opts.speculate !== undefined && method !== 'cg') throw new RangeError(`speculate applies to cg only, not ${method}`);
  if (opts.gateTrials !== undefined && method !== 'cg') throw new RangeError(`gateTrials applies to cg only, not ${method}`);
  const o = optimizerOptions({ method, iterations, batchSize, costEvery, costsInFlight, initialStep: opts.initialStep, speculate: opts.speculate });
  const warm = optimizerOptions({ method, iterations: method === 'adam' ? 2 * costEvery : 2, batchSize, costEvery, costsInFlight });
  const notes: string[] = [];
  if (opts.gateTrials === false) notes.push('every speculated line-search trial runs (--no-gate): the device evaluates trials the search does not use');
  const runs: OptimizerBenchRun[] = [];
  for (const latencyMs of latencies) {
    log(`${method}: ${patches} patches, ${iterations} iterations, readback latency ${latencyMs} ms`);
    // A caller-owned wrapper of the same device: disposing the model leaves the device alive.
    const model = await createGpuModel(net, theta0, ctx.device, { readbackLatencyMs: latencyMs });
    const obj = new GpuObjective(model, X);
    obj.gateTrials = opts.gateTrials ?? true;
    try {
      // Warm-up (pipelines, bind groups), then the timed run from θ₀ again.
      await optimize(obj, warm);
      await obj.ops.flush();
      model.setParameters(theta0);
      const reads0 = model.kernels.pool.readbacks;
      const device0 = obj.deviceEvaluations;
      const counter = instrument(ctx.device);
      if (!counter && runs.length === 0) notes.push('submits and dispatches not counted: the device objects could not be wrapped');
      const t0 = performance.now();
      let r;
      try {
        r = await optimize(obj, o);
        await obj.ops.flush();
      } finally {
        counter?.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      const it = Math.max(1, r.iterations);
      runs.push({
        latencyMs, iterations: r.iterations, evaluations: r.evaluations, deviceEvaluations: obj.deviceEvaluations - device0, seconds,
        readbacksPerIteration: (model.kernels.pool.readbacks - reads0) / it,
        submitsPerIteration: counter ? counter.submits / it : null,
        dispatchesPerIteration: counter ? counter.dispatches / it : null,
        finalCost: r.cost,
      });
    } finally {
      obj.dispose();
      model.dispose();
    }
  }
  const base = runs.find((r) => r.latencyMs === 0);
  const slowdown = base ? runs.filter((r) => r.latencyMs > 0).map((r) => ({ latencyMs: r.latencyMs, ratio: r.seconds / base.seconds })) : [];
  return {
    ...meta, bench: 'optimizer', method,
    config: { layers: [...UFLDL_NETWORK.layers], patches, iterations, batchSize: method === 'adam' ? batchSize : null, costEvery: method === 'adam' ? costEvery : null, costsInFlight: method === 'adam' ? costsInFlight : null },
    runs, slowdown, notes,
  };
}
