// GPU buffers: a size-bucketed pool that counts what it holds, and readback.
import { countEngine } from './counters.js';

export interface PoolStats {
  /** Buffers handed out and not yet released. */
  live: number;
  /** Bytes of those buffers. */
  liveBytes: number;
  /** Released buffers kept for reuse. */
  pooled: number;
}

/** The caps `poolSize` keeps a rounded size under. */
export interface PoolLimits {
  /** The device's maxBufferSize: no buffer may be larger. */
  maxBufferSize: number;
  /**
   * The bytes one storage binding may hold (maxStorageBufferBindingSize, or a
   * lower cap); defaults to maxBufferSize. A STORAGE request that fits it is
   * never rounded past it, since bind groups bind whole buffers.
   */
  maxBindingSize?: number;
}

/** Powers of two up to this size; 2^k·(1 + j/8) classes above. */
export const POOL_POW2_MAX = 1 << 20;

/**
 * The size class of a request of `bytes` bytes (> 0), uncapped:
 * - up to 1 MiB, the next power of two ≥ 256 B (at most 1 MiB wasted, 2× at worst);
 * - above, the next 2^k·(1 + j/8), j = 0 … 7, with 2^k ≤ bytes < 2^(k+1): a step
 *   of 2^(k−3), so the class is < bytes + bytes/8 — at most 12.5% over.
 * Every class is a multiple of 16, and the function is monotone, so requests of
 * similar size share a class and a released buffer serves the next one.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= POOL_POW2_MAX) {
    let size = 256;
    while (size < bytes) size *= 2;
    return size;
  }
  let p = POOL_POW2_MAX; // largest power of two ≤ bytes
  while (p * 2 <= bytes) p *= 2;
  const step = p / 8;
  return Math.ceil(bytes / step) * step;
}

/**
 * The bytes the pool allocates for a request of `bytes`: its `sizeClass`,
 * clamped so it never exceeds the cap the request itself fits — the binding
 * limit for a STORAGE buffer whose request fits it, else maxBufferSize. The
 * clamp goes to the cap rounded down to 16 bytes (4 when the request needs the
 * last 12), so requests near a non-power-of-two cap still share one size. The
 * result is ≥ bytes and a multiple of 4 (WebGPU: copies, mapping and storage
 * binding sizes are multiples of 4). Throws a RangeError when the request,
 * rounded up to 4 bytes, exceeds maxBufferSize.
 */
export function poolSize(bytes: number, limits: PoolLimits, storage = false): number {
  if (!(bytes > 0)) bytes = 4;
  const need = Math.ceil(bytes / 4) * 4;
  if (need > limits.maxBufferSize) {
    throw new RangeError(`a ${bytes}-byte GPU buffer exceeds the device's maxBufferSize of ${limits.maxBufferSize} bytes`);
  }
  const binding = limits.maxBindingSize ?? limits.maxBufferSize;
  const cap = storage && need <= binding ? Math.min(binding, limits.maxBufferSize) : limits.maxBufferSize;
  const cap16 = Math.floor(cap / 16) * 16;
  return Math.min(sizeClass(bytes), cap16 >= need ? cap16 : Math.floor(cap / 4) * 4);
}

const STORAGE_BIT = 0x80;

/**
 * Hands out GPU buffers in `poolSize` classes and keeps released ones for reuse,
 * keyed by exact size and usage. Counts what it holds (`stats`).
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly sizes = new Map<GPUBuffer, number>();
  private liveBytes = 0;
  private readonly limits: Required<PoolLimits>;
  /** Readbacks (readF32 calls, one mapAsync each) through this pool so far. */
  readbacks = 0;
  /**
   * Milliseconds added to every readback (benchmarks: a browser's mapAsync
   * round trip, gpuweb/gpuweb#4432). 0 by default.
   */
  readonly readbackLatencyMs: number;

  /**
   * `maxBufferSize`: the device's. `opts.maxBindingSize`: the storage binding
   * limit (the device's maxStorageBufferBindingSize); defaults to maxBufferSize.
   */
  constructor(private readonly device: GPUDevice, maxBufferSize: number, opts: { readbackLatencyMs?: number; maxBindingSize?: number } = {}) {
    const ms = opts.readbackLatencyMs ?? 0;
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`readbackLatencyMs must be a finite number ≥ 0, got ${ms}`);
    if (!(maxBufferSize >= 4)) throw new RangeError(`maxBufferSize must be at least 4 bytes, got ${maxBufferSize}`);
    const bind = opts.maxBindingSize ?? maxBufferSize;
    if (!(bind >= 4)) throw new RangeError(`maxBindingSize must be at least 4 bytes, got ${opts.maxBindingSize}`);
    this.readbackLatencyMs = ms;
    this.limits = { maxBufferSize, maxBindingSize: bind };
  }

  /** The bytes one storage binding may hold (as the pool was told). */
  get maxBindingSize(): number {
    return this.limits.maxBindingSize;
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    if (!(bytes > 0)) bytes = 4;
    if (Math.ceil(bytes / 4) * 4 > this.limits.maxBufferSize) {
      throw new RangeError(`a ${bytes}-byte GPU buffer${label ? ` (${label})` : ''} exceeds the device's maxBufferSize of ${this.limits.maxBufferSize} bytes`);
    }
    const size = poolSize(bytes, this.limits, (usage & STORAGE_BIT) !== 0);
    const key = `${size}:${usage}`;
    const list = this.free.get(key);
    let buf = list?.pop();
    if (!buf) {
      buf = this.device.createBuffer({ size, usage, label });
      countEngine('buffers', 1);
    }
    this.sizes.set(buf, size);
    this.liveBytes += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    const size = this.sizes.get(buf);
    if (size === undefined) return;
    this.sizes.delete(buf);
    this.liveBytes -= size;
    const key = `${size}:${buf.usage}`;
    const list = this.free.get(key) ?? [];
    list.push(buf);
    this.free.set(key, list);
  }

  stats(): PoolStats {
    let pooled = 0;
    for (const l of this.free.values()) pooled += l.length;
    return { live: this.sizes.size, liveBytes: this.liveBytes, pooled };
  }

  /** Destroys every buffer, live or pooled. */
  destroy(): void {
    for (const b of this.sizes.keys()) b.destroy();
    for (const l of this.free.values()) for (const b of l) b.destroy();
    countEngine('buffers', -(this.sizes.size + this.stats().pooled));
    this.sizes.clear();
    this.free.clear();
    this.liveBytes = 0;
  }
}

export const STORAGE = 0x80 | 0x08 | 0x04; // STORAGE | COPY_DST | COPY_SRC
export const UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST
const MAP_READ_DST = 0x01 | 0x08; // MAP_READ | COPY_DST

/**
 * Reads `count` f32 values at element offset `offset` of each source, in one
 * submit and ONE readback: the sources are copied side by side into a single
 * staging buffer, mapped once. Counted in `pool.readbacks`; waits
 * `pool.readbackLatencyMs` more when set.
 */
export async function readF32(device: GPUDevice, pool: BufferPool, sources: { buffer: GPUBuffer; offset?: number; count: number }[]): Promise<Float32Array[]> {
  const enc = device.createCommandEncoder();
  const starts: number[] = [];
  let total = 0;
  for (const s of sources) {
    starts.push(total);
    total += s.count;
  }
  const bytes = Math.max(4, total * 4);
  const st = pool.acquire(bytes, MAP_READ_DST, 'readback');
  sources.forEach((s, i) => {
    if (s.count > 0) enc.copyBufferToBuffer(s.buffer, (s.offset ?? 0) * 4, st, starts[i]! * 4, s.count * 4);
  });
  device.queue.submit([enc.finish()]);
  pool.readbacks++;
  try {
    await st.mapAsync(0x0001, 0, bytes);
    const all = new Float32Array(st.getMappedRange(0, bytes).slice(0, total * 4));
    st.unmap();
    if (pool.readbackLatencyMs > 0) await new Promise((r) => setTimeout(r, pool.readbackLatencyMs));
    return sources.map((s, i) => all.slice(starts[i]!, starts[i]! + s.count));
  } finally {
    pool.release(st);
  }
}
/** Writes f64 or f32 values as f32 into `buffer` at element offset `offset`. */
export function writeF32(device: GPUDevice, buffer: GPUBuffer, values: ArrayLike<number>, offset = 0): void {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  device.queue.writeBuffer(buffer, offset * 4, f32.buffer, f32.byteOffset, f32.byteLength);
}
