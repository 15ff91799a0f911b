// GEMM variant choice per adapter. The first time a (adapter, layout, shape
// class) is seen, every variant runs a few times on a problem of that class and
// the fastest wins. Results are kept for the process, and in localStorage (browser)
// or $XDG_CACHE_HOME/webgpu-nn/gemm-variants.json (Node) when those are writable.
// WEBGPU_NN_GEMM=<variant> (Node) or GpuModelOptions.gemmVariant forces one.

import { adapterLabel, GpuError } from './device.js';
import { checkGemm, type GemmCheck, type GemmShape } from './gemm-check.js';
import { GEMM_VARIANT_NAMES, GEMM_VARIANTS, gemmVariantsFor, recordDispatches, vec4Eligible, type GemmVariant, type Kernels } from './kernels.js';
import { STORAGE } from './buffers.js';
import { SHADER_SOURCES } from './shaders.gen.js';

/** The GEMM shader files, the shared ones included (see Kernels.gemm's file lists). */
const GEMM_SHADERS = ['gemm_common', 'gemm_epilogue', 'gemm', 'gemm_vec4', 'gemm_tiled', 'gemm_splitk', 'gemm_subgroup'];

/**
 * FNV-1a of the GEMM shaders and the variant table: a cached choice is void once
 * either changes. ("checked": choices made before candidates were checked against
 * float64 are void too.)
 */
function kernelsVersion(): string {
  const text = `checked|${GEMM_SHADERS.map((f) => SHADER_SOURCES[f] ?? '').join('|')}|${GEMM_VARIANT_NAMES.join(',')}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}
const VERSION = kernelsVersion();

export type { GemmShape } from './gemm-check.js';

/** Sizes are bucketed by powers of four: 1–4, 5–16, 17–64, 65–256, … */
function bucket(n: number): number {
  let b = 4;
  while (b < n) b *= 4;
  return b;
}

export function shapeClass(s: GemmShape): string {
  return `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}:${bucket(s.M)}x${bucket(s.N)}x${bucket(s.K)}`;
}

const memory = new Map<string, GemmVariant>();
const inflight = new Map<string, Promise<GemmVariant>>();
let persistentLoaded = false;

interface Store {
  load(): Record<string, string>;
  save(all: Record<string, string>): void;
}

async function store(): Promise<Store | null> {
  const ls = (globalThis as { localStorage?: Storage }).localStorage;
  if (ls) {
    const key = 'webgpu-nn:gemm-variants';
    return {
      load: () => JSON.parse(ls.getItem(key) ?? '{}') as Record<string, string>,
      save: (all) => ls.setItem(key, JSON.stringify(all)),
    };
  }
  const proc = (globalThis as { process?: { env: Record<string, string | undefined>; versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return null;
  const fs = await import('node:fs');
  const path = await import('node:path');
  const os = await import('node:os');
  const dir = path.join(proc.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'webgpu-nn');
  const file = path.join(dir, 'gemm-variants.json');
  return {
    load: () => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>) : {}),
    save: (all) => {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, JSON.stringify(all, null, 1));
      fs.renameSync(tmp, file);
    },
  };
}

function isVariant(v: unknown): v is GemmVariant {
  return typeof v === 'string' && (GEMM_VARIANT_NAMES as string[]).includes(v);
}

function forcedByEnv(): GemmVariant | null {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
  const v = env?.WEBGPU_NN_GEMM;
  if (!v) return null;
  if (!isVariant(v)) throw new Error(`WEBGPU_NN_GEMM=${v} is not a GEMM variant; expected one of ${GEMM_VARIANT_NAMES.join(', ')}`);
  return v;
}

/** Seconds per run of `variant` on `shape`: the fastest of `reps` after one warm-up (robust to load spikes). */
export async function timeGemm(kernels: Kernels, shape: GemmShape, variant: GemmVariant, reps = 3): Promise<number> {
  const { device } = kernels.ctx;
  const pool = kernels.pool;
  const a = pool.acquire(shape.M * shape.K * 4, STORAGE, 'tune A');
  const b = pool.acquire(shape.K * shape.N * 4, STORAGE, 'tune B');
  const c = pool.acquire(shape.M * shape.N * 4, STORAGE, 'tune C');
  const d = await kernels.gemm({ ...shape, A: { buffer: a }, B: { buffer: b }, C: { buffer: c }, variant });
  const run = async (): Promise<number> => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    recordDispatches(pass, d);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000;
  };
  try {
    await run();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) times.push(await run());
    return Math.min(...times);
  } finally {
    kernels.release(d);
    [a, b, c].forEach((buf) => pool.release(buf));
  }
}

/** Real GPUs: a shape is timed as it is up to this many flops (2MNK), else shrunk to it. */
export const TUNE_FLOP_BUDGET = 2 ** 32;

/**
 * The problems a shape is tuned on. `check` (against float64 in JS) has each side
 * capped at 512 (160 on software adapters), which still crosses every code path
 * (partial tiles, several K slices). `time`: on software adapters the same; on real
 * GPUs the shape itself up to TUNE_FLOP_BUDGET, else its largest side halved (not
 * below 512) until it fits, so a deep K is timed deep (split-K pays only there) and
 * each of ~11 variants takes milliseconds.
 */
export function tuningProbes(shape: GemmShape, isSoftware: boolean): { check: GemmShape; time: GemmShape } {
  const cap = (n: number): number => Math.min(n, isSoftware ? 160 : 512);
  const check = { ...shape, M: cap(shape.M), N: cap(shape.N), K: cap(shape.K) };
  if (isSoftware) return { check, time: check };
  const time = { ...shape };
  for (;;) {
    if (2 * time.M * time.N * time.K <= TUNE_FLOP_BUDGET) break;
    const side = (['M', 'N', 'K'] as const).reduce((a, b) => (time[b] > time[a] ? b : a));
    if (time[side] <= 512) break;
    time[side] = Math.max(512, Math.ceil(time[side] / 2));
  }
  return { check, time };
}

export interface GemmRejection extends GemmCheck {
  adapter: string;
  shapeClass: string;
}

const rejections: GemmRejection[] = [];

/** GEMM variants the autotuner found wrong on this process's adapters (never used; each also warned once on the console). */
export function gemmRejections(): readonly GemmRejection[] {
  return rejections;
}

function describeFailure(c: GemmCheck): string {
  const w = c.worst;
  const at = w ? ` (C[${w.i}][${w.j}] = ${w.got}, float64 ${w.want.toPrecision(6)})` : '';
  return `${c.variant} on ${c.shape.M}×${c.shape.N}×${c.shape.K}: relative error ${c.maxError.toPrecision(3)}${at}`;
}

function reject(adapter: string, cls: string, c: GemmCheck): void {
  const first = !rejections.some((r) => r.adapter === adapter && r.variant === c.variant);
  rejections.push({ ...c, adapter, shapeClass: cls });
  // A driver bug the user should report; the engine carries on with the variants that are right.
  if (first) console.warn(`webgpu-nn: GEMM variant ${describeFailure(c)} on ${adapter}; the autotuner skips it where it fails`);
}

/**
 * The GEMM variant to use for this shape on this adapter, chosen once per shape
 * class: each candidate is first checked against float64 (checkGemm) and dropped
 * when wrong; the fastest of the rest wins (tuningProbes: the problems used).
 */
export async function chooseGemmVariant(kernels: Kernels, shape: GemmShape): Promise<GemmVariant> {
  const forced = forcedByEnv();
  if (forced) return forced;
  const key = `${adapterLabel(kernels.ctx.adapter)}|${VERSION}|${shapeClass(shape)}`;
  const known = memory.get(key);
  if (known) return known;
  const st = await store().catch(() => null);
  if (st && !persistentLoaded) {
    persistentLoaded = true;
    try {
      for (const [k, v] of Object.entries(st.load())) if (isVariant(v) && k.includes(`|${VERSION}|`)) memory.set(k, v);
    } catch {
      // A corrupt cache file is ignored and rewritten below.
    }
    const v = memory.get(key);
    if (v) return v;
  }
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      const probe = tuningProbes(shape, kernels.ctx.adapter.isSoftware);
      let best: GemmVariant | null = null;
      let bestT = Infinity;
      const failed: GemmCheck[] = [];
      for (const v of gemmVariantsFor(kernels.ctx.adapter.isSoftware, kernels.ctx.device)) {
        if (GEMM_VARIANTS[v].VEC4 && !vec4Eligible({ ...shape, A: {} as never, B: {} as never, C: {} as never })) continue;
        // Only a variant whose result is right is timed (gemm-check.ts).
        const check = await checkGemm(kernels, probe.check, v);
        if (!check.ok) {
          failed.push(check);
          reject(adapterLabel(kernels.ctx.adapter), shapeClass(shape), check);
          continue;
        }
        const t = await timeGemm(kernels, probe.time, v, 2);
        if (t < bestT) {
          bestT = t;
          best = v;
        }
      }
      if (!best) throw new GpuError(`every GEMM variant gave wrong results on ${adapterLabel(kernels.ctx.adapter)} for ${shapeClass(shape)}: ${failed.map(describeFailure).join('; ')}`);
      memory.set(key, best);
      try {
        st?.save(Object.fromEntries(memory));
      } catch {
        // Read-only cache location: keep the choice for this process only.
      }
      return best;
    })();
    inflight.set(key, p);
  }
  try {
    return await p;
  } finally {
    inflight.delete(key);
  }
}
