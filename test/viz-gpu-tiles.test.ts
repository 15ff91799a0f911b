// The GPU feature-tile renderer (src/viz/gpu-tiles.ts) draws the same picture as
// the CPU featureTiles (UFLDL display_network), read straight from a weight buffer.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/prng.js';
import { featureTiles } from '../src/viz/tiles.js';
import { GpuFeatureTiles } from '../src/viz/gpu-tiles.js';
import { gpu } from './helpers/gpu.js';

describe('GpuFeatureTiles', () => {
  it('matches featureTiles pixel for pixel (±1 level), reading W at an offset inside a larger buffer', async () => {
    const { device } = await gpu();
    const U = GPUBufferUsage;
    const nOut = 7;
    const nIn = 36;
    const offset = 13;
    const rng = new Rng(5);
    const buf = new Float32Array(offset + nOut * nIn + 9);
    for (let i = 0; i < buf.length; i++) buf[i] = rng.range(-1, 1);
    buf.fill(0, offset + 2 * nIn, offset + 3 * nIn); // an all-zero unit shows flat gray
    const W = buf.slice(offset, offset + nOut * nIn);
    const weights = device.createBuffer({ size: buf.byteLength, usage: U.STORAGE | U.COPY_DST });
    device.queue.writeBuffer(weights, 0, buf);

    const tiles = new GpuFeatureTiles(device, { nOut, nIn });
    const cpu = featureTiles(W, nOut, nIn);
    expect([tiles.width, tiles.height]).toEqual([cpu.width, cpu.height]);

    const bytesPerRow = Math.ceil((tiles.width * 4) / 256) * 256;
    const tex = device.createTexture({ size: [tiles.width, tiles.height], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    const out = device.createBuffer({ size: bytesPerRow * tiles.height, usage: U.COPY_DST | U.MAP_READ });
    const enc = device.createCommandEncoder();
    tiles.encode(enc, weights, offset, tex.createView());
    enc.copyTextureToBuffer({ texture: tex }, { buffer: out, bytesPerRow }, [tiles.width, tiles.height]);
    device.queue.submit([enc.finish()]);
    await out.mapAsync(GPUMapMode.READ);
    const px = new Uint8Array(out.getMappedRange().slice(0));
    out.unmap();
    let worst = 0;
    for (let y = 0; y < tiles.height; y++) {
      for (let x = 0; x < tiles.width; x++) {
        for (let c = 0; c < 4; c++) {
          worst = Math.max(worst, Math.abs(px[y * bytesPerRow + x * 4 + c]! - cpu.rgba[(y * tiles.width + x) * 4 + c]!));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    tiles.destroy();
    [weights, out, tex].forEach((b) => b.destroy());
  });
});
