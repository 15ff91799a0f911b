// `npm run bench:browser` in miniature: the bench page (bench/browser) built with
// Vite and run in headless Chromium on tiny sizes. Checks that src/bench stays
// browser-safe and that both benchmarks report figures for this engine, TF.js
// webgpu on the same device, TF.js wasm (its .wasm files served beside the page)
// and the CPU reference. Figures are reported, never asserted.
import { describe, expect, it } from 'vitest';
import { configFrom, parse, runBrowserBench } from '../bench/browser/bench-page.js';
import type { GemmBenchResult } from '../src/bench/gemm.js';
import type { StepBenchResult } from '../src/bench/step.js';

describe('bench:browser', () => {
  it('runs gemm and step in headless Chromium and returns the results, the adapter and the Chromium version', async () => {
    const cfg = configFrom(
      parse(['gemm', 'step', '--sizes', '32', '--variant', 'vec4-16x16', '--reps', '1', '--warmup', '1',
        '--layers', '16,8,16', '--batch', '16', '--steps', '2', '--tfjs-steps', '1', '--cpu-steps', '1', '--rounds', '1']),
    );
    const logs: string[] = [];
    const run = await runBrowserBench(cfg, { timeoutSeconds: 100, log: (l) => logs.push(l) });
    expect(run.ok, `${run.error}\n${logs.join('\n')}`).toBe(true);
    expect(run.chromium).toMatch(/Chrom/);
    expect(run.adapter?.label).toBeTruthy();
    expect(run.results.map((r) => r.bench)).toEqual(['gemm', 'step']);
    const gemm = run.results[0] as GemmBenchResult;
    expect(gemm.node).toBeNull();
    expect(gemm.browser).toMatch(/Chrome/);
    expect(gemm.sizes[0]!.ours.gflops).toBeGreaterThan(0);
    expect(gemm.sizes[0]!.tfjs?.gflops, gemm.notes.join('; ')).toBeGreaterThan(0);
    expect(gemm.sizes[0]!.maxRelDiffVsTfjs).toBeLessThan(1e-4);
    const step = run.results[1] as StepBenchResult;
    expect(step.notes, step.notes.join('; ')).toEqual([]);
    expect(step.ours.samplesPerSec).toBeGreaterThan(0);
    expect(step.ours.readbacksPerStep).toBe(0);
    expect(step.tfjsWebgpu?.samplesPerSec).toBeGreaterThan(0);
    expect(step.tfjsWasm?.samplesPerSec).toBeGreaterThan(0);
    expect(step.cpu?.samplesPerSec).toBeGreaterThan(0);
    expect(step.costCheck.maxRelDiff).toBeLessThan(1e-4);
    expect(step.versions['@tensorflow/tfjs-backend-webgpu']).toMatch(/^\d/);
    expect(run.tables.join('\n')).toContain('TF.js webgpu');
  });
});
