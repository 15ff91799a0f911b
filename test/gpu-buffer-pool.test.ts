// The buffer pool on a device: a STORAGE buffer under a non-power-of-two binding
// limit binds whole, released buffers are reused, and stats stay right.
import { describe, expect, it } from 'vitest';
import { BufferPool, readF32, STORAGE } from '../src/gpu/buffers.js';
import { gpu } from './helpers/gpu.js';

// Writes arrayLength into a[0]: the kernel binds the whole buffer and reports its length.
const WGSL = `
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@compute @workgroup_size(1) fn main() { a[0] = f32(arrayLength(&a)); }`;

describe('BufferPool with a low binding limit', () => {
  it('keeps a STORAGE buffer under a 3000-byte limit, binds it whole, and reuses it', async () => {
    const ctx = await gpu();
    const { device } = ctx;
    const limit = 3000; // not a power of two: the old rounding gave 4096
    const pool = new BufferPool(device, ctx.limits.maxBufferSize, { maxBindingSize: limit });
    try {
      const buf = pool.acquire(2500, STORAGE, 'small');
      expect(buf.size).toBeLessThanOrEqual(limit);
      expect(buf.size).toBe(2992);
      expect(pool.stats()).toEqual({ live: 1, liveBytes: 2992, pooled: 0 });

      const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: WGSL }), entryPoint: 'main' } });
      device.pushErrorScope('validation');
      const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(1);
      pass.end();
      device.queue.submit([enc.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      const [got] = await readF32(device, pool, [{ buffer: buf, count: 1 }]);
      expect(got![0]).toBe(2992 / 4);
      ctx.check();

      // Released, then a request in the same class gets the same buffer back.
      pool.release(buf);
      expect(pool.stats()).toEqual({ live: 0, liveBytes: 0, pooled: 2 }); // the buffer and readF32's staging buffer
      const again = pool.acquire(2900, STORAGE, 'again');
      expect(again).toBe(buf);
      expect(pool.stats()).toEqual({ live: 1, liveBytes: 2992, pooled: 1 });
      // Over the binding limit: not capped by it (maxBufferSize only), a separate class.
      const over = pool.acquire(3200, STORAGE, 'over');
      expect(over.size).toBe(4096);
      expect(pool.stats()).toEqual({ live: 2, liveBytes: 2992 + 4096, pooled: 1 });
      pool.release(over);
      pool.release(again);
      pool.release(again); // a second release is ignored
      expect(pool.stats()).toEqual({ live: 0, liveBytes: 0, pooled: 3 });
    } finally {
      pool.destroy();
    }
    expect(pool.stats()).toEqual({ live: 0, liveBytes: 0, pooled: 0 });
  });

  it('refuses a request over maxBufferSize, naming the bytes, the label and the limit', async () => {
    const ctx = await gpu();
    const pool = new BufferPool(ctx.device, 4096);
    expect(() => pool.acquire(4097, STORAGE, 'big')).toThrow('a 4097-byte GPU buffer (big) exceeds the device\'s maxBufferSize of 4096 bytes');
    expect(pool.stats()).toEqual({ live: 0, liveBytes: 0, pooled: 0 });
    expect(() => new BufferPool(ctx.device, 4096, { maxBindingSize: 0 })).toThrow(/maxBindingSize must be at least 4 bytes, got 0/);
  });
});
