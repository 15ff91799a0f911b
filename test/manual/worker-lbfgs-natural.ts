// Run: npx vite-node test/manual/worker-lbfgs-natural.ts [iterations=400] [out.png] (needs the natural photographs: wgnn data natural --install).
// By hand (not a test): the demo's natural-patches preset (64-25-64, λ 1e-4, β 3, ρ 0.01,
// L-BFGS over 10 000 patches) trained in the worker host (TrainerHost, as the page's worker)
// for N iterations on Dawn; writes the feature tiles to a PNG and prints the status the page shows.
import { TrainerHost } from '../../src/worker/host.js';
import type { TrainerEvent } from '../../src/worker/protocol.js';
import { naturalImages } from '../../src/data/natural.js';
import { whitenImage } from '../../src/data/whiten-images.js';
import { normalizePatches, samplePatches } from '../../src/index.js';
import { featureTiles, upscale } from '../../src/viz/tiles.js';
import { writePng } from '../../src/viz/png-node.js';
import { gpu } from '../helpers/gpu.js';

const N = Number(process.argv[2] ?? 400);
const out = process.argv[3] ?? 'docs/demo-lbfgs-natural-tiles.png';
const images = (await naturalImages()).map((img) => {
  const w = Math.floor(img.width / 2);
  const h = Math.floor(img.height / 2);
  const data = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const s = 2 * y * img.width + 2 * x;
      data[y * w + x] = (img.data[s]! + img.data[s + 1]! + img.data[s + img.width]! + img.data[s + img.width + 1]!) / 4;
    }
  return whitenImage({ width: w, height: h, data, name: img.name });
});
const P = normalizePatches(samplePatches(images, { count: 10500, size: 8, seed: 1 }));
const X = { rows: 10000, cols: 64, data: Float32Array.from(P.data.subarray(0, 10000 * 64)) };
const heldOut = { rows: 500, cols: 64, data: Float32Array.from(P.data.subarray(10000 * 64)) };
let replied = false;
let last: Extract<TrainerEvent, { type: 'progress' }> | null = null;
let stopped: string | null = null;
let wake: (() => void) | null = null;
let onReply: ((e: TrainerEvent) => void) | null = null;
const host = new TrainerHost({
  post: (e) => {
    if (e.type === 'progress' && e.lineSearch) last = e;
    if (e.type === 'stopped') stopped = e.reason;
    if (e.type === 'error') console.error('error', e.message);
    if (e.type === 'reply' && e.id === 1) { replied = true; if (!e.ok) console.error('build failed', e.error); }
    onReply?.(e);
    wake?.();
  },
  device: async () => (await gpu()).device,
});
const spec = { layers: [64, 25, 64], activation: ['sigmoid', 'sigmoid'], loss: 'squared', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } } as const;
let printed = -25;
console.log(`data ready: ${X.rows} patches`);
host.handle({ type: 'build', id: 1, request: { mode: 'autoencoder', spec: spec as never, X, heldOut, shown: 10, seed: 1, settings: { method: 'lbfgs', learningRate: 0.01, batchSize: 100, costEvery: 1, heldOutEveryMs: 5000 } } });
while (!replied) await new Promise((ok) => setTimeout(ok, 100));
console.log('built');
const t0 = Date.now();
host.handle({ type: 'start' });
for (;;) {
  await new Promise<void>((ok) => { wake = ok; setTimeout(ok, 1000); });
  const l = last as Extract<TrainerEvent, { type: 'progress' }> | null;
  if (l && l.step >= printed + 25 && (printed = l.step)) process.stdout.write(`iteration ${l.step} · ${l.lineSearch!.evaluations} evaluations · ‖∇J‖ = ${l.lineSearch!.gradNorm?.toPrecision(3)} · J = ${l.cost?.cost.toPrecision(4)} · ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if ((l && l.step >= N) || stopped) break;
}
host.handle({ type: 'pause' });
// θ as the page's Export reads it (a 'parameters' request, answered at the next iteration boundary).
const p = await new Promise<{ theta: Float64Array; steps: number }>((ok) => {
  onReply = (e) => {
    if (e.type === 'reply' && e.id === 2 && e.ok) ok(e.value as never);
  };
  host.handle({ type: 'parameters', id: 2 });
});
const l = last as Extract<TrainerEvent, { type: 'progress' }> | null;
console.log(`final: L-BFGS iteration ${p.steps} · ${l?.lineSearch?.evaluations} evaluations · ‖∇J‖ = ${l?.lineSearch?.gradNorm} · J = ${l?.cost?.cost} · stopped: ${stopped} · ${((Date.now() - t0) / 1000).toFixed(0)} s`);
writePng(out, upscale(featureTiles(p.theta.subarray(0, 25 * 64), 25, 64), 4));
console.log(`tiles → ${out}`);
process.exit(0);
