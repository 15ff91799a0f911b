// What every benchmark result carries (date, adapter, versions) and how it is timed.

import { adapterLabel, type GpuContext } from '../gpu/device.js';

export interface BenchAdapter {
  /** adapterLabel(): vendor / architecture / device / description. */
  label: string;
  isSoftware: boolean;
}

export interface BenchMeta {
  /** ISO date and time the benchmark started. */
  date: string;
  adapter: BenchAdapter;
  /** Node's version, or null in a browser. */
  node: string | null;
  platform: string | null;
  /** Outside Node: the browser's user agent (absent in Node). */
  browser?: string;
  /** Logical CPU cores (software adapters run on them). */
  cpus: number | null;
  /** webgpu-nn, webgpu (Dawn for Node) and the TF.js packages when loaded. */
  versions: Record<string, string>;
}

/** Seconds per run: the median and the fastest of `reps` runs after `warmup` untimed ones. */
export interface Timing {
  seconds: number;
  minSeconds: number;
  reps: number;
  /**
   * Process CPU seconds (user + system, all threads) per run, averaged over the
   * timed runs; null outside Node. Less sensitive than wall time to other
   * processes competing for the cores: compare engines by it on a busy machine.
   */
  cpuSeconds: number | null;
}

/** Process CPU seconds so far (all threads), or null outside Node. */
export function cpuClock(): number | null {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!p?.cpuUsage) return null;
  const u = p.cpuUsage();
  return (u.user + u.system) / 1e6;
}

type NodeProcess = { versions?: { node?: string }; platform?: string };

function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : null;
}

let ownVersion: string | null = null;

/** This package's version where no package.json can be read (a bundled page sets it). */
export function setBenchPackageVersion(version: string): void {
  ownVersion = version;
}

/** The `version` field of a package.json next to this module's package (Node only). */
export async function readPackageVersion(spec: string): Promise<string | null> {
  if (!nodeProcess()) return null;
  try {
    const fs = await import('node:fs');
    const url = await import('node:url');
    let file: string;
    if (spec === '.') {
      // src/bench/x.ts and dist/bench/x.js both sit two folders below the package root.
      file = url.fileURLToPath(new URL('../../package.json', import.meta.url));
    } else {
      const { createRequire } = await import('node:module');
      file = createRequire(import.meta.url).resolve(`${spec}/package.json`);
    }
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

export async function benchMeta(ctx: GpuContext, extraVersions: Record<string, string> = {}): Promise<BenchMeta> {
  const proc = nodeProcess();
  const versions: Record<string, string> = {};
  const own = (await readPackageVersion('.')) ?? ownVersion;
  if (own) versions['webgpu-nn'] = own;
  const dawn = await readPackageVersion('webgpu');
  if (dawn) versions.webgpu = dawn;
  Object.assign(versions, extraVersions);
  let cpus: number | null = null;
  if (proc) {
    try {
      const os = await import('node:os');
      cpus = os.cpus().length;
    } catch {
      cpus = null;
    }
  } else {
    cpus = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? null;
  }
  const meta: BenchMeta = {
    date: new Date().toISOString(),
    adapter: { label: adapterLabel(ctx.adapter), isSoftware: ctx.adapter.isSoftware },
    node: proc?.versions?.node ?? null,
    platform: proc?.platform ?? null,
    cpus,
    versions,
  };
  const ua = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent;
  if (!proc && ua) meta.browser = ua;
  return meta;
}

/**
 * Times `run` (which must return only once its work is complete) `reps` times
 * after `warmup` untimed runs.
 */
export async function timeRuns(run: () => Promise<void>, warmup: number, reps: number): Promise<Timing> {
  if (!(reps >= 1)) throw new RangeError(`reps must be ≥ 1, got ${reps}`);
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  const c0 = cpuClock();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  const c1 = cpuClock();
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const seconds = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { seconds, minSeconds: times[0]!, reps, cpuSeconds: c0 === null || c1 === null ? null : (c1 - c0) / reps };
}

/** Largest |a − b| / (1 + |b|). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}
