#!/usr/bin/env node
// `npm run bench:gpu [-- --quick] [--peak-tflops X] [--append] [--out DIR] [--no-peers] [--no-tfjs] [--no-training]`:
// the GPU suite (src/bench/gpu-suite.ts) with the PyTorch peer and the training workloads.
// Writes DIR/gpu-suite-<date>.json and .md (default DIR runs/bench-gpu; rewritten after each part,
// marked partial until the suite ends), prints the Markdown,
// and appends it to bench/RESULTS.md with --append. Exit 0 when the suite ran (parts that
// failed are listed in its notes), 1 on bad usage or no adapter.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, UsageError } from '../cli/args.js';
import { acquireDevice, adapterLabel } from '../gpu/device.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { findTorchPython, formatSuiteMarkdown, PACKAGE_ROOT, runPythonPeer, trainingRunner } from './gpu-node.js';
import { runGpuSuite, type SuiteResult } from './gpu-suite.js';

export const gpuSuiteUsage = `Usage: npm run bench:gpu -- [--quick] [--peak-tflops X] [--append] [--out DIR] [--no-peers] [--no-tfjs] [--no-training]

Runs on the first WebGPU adapter (Vulkan / Metal / D3D12 through Dawn; no browser,
no network) and prints the adapter, GEMM GFLOP/s for every kernel variant, the
sparse-autoencoder step (samples/s, dispatches, submits, GPU time per kernel), the
UFLDL exercise and the MNIST stacked pipeline, and PyTorch (bench/peers/torch_bench.py,
when python3 imports torch; CUDA if available, fp32, TF32 off) side by side.
  --quick            tiny sizes (a correctness run; under a minute on SwiftShader)
  --peak-tflops X    the card's fp32 peak: GEMM rows show the fraction reached
  --append           also append the Markdown table to bench/RESULTS.md
  --out DIR          where the JSON and Markdown go (default runs/bench-gpu)
  --no-peers         skip PyTorch;  --no-tfjs  skip TF.js webgpu;  --no-training  skip the two training workloads
`;

export async function gpuSuiteMain(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<{ code: number; result?: SuiteResult; files?: string[] }> {
  const a = parseArgs('bench:gpu', argv, {
    quick: 'flag', 'peak-tflops': 'value', append: 'flag', out: 'value', 'no-peers': 'flag', 'no-tfjs': 'flag', 'no-training': 'flag',
  });
  if (a.flag('help')) {
    out(gpuSuiteUsage);
    return { code: 0 };
  }
  const quick = a.flag('quick');
  const peak = a.number('peak-tflops');
  if (peak !== undefined && !(peak > 0)) throw new UsageError(`--peak-tflops must be a positive number of TFLOP/s, got ${peak}`);
  const log = (line: string): void => err(`[bench:gpu] ${line}\n`);
  const ctx = await acquireDevice();
  try {
    out(`adapter: ${adapterLabel(ctx.adapter)}${ctx.adapter.isSoftware ? ' (software)' : ''}\nfeatures: ${ctx.adapterFeatures.join(', ')}\n`);
    let peer: ((r: Parameters<NonNullable<Parameters<typeof runGpuSuite>[1]>['peer'] & {}>[0]) => ReturnType<ReturnType<typeof runPythonPeer>>) | undefined;
    const notes: string[] = [];
    if (!a.flag('no-peers')) {
      // --quick gives python a few seconds to import torch; a full run waits longer (CUDA init).
      const py = findTorchPython(quick ? 8_000 : 120_000);
      if ('python' in py) peer = runPythonPeer(py.python, quick ? 60_000 : 300_000);
      else notes.push(`PyTorch peer not run: ${py.reason}`);
    }
    const dir = resolve(a.string('out') ?? join(PACKAGE_ROOT, 'runs', 'bench-gpu'));
    mkdirSync(dir, { recursive: true });
    const filesOf = (r: SuiteResult): string[] => {
      const stamp = r.date.replace(/[:.]/g, '-');
      return [join(dir, `gpu-suite-${stamp}.json`), join(dir, `gpu-suite-${stamp}.md`)];
    };
    // The JSON and Markdown are rewritten after each part: a run cut short by a time limit keeps what it measured.
    const write = (r: SuiteResult): string[] => {
      const files = filesOf(r);
      writeJsonAtomic(files[0]!, r);
      writeFileAtomic(files[1]!, formatSuiteMarkdown(r));
      return files;
    };
    const result = await runGpuSuite(ctx, {
      quick, peakTflops: peak, peers: !!peer, peer, tfjs: !a.flag('no-tfjs'), training: !a.flag('no-training'),
      trainingRunner: trainingRunner(ctx.device, quick, log), log,
      onPartial: (p) => {
        p.notes.unshift(...notes);
        log(`${p.partial} done; figures so far in ${write(p).join(', ')}`);
      },
    });
    result.notes.unshift(...notes);
    const md = formatSuiteMarkdown(result);
    const files = write(result);
    if (a.flag('append')) {
      appendFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), `\n${md}`);
      files.push(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'));
    }
    out(`\n${md}\nwrote ${files.join(', ')}\n`);
    return { code: 0, result, files };
  } finally {
    ctx.destroy();
  }
}

// Run as a program (not when imported by a test).
if (process.argv[1] && /gpu-main\.(js|ts)$/.test(process.argv[1])) {
  gpuSuiteMain(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s))
    .then((r) => process.exit(r.code))
    .catch((e: unknown) => {
      process.stderr.write(`bench:gpu: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
}
