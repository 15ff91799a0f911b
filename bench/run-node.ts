// Runs a benchmark from the source tree (until `wgnn bench` exists):
//   npx vite-node bench/run-node.ts gemm [--sizes 256,512,1024] [--reps N] [--variant NAME | --variants A,B]
//                                        [--variants-1024 A,B] [--no-tfjs] [--json]
//   npx vite-node bench/run-node.ts step [--layers 784,200,784] [--batch 256] [--steps 20] [--tfjs-steps 5]
//                                        [--cpu-steps 3] [--rounds 3] [--variant NAME] [--no-tfjs] [--no-wasm] [--no-cpu] [--json]
//   common: [--keep-tuning-cache]
// (engines take turns in rounds: see StepBenchOptions.rounds)
// Prints a Markdown table (or, with --json, the result object) on stdout; progress on stderr.
// GEMM variants are autotuned into a fresh, temporary cache unless --keep-tuning-cache: a
// cache written by an older version may name variants tuned before faster ones existed.
import { acquireDevice } from '../src/gpu/device.js';
import { GEMM_VARIANT_NAMES, type GemmVariant } from '../src/gpu/kernels.js';
import { benchGemm, benchStep, formatBenchTable, type BenchResult } from '../src/bench/index.js';

const [what, ...rest] = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < rest.length; i++) {
  const a = rest[i]!;
  if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
  const next = rest[i + 1];
  if (next !== undefined && !next.startsWith('--')) {
    flags.set(a.slice(2), next);
    i++;
  } else flags.set(a.slice(2), 'true');
}
const list = (k: string): number[] | undefined => flags.get(k)?.split(',').map(Number);
const int = (k: string): number | undefined => (flags.has(k) ? Number(flags.get(k)) : undefined);
const variant = flags.get('variant') as GemmVariant | undefined;
if (variant && !GEMM_VARIANT_NAMES.includes(variant)) throw new Error(`--variant must be one of ${GEMM_VARIANT_NAMES.join(', ')}`);
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

if (!flags.has('keep-tuning-cache')) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'wgnn-bench-'));
}
const ctx = await acquireDevice();
let result: BenchResult;
try {
  if (what === 'gemm') {
    // --variants-1024: the variants to time from n = 1024 on (the slowest take minutes there on software adapters).
    const names = (k: string): GemmVariant[] | undefined => flags.get(k)?.split(',') as GemmVariant[] | undefined;
    const all = names('variants');
    const big = names('variants-1024');
    const variants = big ? (n: number): GemmVariant[] => (n >= 1024 ? big : all ?? GEMM_VARIANT_NAMES) : all;
    result = await benchGemm(ctx, { sizes: list('sizes'), reps: int('reps'), warmup: int('warmup'), variant, variants, tfjs: !flags.has('no-tfjs'), log });
  } else if (what === 'step') {
    result = await benchStep(ctx, {
      layers: list('layers'), batch: int('batch'), steps: int('steps'), tfjsWebgpuSteps: int('tfjs-steps'), cpuSteps: int('cpu-steps'),
      warmup: int('warmup'), rounds: int('rounds'), gemmVariant: variant, tfjsWebgpu: !flags.has('no-tfjs'), tfjsWasm: !flags.has('no-wasm'), cpu: !flags.has('no-cpu'), log,
    });
  } else {
    throw new Error('usage: npx vite-node bench/run-node.ts gemm|step [options] (see the header of bench/run-node.ts)');
  }
} finally {
  ctx.destroy();
}
process.stdout.write(flags.has('json') ? `${JSON.stringify(result, null, 2)}\n` : `${formatBenchTable(result)}\n`);
// Dawn and the wasm backend's worker threads can keep the event loop alive.
process.exit(0);
