// Benchmark results as Markdown tables (readable in a terminal, pasteable into RESULTS.md).

import type { GemmBenchResult } from './gemm.js';
import { BENCH_GEMM_TOL } from './gemm-samples.js';
import type { OptimizerBenchResult } from './optimizer.js';
import type { StepBenchResult, StepFigure } from './step.js';

export type BenchResult = GemmBenchResult | StepBenchResult | OptimizerBenchResult;

function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x !== 0 && Math.abs(x) < 10 ** -(digits - 1)) return x.toExponential(1);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1');
}

function ratio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(x < 10 ? 2 : 1)}×`;
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function header(r: BenchResult): string[] {
  const versions = Object.entries(r.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `date: ${r.date}`,
    `adapter: ${r.adapter.label}${r.adapter.isSoftware ? ' (software)' : ''}`,
    r.node === null && r.browser
      ? `browser: ${r.browser}, ${r.cpus ?? '?'} logical cores`
      : `node: ${r.node ?? '—'} on ${r.platform ?? '—'}, ${r.cpus ?? '?'} CPU cores`,
    `versions: ${versions || '—'}`,
  ];
}

function formatGemm(r: GemmBenchResult): string {
  const names = [...new Set(r.sizes.flatMap((s) => s.variants.map((v) => v.variant)))];
  const rows = r.sizes.map((s) => [
    `${s.n}³`,
    ...names.map((name) => {
      const v = s.variants.find((x) => x.variant === name);
      return v && v.maxRelErr > BENCH_GEMM_TOL ? `wrong (${num(v.gflops)})` : num(v?.gflops);
    }),
    `${num(s.ours.gflops)} (${s.ours.variant})`,
    num(s.tfjs?.gflops),
    ratio(s.ratio),
    ratio(s.cpuTimeRatio),
    s.maxRelDiffVsTfjs === null ? '—' : s.maxRelDiffVsTfjs === 0 ? '0' : s.maxRelDiffVsTfjs.toExponential(1),
    `${s.ours.reps}`,
  ]);
  const head = ['n', ...names.map((v) => `${v} GFLOP/s`), 'ours (best) GFLOP/s', 'TF.js webgpu GFLOP/s', 'ours / TF.js', 'same by CPU time', 'max rel diff', 'reps'];
  return [
    `GEMM C = A·B, n × n × n, f32 (median of reps after ${r.warmup} warm-up runs; each run waits for completion, no readback; "wrong": sampled entries of C differ from float64 by more than ${BENCH_GEMM_TOL}·(1 + |C|))`,
    ...header(r),
    '',
    table(head, rows),
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

function formatStep(r: StepBenchResult): string {
  const c = r.config;
  const cpuMs = (f: StepFigure): string => (f.cpuSecondsPerStep === null ? '—' : num(f.cpuSecondsPerStep * 1000));
  const rows: string[][] = [
    ['webgpu-nn (WebGPU)', num(r.ours.samplesPerSec), num(r.ours.secondsPerStep * 1000), cpuMs(r.ours), `${r.ours.steps}`, '1×', '1×', `GEMM ${r.ours.gemmVariant}, ${num(r.ours.gflops)} GFLOP/s, ${num(r.ours.readbacksPerStep)} readbacks/step${r.ours.dispatchesPerStep === null ? '' : `, ${r.ours.dispatchesPerStep} dispatches and ${r.ours.submitsPerStep} submit(s)/step`}`],
  ];
  const add = (label: string, f: StepFigure | null, vs: number | null, vsCpu: number | null, extra = ''): void => {
    rows.push(f ? [label, num(f.samplesPerSec), num(f.secondsPerStep * 1000), cpuMs(f), `${f.steps}`, ratio(vs), ratio(vsCpu), extra] : [label, '—', '—', '—', '—', '—', '—', 'not run (see notes)']);
  };
  const info = (i: Record<string, string | number | boolean> | undefined): string =>
    i ? Object.entries(i).map(([k, v]) => `${k} ${v}`).join(', ') : '';
  add('TF.js webgpu (same device)', r.tfjsWebgpu, r.ratios.vsTfjsWebgpu, r.cpuTimeRatios.vsTfjsWebgpu, info(r.tfjsWebgpu?.info));
  add('TF.js wasm', r.tfjsWasm, r.ratios.vsTfjsWasm, r.cpuTimeRatios.vsTfjsWasm, info(r.tfjsWasm?.info));
  add('CPU reference (float64 JS)', r.cpu, r.ratios.vsCpu, r.cpuTimeRatios.vsCpu);
  const cc = r.costCheck;
  return [
    `Sparse-autoencoder SGD step: layers ${c.layers.join('-')}, sigmoid, squared error, batch ${c.batch}, ρ = ${c.rho}, β = ${c.beta}, λ = ${c.lambda}, η = ${c.lr}${c.dataPrecision === 'f16' ? '; our examples stored as f16 (dataPrecision)' : ''}`,
    ...header(r),
    '',
    table(['engine', 'samples/s', 'ms/step', 'CPU ms/step', 'steps', 'ours ÷ this', 'same by CPU time', 'notes'], rows),
    '',
    ...(Object.keys(r.ours.gemmChoices).length ? [`GEMM variants: ${Object.entries(r.ours.gemmChoices).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
    `J(θ₀) on batch 1: ours ${num(cc.ours, 6)}, TF.js webgpu ${num(cc.tfjsWebgpu, 6)}, TF.js wasm ${num(cc.tfjsWasm, 6)}, CPU ${num(cc.cpu, 6)} (max rel diff ${cc.maxRelDiff.toExponential(1)})`,
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

function formatOptimizer(r: OptimizerBenchResult): string {
  const c = r.config;
  const what = r.method === 'adam'
    ? `Adam, batch ${c.batchSize}, a cost reading every ${c.costEvery} steps, ${c.costsInFlight} in flight`
    : r.method === 'lbfgs' ? 'L-BFGS (history 10)' : 'CG (Polak–Ribière+)';
  const head = ['readback latency', 'iterations', 'evaluations', 'run on the device', 'seconds', 'ms / iteration', 'readbacks / iteration', 'submits / iteration', 'dispatches / iteration', 'slowdown'];
  const rows = r.runs.map((x) => {
    const s = r.slowdown.find((d) => d.latencyMs === x.latencyMs);
    return [`${x.latencyMs} ms`, `${x.iterations}`, `${x.evaluations}`, `${x.deviceEvaluations}`, num(x.seconds), num((x.seconds * 1000) / Math.max(1, x.iterations)), num(x.readbacksPerIteration), num(x.submitsPerIteration), num(x.dispatchesPerIteration), s ? ratio(s.ratio) : x.latencyMs === 0 ? '1×' : '—'];
  });
  return [
    `${what} on the UFLDL sparse autoencoder ${c.layers.join('-')}, ${c.patches} synthetic 8×8 patches, ${c.iterations} timed iterations after a warm-up`,
    ...header(r),
    '',
    table(head, rows),
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

/** A human-readable report of a benchGemm, benchStep or benchOptimizer result. */
export function formatBenchTable(result: BenchResult): string {
  return result.bench === 'gemm' ? formatGemm(result) : result.bench === 'step' ? formatStep(result) : formatOptimizer(result);
}
