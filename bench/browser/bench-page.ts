// The headless-Chromium benchmark harness (run.ts is its command line, `npm run bench:browser`):
// builds bench/browser (index.html + main.ts, the suite of `wgnn bench` from src/bench)
// with Vite into a folder, serves it on 127.0.0.1 (serveDir), opens it in launchChromium()
// (SwiftShader WebGPU on a machine without a GPU) and returns what the page reported
// (window.__benchDone) with the Chromium version.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GEMM_VARIANT_NAMES, type GemmVariant } from '../../src/gpu/kernels.js';
import { launchChromium, serveDir } from './chromium.js';
import type { BrowserBenchConfig, BrowserBenchDone } from './main.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');

export const USAGE = `Usage: npm run bench:browser -- [gemm] [step] [lbfgs] [cg] [adam] [--patches N] [--iterations N] [--readback-latency MS[,MS]] [--quick] [--sizes a,b] [--reps N] [--warmup N] [--variant NAME]
       [--layers a,b,c] [--batch N] [--steps N] [--tfjs-steps N] [--cpu-steps N] [--rounds N]
       [--no-tfjs] [--no-wasm] [--no-cpu] [--json] [--append] [--timeout SECONDS] [--keep DIR]`;

export interface Args {
  benches: BrowserBenchConfig['benches'];
  flags: Map<string, string>;
}

export function parse(argv: string[]): Args {
  const benches: Args['benches'] = [];
  const flags = new Map<string, string>();
  const valued = new Set(['sizes', 'reps', 'warmup', 'variant', 'layers', 'batch', 'steps', 'tfjs-steps', 'cpu-steps', 'rounds', 'timeout', 'keep', 'patches', 'iterations', 'readback-latency']);
  const bare = new Set(['quick', 'no-tfjs', 'no-wasm', 'no-cpu', 'json', 'append', 'help']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === 'gemm' || a === 'step' || a === 'lbfgs' || a === 'cg' || a === 'adam') benches.push(a);
    else if (a.startsWith('--') && valued.has(a.slice(2))) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      flags.set(a.slice(2), v);
    } else if (a.startsWith('--') && bare.has(a.slice(2))) flags.set(a.slice(2), 'true');
    else throw new Error(`unexpected argument ${a}\n${USAGE}`);
  }
  return { benches: benches.length ? benches : ['gemm', 'step'], flags };
}

function ints(flags: Map<string, string>, k: string): number[] | undefined {
  const v = flags.get(k);
  if (v === undefined) return undefined;
  const out = v.split(',').map(Number);
  if (!out.every((x) => Number.isInteger(x) && x >= 1)) throw new Error(`--${k} takes positive integers, got ${v}`);
  return out;
}

export function int(flags: Map<string, string>, k: string): number | undefined {
  return ints(flags, k)?.[0];
}

function version(pkg: string): string {
  const require = createRequire(join(repo, 'package.json'));
  try {
    const file = pkg === '.' ? join(repo, 'package.json') : require.resolve(`${pkg}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}

/** --readback-latency MS[,MS]: one value is compared with no injection. */
function latencies(flags: Map<string, string>): number[] | undefined {
  const v = flags.get('readback-latency');
  if (v === undefined) return undefined;
  const out = v.split(',').map(Number);
  if (!out.every((x) => Number.isFinite(x) && x >= 0)) throw new Error(`--readback-latency takes milliseconds ≥ 0, got ${v}`);
  return out.length === 1 && out[0] !== 0 ? [0, out[0]!] : out;
}

/** The page's settings from the command line. */
export function configFrom(a: Args): BrowserBenchConfig {
  const f = a.flags;
  const quick = f.has('quick');
  const variant = f.get('variant') as GemmVariant | undefined;
  if (variant && !GEMM_VARIANT_NAMES.includes(variant)) throw new Error(`--variant must be one of ${GEMM_VARIANT_NAMES.join(', ')}`);
  return {
    benches: a.benches,
    sizes: ints(f, 'sizes') ?? (quick ? [128, 256] : undefined),
    reps: int(f, 'reps') ?? (quick ? 3 : undefined),
    warmup: int(f, 'warmup') ?? (quick ? 1 : undefined),
    variant: variant ?? (quick ? 'vec4-16x16' : undefined),
    // --quick picks the GEMM benchmark's variant only; the step stays autotuned as in `wgnn bench step`.
    stepVariant: variant ?? null,
    layers: ints(f, 'layers'),
    batch: int(f, 'batch'),
    steps: int(f, 'steps') ?? (quick ? 6 : undefined),
    tfjsSteps: int(f, 'tfjs-steps') ?? (quick ? 2 : undefined),
    cpuSteps: int(f, 'cpu-steps') ?? (quick ? 1 : undefined),
    rounds: int(f, 'rounds') ?? (quick ? 2 : undefined),
    patches: int(f, 'patches') ?? (quick ? 1000 : undefined),
    iterations: int(f, 'iterations') ?? (quick ? 10 : undefined),
    latencies: latencies(f),
    tfjs: !f.has('no-tfjs'),
    wasm: !f.has('no-wasm'),
    cpu: !f.has('no-cpu'),
    versions: {
      'webgpu-nn': version('.'),
      '@tensorflow/tfjs-backend-webgpu': version('@tensorflow/tfjs-backend-webgpu'),
      '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
    },
  };
}

/** TF.js files served beside the page: the UMD bundles index.html loads and the wasm backend's binaries. */
const TF_FILES: [pkg: string, file: string][] = [
  ['@tensorflow/tfjs', 'tf.min.js'],
  ['@tensorflow/tfjs-backend-webgpu', 'tf-backend-webgpu.min.js'],
  ['@tensorflow/tfjs-backend-wasm', 'tf-backend-wasm.min.js'],
  ['@tensorflow/tfjs-backend-wasm', 'tfjs-backend-wasm.wasm'],
  ['@tensorflow/tfjs-backend-wasm', 'tfjs-backend-wasm-simd.wasm'],
  ['@tensorflow/tfjs-backend-wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
];

/** Builds the bench page into `outDir`, with TF.js's prebuilt files beside it (see TF_FILES). */
export async function buildBenchPage(outDir: string): Promise<void> {
  const { build, createLogger } = await import('vite');
  // index.html's classic <script>s (TF.js's UMD files) are meant to stay unbundled.
  const logger = createLogger('warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (msg, opts) => {
    if (!msg.includes("can't be bundled without type")) warn(msg, opts);
  };
  await build({
    root: here,
    base: './',
    configFile: false,
    customLogger: logger,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8000, reportCompressedSize: false },
  });
  const require = createRequire(join(repo, 'package.json'));
  for (const [pkg, file] of TF_FILES) {
    let dir: string;
    try {
      dir = dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      continue; // TF.js missing: the page runs this engine alone and says why
    }
    cpSync(join(dir, 'dist', file), join(outDir, file));
  }
}

export interface BrowserBenchRun extends BrowserBenchDone {
  chromium: string;
}

/** Builds, serves and runs the page; returns what it reported plus the Chromium version. */
export async function runBrowserBench(cfg: BrowserBenchConfig, opts: { timeoutSeconds?: number; outDir?: string; log?: (line: string) => void } = {}): Promise<BrowserBenchRun> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), 'wgnn-bench-page-'));
  log(`[bench:browser] building the page into ${outDir}`);
  await buildBenchPage(outDir);
  const server = await serveDir(outDir);
  const browser = await launchChromium();
  try {
    const chromium = await browser.version();
    log(`[bench:browser] ${chromium}, page ${server.url}`);
    const page = await browser.newPage();
    page.on('console', (m) => log(m.text()));
    page.on('pageerror', (e) => log(`[page error] ${(e as Error).message ?? e}`));
    page.setDefaultTimeout((opts.timeoutSeconds ?? 3600) * 1000);
    await page.goto(`${server.url}index.html?config=${encodeURIComponent(JSON.stringify(cfg))}`);
    await page.waitForFunction('window.__benchDone !== undefined', { polling: 1000, timeout: (opts.timeoutSeconds ?? 3600) * 1000 });
    const done = (await page.evaluate('window.__benchDone')) as BrowserBenchDone;
    return { ...done, chromium };
  } finally {
    await browser.close();
    await server.close();
    if (!opts.outDir) rmSync(outDir, { recursive: true, force: true });
  }
}

