// `npm run bench:gpu -- --quick` end to end on the test adapter: it never rots.
// Figures are not asserted (SwiftShader); that every part is there, finite, and the
// GEMMs computed the right thing (sampled entries against float64), is.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuSuiteMain } from '../src/bench/gpu-main.js';
import { suiteGemmShapes, suiteStepConfigs, type SuiteResult } from '../src/bench/gpu-suite.js';

describe('bench:gpu --quick', () => {
  it('prints the adapter and writes JSON + Markdown with every GEMM shape, the step and its kernel profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgnn-gpu-suite-'));
    let out = '';
    // The files as they stand when each part is reported done (read at that moment).
    const snapshots: { line: string; json: SuiteResult; md: string }[] = [];
    const err = (line: string): void => {
      const m = /done; figures so far in (\S+\.json), (\S+\.md)$/.exec(line.trim());
      if (m) snapshots.push({ line, json: JSON.parse(readFileSync(m[1]!, 'utf8')) as SuiteResult, md: readFileSync(m[2]!, 'utf8') });
    };
    try {
      const r = await gpuSuiteMain(['--quick', '--no-peers', '--no-tfjs', '--no-training', '--peak-tflops', '1', '--out', dir], (s) => (out += s), err);
      expect(r.code).toBe(0);
      expect(out).toMatch(/^adapter: /);
      expect(out).toContain('features: ');
      expect(r.files).toHaveLength(2);
      const json = JSON.parse(readFileSync(r.files![0]!, 'utf8')) as SuiteResult;
      expect(json.bench).toBe('gpu-suite');
      expect(json.quick).toBe(true);
      expect(json.gpu.limits.maxComputeWorkgroupStorageSize).toBeGreaterThan(0);
      expect(json.gpu.deviceFeatures).toEqual(expect.any(Array));
      expect(json.gemm.map((g) => [g.M, g.N, g.K, g.transA, g.transB])).toEqual(suiteGemmShapes(true).map((g) => [g.M, g.N, g.K, g.transA, g.transB]));
      for (const row of json.gemm) {
        expect(row.variants.length).toBeGreaterThan(0);
        for (const v of row.variants) {
          expect(v.gflops).toBeGreaterThan(0);
          expect(v.fractionOfPeak).toBeCloseTo(v.gflops / 1000, 12);
          expect(v.maxRelErr, `${v.variant} ${row.M}x${row.N}x${row.K}`).toBeLessThan(1e-5);
        }
      }
      expect(json.step.map((s) => [s.layers, s.batch, s.dataPrecision])).toEqual(suiteStepConfigs(true).map((s) => [s.layers, s.batch, s.dataPrecision ?? 'f32']));
      // The f16-data row: the same step over examples stored as halves.
      expect(json.step.filter((s) => s.dataPrecision === 'f16').length).toBe(1);
      for (const s of json.step) {
        expect(s.samplesPerSec).toBeGreaterThan(0);
        expect(s.dispatchesPerStep).toBeGreaterThan(5);
        expect(s.submitsPerStep).toBeGreaterThanOrEqual(1);
        expect(s.kernels.some((k) => k.label.startsWith('gemm '))).toBe(true);
        expect(s.kernels.reduce((a, k) => a + k.share, 0)).toBeCloseTo(1, 6);
      }
      expect(json.training).toBeNull();
      const md = readFileSync(r.files![1]!, 'utf8');
      expect(md).toContain('| GEMM M×N×K |');
      expect(md).toContain('| SAE step |');
      expect(md).toContain('(f16 data)');
      expect(md).toContain('Software adapter');
      // Rewritten after each part, marked partial until the end: a run stopped early keeps its figures.
      expect(snapshots.map((x) => x.json.partial)).toEqual(['GEMM 32x32x32 NN', 'GEMM 16x12x20 NT', 'step 20-12-20 batch 16', 'step 20-12-20 batch 16 (f16 data)', 'the PyTorch peer']);
      expect(snapshots[0]!.json.gemm).toHaveLength(1);
      expect(snapshots[0]!.json.step).toHaveLength(0);
      expect(snapshots[2]!.json.step).toHaveLength(1);
      expect(snapshots[0]!.md).toContain('**Partial: the suite got as far as GEMM 32x32x32 NN');
      expect(json.partial).toBeUndefined();
      expect(md).not.toContain('Partial:');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 480_000);
});
