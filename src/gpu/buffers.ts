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

/** Rounds sizes up to a power of two (min 256 B) so released buffers are reused. */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly sizes = new Map<GPUBuffer, number>();
  private liveBytes = 0;
  /** Readbacks (readF32 calls, one mapAsync each) through this pool so far. */
  readbacks = 0;
  /**
   * Milliseconds added to every readback (benchmarks: a browser's mapAsync
   * round trip, gpuweb/gpuweb#4432). 0 by default.
   */
  readonly readbackLatencyMs: number;

  constructor(private readonly device: GPUDevice, private readonly maxBufferSize: number, opts: { readbackLatencyMs?: number } = {}) {
    const ms = opts.readbackLatencyMs ?? 0;
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`readbackLatencyMs must be a finite number ≥ 0, got ${ms}`);
    this.readbackLatencyMs = ms;
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    if (!(bytes > 0)) bytes = 4;
    let size = 256;
    while (size < bytes) size *= 2;
    if (size > this.maxBufferSize) size = Math.ceil(bytes / 16) * 16;
    if (size > this.maxBufferSize) {
      throw new RangeError(`a ${bytes}-byte GPU buffer${label ? ` (${label})` : ''} exceeds the device's maxBufferSize of ${this.maxBufferSize} bytes`);
    }
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
