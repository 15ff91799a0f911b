import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeGray, imageFormat, rgbaToGray } from '../src/data/images.js';
import { loadImage, loadImageFolder } from '../src/data/images-node.js';
import { NATURAL_IMAGE_FILES, naturalImages, naturalImagesCacheDir } from '../src/data/natural.js';
import { samplePatches } from '../src/data/patches.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnn-img-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 3 × 2 RGBA: red, green, blue / white, black, mid gray.
const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 0]);
const luma = [0.299, 0.587, 0.114, 1, 0, 128 / 255];

function pngBytes(width: number, height: number, data: Uint8Array): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(data);
  return PNG.sync.write(png);
}

describe('image decoding', () => {
  it('converts RGBA to luma 0.299 R + 0.587 G + 0.114 B in [0, 1], ignoring alpha', () => {
    const g = rgbaToGray(rgba, 3, 2);
    expect(g.width).toBe(3);
    expect(g.height).toBe(2);
    g.data.forEach((v, i) => expect(v).toBeCloseTo(luma[i]!, 12));
    expect(() => rgbaToGray(rgba, 3, 3, 'x.png')).toThrow(/x\.png: 3 × 3 RGBA needs 36 bytes, got 24/);
  });

  it('decodes PNG exactly and JPEG approximately', () => {
    const png = pngBytes(3, 2, rgba);
    expect(imageFormat(png)).toBe('png');
    const g = decodeGray(png, 'a.png');
    g.data.forEach((v, i) => expect(v).toBeCloseTo(luma[i]!, 12));
    // A smooth gray ramp survives JPEG at quality 100 to within a few levels.
    const w = 16;
    const ramp = new Uint8Array(w * w * 4);
    for (let p = 0; p < w * w; p++) ramp.set([p, p, p, 255], p * 4);
    const jpg = jpeg.encode({ width: w, height: w, data: ramp }, 100).data;
    expect(imageFormat(jpg)).toBe('jpeg');
    const gj = decodeGray(jpg, 'ramp.jpg');
    expect(gj.width).toBe(w);
    gj.data.forEach((v, p) => expect(Math.abs(v - p / 255)).toBeLessThan(4 / 255));
  });

  it('names the file for undecodable bytes', () => {
    expect(() => decodeGray(Uint8Array.from([1, 2, 3, 4, 5]), 'notes.txt')).toThrow(/notes\.txt: neither a PNG nor a JPEG \(starts with bytes 01 02 03 04\)/);
    const png = pngBytes(3, 2, rgba);
    expect(() => decodeGray(png.subarray(0, 40), 'cut.png')).toThrow(/cut\.png: cannot decode PNG/);
    expect(() => decodeGray(Uint8Array.from([0xff, 0xd8, 0xff, 0, 0, 0]), 'bad.jpg')).toThrow(/bad\.jpg: cannot decode JPEG/);
  });

  it('loads a folder of images sorted by name', () => {
    writeFileSync(join(dir, 'b.png'), pngBytes(3, 2, rgba));
    writeFileSync(join(dir, 'a.PNG'), pngBytes(3, 2, rgba));
    writeFileSync(join(dir, 'readme.txt'), 'not an image');
    const imgs = loadImageFolder(dir);
    expect(imgs.map((i) => i.name)).toEqual(['a.PNG', 'b.png']);
    expect(loadImage(join(dir, 'b.png')).data.length).toBe(6);
    expect(() => loadImageFolder(join(dir, 'none'))).toThrow(/cannot read image folder .*none/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => loadImageFolder(empty)).toThrow(/image folder .*empty holds no \.png, \.jpg or \.jpeg files/);
  });
});

describe('naturalImages (Debian python3-skimage photographs)', () => {
  // A fresh cache folder, so that every run exercises the real apt-get download + dpkg-deb -x.
  it('fetches the package into an empty cache and returns the photographs as grayscale images', async () => {
    const cache = join(dir, 'skimage-cache');
    const imgs = await naturalImages({ cacheDir: cache });
    expect(imgs.map((i) => i.name)).toEqual([...NATURAL_IMAGE_FILES]);
    // Only the photographs and a note of their source stay; the .deb and the extracted tree are gone.
    expect(readdirSync(cache).sort()).toEqual([...NATURAL_IMAGE_FILES, 'SOURCE.txt'].sort());
    for (const img of imgs) {
      expect(existsSync(join(cache, img.name!))).toBe(true);
      expect(img.width).toBeGreaterThanOrEqual(300);
      expect(img.height).toBeGreaterThanOrEqual(300);
      let lo = Infinity;
      let hi = -Infinity;
      let sum = 0;
      for (const v of img.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        sum += v;
      }
      // Real photographs: values in [0, 1] with a wide range, not flat.
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(hi - lo).toBeGreaterThan(0.3);
      const mean = sum / img.data.length;
      expect(mean).toBeGreaterThan(0.05);
      expect(mean).toBeLessThan(0.95);
    }
    const camera = imgs.find((i) => i.name === 'camera.png')!;
    expect([camera.width, camera.height]).toEqual([512, 512]);
    // Memoized within the process.
    expect(await naturalImages({ cacheDir: cache })).toBe(imgs);
    // And usable for the sparse autoencoder exercise.
    const P = samplePatches(imgs, { count: 100, size: 8, seed: 1 });
    expect(P.rows).toBe(100);
    expect(P.cols).toBe(64);
  });

  it('says what is missing when apt-get is not available', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-such-bin');
    try {
      await expect(naturalImages({ cacheDir: join(dir, 'no-apt') })).rejects.toThrow(
        /needs Debian's `apt-get`, which is not on this machine[\s\S]*loadImageFolder/,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('caches under XDG_CACHE_HOME', () => {
    const saved = { w: process.env.WGNN_CACHE_DIR, x: process.env.XDG_CACHE_HOME };
    try {
      delete process.env.WGNN_CACHE_DIR;
      process.env.XDG_CACHE_HOME = '/tmp/xdg';
      expect(naturalImagesCacheDir()).toBe('/tmp/xdg/webgpu-nn/skimage');
      process.env.WGNN_CACHE_DIR = '/tmp/w';
      expect(naturalImagesCacheDir()).toBe('/tmp/w/skimage');
    } finally {
      if (saved.w === undefined) delete process.env.WGNN_CACHE_DIR;
      else process.env.WGNN_CACHE_DIR = saved.w;
      if (saved.x === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.x;
    }
  });
});
