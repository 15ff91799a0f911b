// Node side of the GPU suite: the PyTorch peer (a python3 child process), the two
// training workloads (UFLDL exercise, MNIST stacked pipeline) and the Markdown report.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig } from '../train/config.js';
import { train } from '../train/run.js';
import { errorMessage } from './common.js';
import { BENCH_GEMM_TOL } from './gemm-samples.js';
import { type PeerAnswer, type PeerRequest, type SuiteResult, type TrainingFigures } from './gpu-suite.js';

/** The package root (src/bench and dist/bench both sit two folders below it). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The first of $WGNN_PYTHON, python3 and /usr/bin/python3 (Debian's, where
 * scripts/setup.sh installs python3-torch) that imports torch within
 * `timeoutMs`, else null with the reasons.
 */
export function findTorchPython(timeoutMs: number): { python: string } | { reason: string } {
  const reasons: string[] = [];
  const candidates = [...new Set([process.env.WGNN_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p))];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.error) reasons.push(`${python}: ${r.error.message}`);
    else if (r.status !== 0) reasons.push(`${python} cannot import torch: ${(r.stderr?.toString() ?? '').trim().split('\n').at(-1) ?? ''}`);
    else return { python };
  }
  return { reason: reasons.join('; ') };
}

/** Runs bench/peers/torch_bench.py with `request` on stdin; its JSON answer. */
export function runPythonPeer(python: string, timeoutMs: number): (request: PeerRequest) => Promise<PeerAnswer> {
  return (request) =>
    new Promise((resolve, reject) => {
      const child = spawn(python, [join(PACKAGE_ROOT, 'bench', 'peers', 'torch_bench.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) return reject(new Error(`torch_bench.py exited ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
        try {
          resolve(JSON.parse(out) as PeerAnswer);
        } catch (e) {
          reject(new Error(`torch_bench.py answered no JSON: ${errorMessage(e)}`));
        }
      });
      child.stdin.end(JSON.stringify(request));
    });
}

function example(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'examples', `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/**
 * The UFLDL exercise (64-25-64, 10 000 patches, L-BFGS 400 iterations) and the MNIST
 * stacked pipeline (examples/mnist-stacked.json), as configured; `quick` shrinks the
 * first to 200 patches and 10 iterations and skips the second.
 */
export function trainingRunner(device: GPUDevice, quick: boolean, log: (l: string) => void): () => Promise<TrainingFigures> {
  return async () => {
    const notes: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'wgnn-suite-'));
    let ufldl: TrainingFigures['ufldl'] = null;
    let mnistStacked: TrainingFigures['mnistStacked'] = null;
    try {
      const u = example('ufldl-sparse-autoencoder') as { data: { patches: { count: number } }; optimizer: Record<string, unknown> };
      if (quick) {
        u.data.patches.count = 200;
        u.optimizer.maxIterations = 10;
      }
      log(`ufldl: ${u.data.patches.count} patches, L-BFGS ${String(u.optimizer.maxIterations)} iterations`);
      try {
        const cfg = checkConfig({ ...u, output: join(dir, 'ufldl'), checkpointEvery: 1_000_000 });
        const t0 = performance.now();
        const { summary } = await train(cfg, { device });
        ufldl = { seconds: (performance.now() - t0) / 1000, iterations: summary.iterations, finalCost: summary.finalCost, patches: u.data.patches.count };
      } catch (e) {
        notes.push(`UFLDL exercise not run: ${errorMessage(e)}`);
      }
      if (quick) {
        notes.push('MNIST stacked pipeline skipped in --quick (it runs in the full suite)');
      } else {
        const m = example('mnist-stacked');
        log('mnist stacked pipeline (examples/mnist-stacked.json)');
        try {
          const cfg = checkConfig({ ...m, output: join(dir, 'mnist') });
          const t0 = performance.now();
          const { summary } = await train(cfg, { device });
          mnistStacked = {
            seconds: (performance.now() - t0) / 1000, testAccuracy: summary.testAccuracy ?? null,
            testAccuracyBeforeFineTuning: summary.testAccuracyBeforeFineTuning ?? null, examples: summary.examples,
          };
        } catch (e) {
          notes.push(`MNIST stacked pipeline not run: ${errorMessage(e)}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { ufldl, mnistStacked, notes };
  };
}

const f = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : Math.abs(x) < 10 && x !== 0 ? x.toPrecision(2) : x.toFixed(digits);
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

/** The suite as Markdown: adapter, GEMM table, step table, training, notes. */
export function formatSuiteMarkdown(r: SuiteResult): string {
  const g = r.gpu;
  const L = g.limits;
  const out: string[] = [];
  out.push(`### GPU suite${r.quick ? ' (--quick)' : ''}: ${g.label}, ${r.date.slice(0, 10)}`);
  out.push('');
  if (r.partial) out.push(`**Partial: the suite got as far as ${r.partial} (this file is rewritten after each part; a run stopped early leaves it so).**`, '');
  if (g.isSoftware) out.push('**Software adapter: these figures say nothing about GPU speed (correctness run).**', '');
  out.push(`- adapter: vendor \`${g.vendor}\`, architecture \`${g.architecture}\`, device \`${g.device}\`, description \`${g.description}\``);
  out.push(`- features: ${g.adapterFeatures.join(', ') || '(not reported)'}; enabled: ${g.deviceFeatures.join(', ')}`);
  out.push(`- limits: maxStorageBufferBindingSize ${L.maxStorageBufferBindingSize}, maxBufferSize ${L.maxBufferSize}, maxComputeWorkgroupStorageSize ${L.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${L.maxComputeInvocationsPerWorkgroup}` + (L.maxSubgroupSize ? `, subgroup size ${L.minSubgroupSize}–${L.maxSubgroupSize}` : ''));
  out.push(`- node ${r.node}, ${r.platform}, ${r.cpus} CPUs; webgpu-nn ${r.versions['webgpu-nn'] ?? '?'}, webgpu (Dawn) ${r.versions.webgpu ?? '?'}` + (r.peer ? `; PyTorch ${r.peer.torch} on ${r.peer.device} (fp32, TF32 ${r.peer.tf32 ? 'on' : 'off'})` : ''));
  out.push(`- suite wall time ${f(r.seconds, 0)} s` + (r.peakTflops ? `; fp32 peak given: ${r.peakTflops} TFLOP/s` : ''));
  out.push('');
  if (r.targets?.length) {
    out.push('| target | bar | figure | verdict | note |', '| --- | --- | --- | --- | --- |');
    for (const t of r.targets) out.push(`| ${t.what} | ${t.target} | ${t.value} | ${t.status === 'met' ? '**met**' : t.status === 'missed' ? '**missed**' : t.status} | ${t.note} |`);
    out.push('');
  }
  if (r.gemm.length) {
    const variants = [...new Set(r.gemm.flatMap((row) => row.variants.map((v) => v.variant)))];
    out.push(`| GEMM M×N×K | layout | role | ${variants.join(' | ')} | best | ${r.peakTflops ? 'of peak | ' : ''}PyTorch | ours/PyTorch |`);
    out.push(`|${' --- |'.repeat(3 + variants.length + 1 + (r.peakTflops ? 1 : 0) + 2)}`);
    for (const row of r.gemm) {
      const cells = variants.map((v) => {
        const x = row.variants.find((y) => y.variant === v);
        const slices = x?.splitK && x.splitK > 1 ? ` (S=${x.splitK})` : '';
        return x ? (x.maxRelErr <= BENCH_GEMM_TOL ? f(x.gflops) + slices : `wrong (${f(x.gflops)})`) : row.skipped.includes(v) ? 'skipped' : '—';
      });
      out.push(
        `| ${row.M}×${row.N}×${row.K} | ${row.transA ? 'T' : 'N'}${row.transB ? 'T' : 'N'} | ${row.role} | ${cells.join(' | ')} | ${row.best ? `${f(row.best.gflops)} (${row.best.variant})` : '—'} | ` +
          `${r.peakTflops ? `${pct(row.best?.fractionOfPeak)} | ` : ''}${f(row.torch?.gflops)} | ${f(row.ratioVsTorch, 2)} |`,
      );
    }
    out.push('', `GEMM cells are GFLOP/s (2MNK / median seconds per product, submit + wait, products batched per submit on real GPUs); "wrong": 16 sampled entries of C (poisoned before the run) differ from float64 by more than ${BENCH_GEMM_TOL}·(1 + |C|), so the variant is not the best; "(S=n)": the K slices of tiled-128-splitk (without, it ran as tiled-128).`, '');
  }
  if (r.step.length) {
    out.push('| SAE step | batch | samples/s | ms/step | dispatches | submits | slowest kernels (share) | TF.js webgpu samples/s | PyTorch samples/s | ours/PyTorch |');
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of r.step) {
      const top = s.kernels.slice(0, 3).map((k) => `${k.label} ${pct(k.share)}`).join('; ');
      out.push(
        `| ${s.layers.join('-')}${s.dataPrecision === 'f16' ? ' (f16 data)' : ''} | ${s.batch} | ${f(s.samplesPerSec, 0)} | ${f(s.secondsPerStep * 1e3, 3)} | ${s.dispatchesPerStep} | ${s.submitsPerStep} | ${top} (${s.profileMethod}) | ` +
          `${f(s.tfjsWebgpu?.samplesPerSec, 0)} | ${f(s.torch?.samplesPerSec, 0)} | ${f(s.ratioVsTorch, 2)} |`,
      );
    }
    out.push('');
  }
  if (r.training) {
    const t = r.training;
    out.push('| workload | wall time | result |', '| --- | --- | --- |');
    out.push(`| UFLDL exercise (64-25-64, ${t.ufldl?.patches ?? '—'} patches, L-BFGS) | ${t.ufldl ? `${f(t.ufldl.seconds)} s` : 'not run'} | ${t.ufldl ? `J = ${t.ufldl.finalCost.toPrecision(5)} after ${t.ufldl.iterations} iterations` : '—'} |`);
    out.push(`| MNIST stacked pipeline (examples/mnist-stacked.json) | ${t.mnistStacked ? `${f(t.mnistStacked.seconds)} s` : 'not run'} | ${t.mnistStacked ? `test accuracy ${pct(t.mnistStacked.testAccuracy)} (before fine-tuning ${pct(t.mnistStacked.testAccuracyBeforeFineTuning)})` : '—'} |`);
    out.push('');
  }
  if (r.notes.length) out.push('Notes:', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
