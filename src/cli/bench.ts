// `wgnn bench gemm|step`: this engine against TF.js (webgpu on the same Dawn
// device, and wasm) in one process. Figures are reported, never asserted.
import { acquireDevice } from '../gpu/device.js';
import { GEMM_VARIANT_NAMES } from '../gpu/kernels.js';
import { benchGemm, benchStep, formatBenchTable, type BenchResult } from '../bench/index.js';
import { parseArgs, UsageError } from './args.js';
import { profileCommand } from './bench-profile.js';
import type { CliIO } from './io.js';

export const benchUsage = `Usage: wgnn bench gemm [--sizes 256,512,1024] [--reps N] [--variant V] [--no-tfjs] [--json]
       wgnn bench step [--layers 784,200,784] [--batch 256] [--steps N] [--variant V] [--no-tfjs] [--no-wasm] [--no-cpu] [--json]
       wgnn bench step --profile [--layers …] [--batch N] [--variant V] [--reps N] [--cpu-timing] [--json]

gemm: GFLOP/s of C = A·B for n×n matrices, every GEMM variant of this engine
      (${GEMM_VARIANT_NAMES.join(', ')}) and TF.js webgpu's matMul on the same device.
step: samples/s of one sparse-autoencoder training step (cost, gradient, SGD
      update; sigmoid, ρ 0.1, β 3, λ 3e-3) for this engine, TF.js webgpu, TF.js
      wasm and the float64 CPU reference.
TF.js comes from the devDependencies (@tensorflow/tfjs, -backend-webgpu, -backend-wasm).
Prints the adapter, the figures and the ratios (a table, or JSON with --json).
step --profile: GPU time of each kernel of one step and its share (timestamp
      queries; CPU-side timing per dispatch group where the adapter lacks them).
`;

export async function benchCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const what = argv[0];
  const a = parseArgs('bench', argv.slice(what && !what.startsWith('-') ? 1 : 0), {
    sizes: 'value', reps: 'value', variant: 'value', layers: 'value', batch: 'value', steps: 'value',
    'no-tfjs': 'flag', 'no-wasm': 'flag', 'no-cpu': 'flag', json: 'flag', profile: 'flag', 'cpu-timing': 'flag',
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
      });
    } else {
      throw new UsageError(`bench: unknown benchmark ${JSON.stringify(what)}; expected gemm or step`);
    }
  } finally {
    ctx.destroy();
  }
  io.stdout(a.flag('json') ? `${JSON.stringify(result)}\n` : `${formatBenchTable(result)}\n`);
  return 0;
}
