// `wgnn bench gemm|step`: this engine against TF.js (webgpu on the same Dawn
// device, and wasm) in one process. Figures are reported, never asserted.
import { acquireDevice } from '../gpu/device.js';
import { GEMM_VARIANT_NAMES } from '../gpu/kernels.js';
import { CG_INITIAL_STEPS } from '../optim/cg.js';
import { benchGemm, benchOptimizer, benchStep, formatBenchTable, type BenchResult } from '../bench/index.js';
import { DATA_PRECISIONS } from '../f16.js';
import { parseArgs, UsageError } from './args.js';
import { profileCommand } from './bench-profile.js';
import type { CliIO } from './io.js';

export const benchUsage = `Usage: wgnn bench gemm [--sizes 256,512,1024] [--reps N] [--variant V] [--no-tfjs] [--json]
       wgnn bench step [--layers 784,200,784] [--batch 256] [--steps N] [--variant V] [--data-precision f32|f16] [--no-tfjs] [--no-wasm] [--no-cpu] [--json]
       wgnn bench step --profile [--layers …] [--batch N] [--variant V] [--data-precision f32|f16] [--reps N] [--cpu-timing] [--json]
       wgnn bench lbfgs|cg|adam [--patches 10000] [--iterations N] [--readback-latency MS[,MS…]] [--batch 100] [--cost-every 5] [--in-flight 4] [--initial-step previous|curvature|quadratic] [--speculate 3] [--no-gate] [--json]

gemm: GFLOP/s of C = A·B for n×n matrices, every GEMM variant of this engine
      (${GEMM_VARIANT_NAMES.join(', ')}) and TF.js webgpu's matMul on the same device.
step: samples/s of one sparse-autoencoder training step (cost, gradient, SGD
      update; sigmoid, ρ 0.1, β 3, λ 3e-3) for this engine, TF.js webgpu, TF.js
      wasm and the float64 CPU reference. --data-precision f16 stores this
      engine's examples as half floats (dataPrecision; the peers stay f32).
lbfgs, cg, adam: one training run of the UFLDL sparse autoencoder exercise
      (64-25-64, seeded synthetic 8×8 patches) per readback latency: readbacks,
      submits and dispatches per iteration and the wall time. --readback-latency
      adds MS milliseconds to every readback, as a browser's mapAsync does
      (default: runs at 0 and 10 ms; the slowdown column compares them).
      Iterations default to 20 (L-BFGS, CG) and 200 steps (Adam, with a cost
      reading every --cost-every steps, --in-flight of them in flight).
      --initial-step: CG's first-step rule (optimizer.initialStep).
      --speculate: CG's line-search trials per round trip (optimizer.speculate).
      --no-gate: run every speculated trial, also those the search turned out
      not to need (for comparison; by default trialgate.wgsl skips them).
TF.js comes from the devDependencies (@tensorflow/tfjs, -backend-webgpu, -backend-wasm).
Prints the adapter, the figures and the ratios (a table, or JSON with --json).
step --profile: GPU time of each kernel of one step and its share (timestamp
      queries; CPU-side timing per dispatch group where the adapter lacks them).
`;

export async function benchCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const what = argv[0];
  const a = parseArgs('bench', argv.slice(what && !what.startsWith('-') ? 1 : 0), {
    sizes: 'value', reps: 'value', variant: 'value', layers: 'value', batch: 'value', steps: 'value',
    patches: 'value', iterations: 'value', 'readback-latency': 'value', 'cost-every': 'value', 'in-flight': 'value', 'initial-step': 'value', speculate: 'value', 'data-precision': 'value',
    'no-tfjs': 'flag', 'no-wasm': 'flag', 'no-gate': 'flag', 'no-cpu': 'flag', json: 'flag', profile: 'flag', 'cpu-timing': 'flag',
  });
  if (a.flag('help') || !what || what.startsWith('-')) {
    io.stdout(benchUsage);
    return a.flag('help') ? 0 : 1;
  }
  const variant = a.oneOf('variant', GEMM_VARIANT_NAMES);
  const log = (line: string): void => io.stderr(`[bench] ${line}\n`);
  if (a.flag('profile')) return profileCommand(what, a, variant, io, log);
  const ctx = await acquireDevice();
  let result: BenchResult;
  try {
    if (what === 'gemm') {
      result = await benchGemm(ctx, { sizes: a.intList('sizes', 1), reps: a.int('reps', 1), variant, tfjs: !a.flag('no-tfjs'), log });
    } else if (what === 'step') {
      result = await benchStep(ctx, {
        layers: a.intList('layers', 1), batch: a.int('batch', 1), steps: a.int('steps', 1), gemmVariant: variant,
        tfjsWebgpu: !a.flag('no-tfjs'), tfjsWasm: !a.flag('no-wasm'), cpu: !a.flag('no-cpu'), log,
        dataPrecision: a.oneOf('data-precision', DATA_PRECISIONS),
      });
    } else if (what === 'lbfgs' || what === 'cg' || what === 'adam') {
      const lat = a.string('readback-latency');
      let latencies: number[] | undefined;
      if (lat !== undefined) {
        latencies = lat.split(',').map((x) => Number(x));
        if (latencies.some((x) => !(x >= 0 && Number.isFinite(x)))) throw new UsageError(`bench: --readback-latency takes milliseconds ≥ 0, got ${JSON.stringify(lat)}`);
        // One value: compare it with no injection.
        if (latencies.length === 1 && latencies[0] !== 0) latencies = [0, latencies[0]!];
      }
      const inFlight = a.string('in-flight');
      if (inFlight !== undefined && !/^\d+$/.test(inFlight)) throw new UsageError(`bench: --in-flight takes an integer ≥ 0, got ${JSON.stringify(inFlight)}`);
      result = await benchOptimizer(ctx, {
        method: what, patches: a.int('patches', 1), iterations: a.int('iterations', 1), latencies,
        batchSize: a.int('batch', 1), costEvery: a.int('cost-every', 1), costsInFlight: inFlight === undefined ? undefined : Number(inFlight), log,
        initialStep: a.oneOf('initial-step', CG_INITIAL_STEPS), speculate: a.int('speculate', 1),
        gateTrials: a.flag('no-gate') ? false : undefined,
      });
    } else {
      throw new UsageError(`bench: unknown benchmark ${JSON.stringify(what)}; expected gemm, step, lbfgs, cg or adam`);
    }
  } finally {
    ctx.destroy();
  }
  io.stdout(a.flag('json') ? `${JSON.stringify(result)}\n` : `${formatBenchTable(result)}\n`);
  return 0;
}
