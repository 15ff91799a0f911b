// First 70 features of each autoencoder-variant run (runs/mnist-<variant>, from examples/mnist-<variant>.json) as small PNGs for the README:
//   npx vite-node bench/experiments/variant-feature-sheet.ts [variant …]   (default: all five)
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeModel } from '../../src/io/model-file.js';
import { paramLayout } from '../../src/params.js';
import { featureTiles } from '../../src/viz/tiles.js';
import { encodePng } from '../../src/viz/png-node.js';
const names = process.argv.slice(2);
for (const name of names.length ? names : ['autoencoder', 'denoising', 'contractive', 'k-sparse', 'tied']) {
  const m = decodeModel(new Uint8Array(readFileSync(`runs/mnist-${name}/model.safetensors`)));
  const s = paramLayout(m.network).slots[0]!;
  const n = 70;
  const W = m.theta.subarray(s.w, s.w + n * s.nIn);
  writeFileSync(`docs/variants/${name}-features.png`, encodePng(featureTiles(W, n, s.nIn, { tileWidth: 28 })));
}
