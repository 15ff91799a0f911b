// `npm run bench:gpu -- --quick` end to end on the test adapter: it never rots.
// Figures are not asserted (SwiftShader); that every part is there, finite, and the
// GEMMs computed the right thing (sampled entries against float64), is.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuSuiteMain } from '../src/bench/gpu-main.js';
import { formatSuiteMarkdown } from '../src/bench/gpu-node.js';
import { runGpuSuite, suiteGemmShapes, suiteStepConfigs, suiteTargets, TARGET_GEMM_PEAK_FRACTION, type PeerAnswer, type PeerRequest, type SuiteGemmRow, type SuiteResult, type SuiteStepRow } from '../src/bench/gpu-suite.js';
import { gpu as testGpu } from './helpers/gpu.js';

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
      // The verdict: on SwiftShader (and without 4096³ in --quick) the targets are not measured, and say why.
      expect(json.targets!.map((t) => t.status)).toEqual(['not measured', 'not measured', 'info']);
      expect(json.targets![0]!.note).toBe('software adapter (correctness run)');
      expect(json.targets![2]!.value).toMatch(/^\S.*: \d+\.\d%$/);
      expect(md).toContain('| target | bar | figure | verdict | note |');
      // On a real GPU the split-K column says how many K slices it ran (software adapters do not time it).
      const split = { variant: 'tiled-128-splitk' as const, gflops: 5, seconds: 1, fractionOfPeak: null, maxRelErr: 0, splitK: 16 };
      expect(formatSuiteMarkdown({ ...json, gemm: [{ ...json.gemm[0]!, variants: [...json.gemm[0]!.variants, split] }] })).toMatch(/\| 5\.0 \(S=16\) \|/);
      // Rewritten after each part, marked partial until the end: a run stopped early keeps its figures.
      // The peer first (here not run), so that a stopped run has PyTorch beside every row it measured.
      expect(snapshots.map((x) => x.json.partial)).toEqual(['the PyTorch peer', 'GEMM 32x32x32 NN', 'GEMM 16x12x20 NT', 'step 20-12-20 batch 16', 'step 20-12-20 batch 16 (f16 data)']);
      expect(snapshots[1]!.json.gemm).toHaveLength(1);
      expect(snapshots[1]!.json.step).toHaveLength(0);
      expect(snapshots[3]!.json.step).toHaveLength(1);
      expect(snapshots[1]!.md).toContain('**Partial: the suite got as far as GEMM 32x32x32 NN');
      expect(json.partial).toBeUndefined();
      expect(md).not.toContain('Partial:');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 480_000);
});

describe('suiteTargets: the verdict on a GPU run', () => {
  const gpu = (isSoftware: boolean): SuiteResult['gpu'] => ({ label: 'x', vendor: 'nvidia', architecture: '', device: '', description: '', isSoftware, adapterFeatures: [], deviceFeatures: [], limits: {} });
  const gemmRow = (gflops: number, peak: number | null): SuiteGemmRow => ({
    M: 4096, N: 4096, K: 4096, transA: false, transB: false, role: 'square', flop: 2 * 4096 ** 3, skipped: [], torch: null, ratioVsTorch: null,
    variants: [{ variant: 'tiled-128', gflops, seconds: 1, fractionOfPeak: peak && gflops / (peak * 1e3), maxRelErr: 0 }],
    best: { variant: 'tiled-128', gflops, fractionOfPeak: peak && gflops / (peak * 1e3) },
  });
  const stepRow = (ours: number, torch: number | null): SuiteStepRow => ({
    layers: [784, 200, 784], batch: 4096, dataPrecision: 'f32', samplesPerSec: ours, secondsPerStep: 4096 / ours, dispatchesPerStep: 20, submitsPerStep: 1,
    profileMethod: 'timestamp-query', kernels: [{ label: 'gemm NT 4096x784x200', count: 1, seconds: 0.002, share: 0.4 }, { label: 'gather', count: 1, seconds: 0.001, share: 0.2 }],
    gemmChoices: {}, cost0: 1, tfjsWebgpu: null, torch: torch === null ? null : { samplesPerSec: torch, cost0: 1 }, ratioVsTorch: torch === null ? null : ours / torch,
  });
  const cudaPeer = { torch: '2.5', device: 'NVIDIA H200', tf32: false };

  it('met and missed against the bars (40% of peak at 4096³, within 2× of PyTorch CUDA at batch 4096)', () => {
    const met = suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: cudaPeer, gemm: [gemmRow(0.5 * 67e3, 67)], step: [stepRow(600_000, 1_000_000)] });
    expect(met.map((t) => t.status)).toEqual(['met', 'met', 'info']);
    expect(met[0]!.value).toBe('50.0% (tiled-128)');
    expect(met[1]!.value).toBe('0.60');
    expect(met[2]!.value).toBe('gemm NT 4096x784x200: 40.0%');
    // Split-K against tiled-128 where it was built for (∇W at batch 4096), when both were timed.
    const wgrad: SuiteGemmRow = { ...gemmRow(1, 67), M: 200, N: 784, K: 4096, transA: true, role: 'encoder ∇W, batch 4096', variants: [
      { variant: 'tiled-128', gflops: 8000, seconds: 1, fractionOfPeak: null, maxRelErr: 0 },
      { variant: 'tiled-128-splitk', gflops: 20000, seconds: 1, fractionOfPeak: null, maxRelErr: 0, splitK: 16 },
    ] };
    const withSplit = suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: cudaPeer, gemm: [gemmRow(0.5 * 67e3, 67), wgrad], step: [stepRow(600_000, 1_000_000)] });
    expect(withSplit[3]).toMatchObject({ status: 'info', value: '2.50', note: 'S = 16; 20000 vs 8000 GFLOP/s' });
    const missed = suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: cudaPeer, gemm: [gemmRow((TARGET_GEMM_PEAK_FRACTION - 0.01) * 67e3, 67)], step: [stepRow(400_000, 1_000_000)] });
    expect(missed.map((t) => t.status)).toEqual(['missed', 'missed', 'info']);
  });

  it('not measured, with the reason: no peak given, PyTorch on the CPU or with TF32, shapes absent, a software adapter', () => {
    const noPeak = suiteTargets({ gpu: gpu(false), peakTflops: null, peer: cudaPeer, gemm: [gemmRow(30e3, null)], step: [stepRow(1, 1)] });
    expect(noPeak[0]).toMatchObject({ status: 'not measured', value: '30000 GFLOP/s' });
    expect(noPeak[0]!.note).toContain('--peak-tflops');
    const cpuPeer = suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: { torch: '1.13', device: 'cpu', tf32: false }, gemm: [], step: [stepRow(600_000, 1_000_000)] });
    expect(cpuPeer.map((t) => t.status)).toEqual(['not measured', 'not measured', 'info']);
    expect(cpuPeer[0]!.note).toBe('4096³ not in this run');
    expect(cpuPeer[1]!.note).toContain('CPU');
    const tf32 = suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: { ...cudaPeer, tf32: true }, gemm: [], step: [stepRow(600_000, 1_000_000)] });
    expect(tf32[1]!.note).toContain('TF32');
    const noPeer = suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: null, gemm: [], step: [stepRow(600_000, null)] });
    expect(noPeer[1]).toMatchObject({ status: 'not measured', value: '—' });
    const soft = suiteTargets({ gpu: gpu(true), peakTflops: 67, peer: cudaPeer, gemm: [gemmRow(0.9 * 67e3, 67)], step: [stepRow(600_000, 1_000_000)] });
    expect(soft.map((t) => t.status)).toEqual(['not measured', 'not measured', 'info']);
    expect(suiteTargets({ gpu: gpu(false), peakTflops: 67, peer: null, gemm: [], step: [] })).toHaveLength(2);
  });
});

describe('the PyTorch peer runs first', () => {
  it('is asked for every GEMM shape and f32 step row, and its figures stand beside each row from the first snapshot on', async () => {
    const ctx = await testGpu();
    const requests: PeerRequest[] = [];
    // A stand-in peer with fixed figures (the real one is bench/peers/torch_bench.py).
    const peer = async (req: PeerRequest): Promise<PeerAnswer> => {
      requests.push(req);
      return {
        torch: 'stand-in', device: 'NVIDIA Stand-in', tf32: false,
        gemm: req.gemm.map((g) => ({ ...g, seconds: 1e-3, gflops: 0.5 })),
        step: req.step.map((st) => ({ layers: st.layers, batch: st.batch, samplesPerSec: 1000, secondsPerStep: st.batch / 1000, cost0: 1 })),
      };
    };
    const snapshots: SuiteResult[] = [];
    const r = await runGpuSuite(ctx, { quick: true, tfjs: false, training: false, peer, onPartial: (p) => snapshots.push(p) });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.gemm).toHaveLength(suiteGemmShapes(true).length);
    expect(requests[0]!.step.map((st) => st.batch)).toEqual([16]); // the f16-data row is compared with the f32 request
    expect(snapshots[0]!.partial).toBe('the PyTorch peer');
    expect(snapshots[0]!.peer).toEqual({ torch: 'stand-in', device: 'NVIDIA Stand-in', tf32: false });
    expect(snapshots[1]!.gemm[0]!.torch).toEqual({ gflops: 0.5, seconds: 1e-3 });
    expect(snapshots[1]!.gemm[0]!.ratioVsTorch).toBeCloseTo(snapshots[1]!.gemm[0]!.best!.gflops / 0.5, 12);
    for (const row of r.step) expect(row.ratioVsTorch).toBeCloseTo(row.samplesPerSec / 1000, 12);
    expect(r.step).toHaveLength(2);
  }, 240_000);
});
