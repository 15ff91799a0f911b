// The bench page: the same suite as `wgnn bench` (src/bench), this engine and
// TF.js webgpu over the same GPUDevice in one page (and TF.js wasm, the CPU
// reference point). bench/browser/run.ts builds it with Vite, serves it and
// reads `window.__benchDone`; the settings come from `?config=` (JSON, BrowserBenchConfig).
// TF.js is not bundled: index.html loads the packages' prebuilt UMD files (copied beside
// the page by bench-page.ts), which define the global `tf` (`tf.wasm` for the wasm
// backend); bundling them would make every build take about a minute.
import { acquireDevice, adapterLabel } from '../../src/gpu/device.js';
import type { GemmVariant } from '../../src/gpu/kernels.js';
import { benchGemm, benchOptimizer, benchStep, formatBenchTable, provideTfModules, setBenchPackageVersion, type BenchResult } from '../../src/bench/index.js';

export interface BrowserBenchConfig {
  /** Benchmarks to run, in order. */
  benches: ('gemm' | 'step' | 'lbfgs' | 'cg' | 'adam')[];
  /** lbfgs, cg, adam: training patches, timed iterations, injected readback latencies (ms). */
  patches?: number;
  iterations?: number;
  latencies?: number[];
  sizes?: number[];
  reps?: number;
  warmup?: number;
  /** GEMM benchmark: time only this variant (and force it in the step unless stepVariant says otherwise). */
  variant?: GemmVariant;
  /** Step benchmark: force this GEMM variant; null: autotuned (default: `variant`). */
  stepVariant?: GemmVariant | null;
  layers?: number[];
  batch?: number;
  steps?: number;
  tfjsSteps?: number;
  cpuSteps?: number;
  rounds?: number;
  tfjs?: boolean;
  wasm?: boolean;
  cpu?: boolean;
  /** Versions injected by the runner (package.json files are not readable here). */
  versions?: Record<string, string>;
}

export interface BrowserBenchDone {
  ok: boolean;
  error?: string;
  adapter?: { label: string; isSoftware: boolean };
  userAgent: string;
  results: BenchResult[];
  tables: string[];
}

declare global {
  interface Window {
    __benchDone?: BrowserBenchDone;
    /** @tensorflow/tfjs with tfjs-backend-webgpu's exports merged in, and tfjs-backend-wasm's as `tf.wasm`. */
    tf?: Record<string, unknown> & { wasm?: unknown };
  }
}

const logEl = document.getElementById('log')!;
const log = (line: string): void => {
  console.log(`[bench] ${line}`);
  logEl.textContent += `${line}\n`;
};

async function main(): Promise<BrowserBenchDone> {
  const raw = new URLSearchParams(location.search).get('config');
  const cfg: BrowserBenchConfig = raw ? (JSON.parse(raw) as BrowserBenchConfig) : { benches: ['gemm', 'step'] };
  const versions = cfg.versions ?? {};
  if (versions['webgpu-nn']) setBenchPackageVersion(versions['webgpu-nn']);
  const tf = window.tf;
  if (tf) provideTfModules({ tf, webgpu: tf, wasm: tf.wasm, wasmPaths: new URL('./', location.href).href, versions });
  else log('TF.js is missing from this page (tf.min.js not served): comparisons are skipped');
  if (!navigator.gpu) throw new Error('navigator.gpu is missing: this browser has no WebGPU');
  const ctx = await acquireDevice();
  const adapter = { label: adapterLabel(ctx.adapter), isSoftware: ctx.adapter.isSoftware };
  log(`adapter: ${adapter.label}`);
  const results: BenchResult[] = [];
  try {
    for (const what of cfg.benches) {
      if (what === 'gemm') {
        results.push(await benchGemm(ctx, { sizes: cfg.sizes, reps: cfg.reps, warmup: cfg.warmup, variant: cfg.variant, tfjs: cfg.tfjs ?? true, log }));
      } else if (what === 'step') {
        results.push(
          await benchStep(ctx, {
            layers: cfg.layers, batch: cfg.batch, steps: cfg.steps, tfjsWebgpuSteps: cfg.tfjsSteps, cpuSteps: cfg.cpuSteps, rounds: cfg.rounds,
            warmup: cfg.warmup, gemmVariant: (cfg.stepVariant === undefined ? cfg.variant : cfg.stepVariant) ?? undefined, tfjsWebgpu: cfg.tfjs ?? true, tfjsWasm: cfg.wasm ?? true, cpu: cfg.cpu ?? true, log,
          }),
        );
      } else if (what === 'lbfgs' || what === 'cg' || what === 'adam') {
        results.push(await benchOptimizer(ctx, { method: what, patches: cfg.patches, iterations: cfg.iterations, latencies: cfg.latencies, log }));
      } else {
        throw new Error(`unknown benchmark ${JSON.stringify(what)}; expected gemm, step, lbfgs, cg or adam`);
      }
    }
  } finally {
    ctx.destroy();
  }
  return { ok: true, adapter, userAgent: navigator.userAgent, results, tables: results.map(formatBenchTable) };
}

main().then(
  (done) => {
    window.__benchDone = done;
    log('done');
  },
  (e: unknown) => {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    log(`error: ${error}`);
    window.__benchDone = { ok: false, error, userAgent: navigator.userAgent, results: [], tables: [] };
  },
);
