// The browser demo: a (sparse, denoising, tied …) autoencoder trained live on the
// GPU with webgpu-nn. θ, ∇θ and the data stay on the GPU; the page reads back
// only the mini-batch cost every few steps, ρ̂ and a few reconstructions now and
// then. The feature tiles are drawn by a render pass straight from the weight
// buffer (GpuFeatureTiles), never read back.
//
// State for tests is on #status: data-state (loading | ready | running | paused |
// error | no-webgpu), data-step, data-cost (last cost read), data-first-cost.
// Any control can be preset from the URL: ?hidden=25&batch=50&data=mnist; ?gemm=
// forces a GEMM variant (skips the timing of variants on first use).

import {
  adapterLabel,
  createModel,
  decodeModel,
  drawRgba,
  encodeModel,
  GEMM_VARIANT_NAMES,
  GpuFeatureTiles,
  engineLimits,
  exportOnnx,
  GpuObjective,
  modelJson,
  networkToSpec,
  normalizePatches,
  optimize,
  reconstructionGrid,
  rgbaToGray,
  samplePatches,
  type GemmVariant,
  type GpuModel,
  type GrayImage,
  type Matrix,
  type NetworkSpec,
  type Network,
} from '../src/index.js';
import { whitenImage } from '../src/data/whiten-images.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};
const statusEl = $('status');
const params = new URLSearchParams(location.search);

// ---------------------------------------------------------------- controls

type Controls = {
  data: string;
  patch: number;
  whiten: boolean;
  hidden: number;
  activation: string;
  lambda: number;
  beta: number;
  rho: number;
  corruption: string;
  level: number;
  tied: boolean;
  contractive: number;
  kSparse: number;
  optimizer: 'adam' | 'sgd' | 'momentum';
  batch: number;
  lr: number;
  costEvery: number;
};
const CONTROL_IDS = ['data', 'patch', 'whiten', 'hidden', 'activation', 'lambda', 'beta', 'rho', 'corruption', 'level', 'tied', 'contractive', 'ksparse', 'optimizer', 'batch', 'lr', 'cost-every'];

for (const id of CONTROL_IDS) {
  const v = params.get(id);
  if (v === null) continue;
  const el = $(id) as HTMLInputElement | HTMLSelectElement;
  if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = v === '1' || v === 'true';
  else el.value = v;
}
const gemmParam = params.get('gemm');
const gemmVariant = gemmParam && (GEMM_VARIANT_NAMES as string[]).includes(gemmParam) ? (gemmParam as GemmVariant) : undefined;

function readControls(): Controls {
  const num = (id: string): number => Number(($(id) as HTMLInputElement).value);
  const val = (id: string): string => ($(id) as HTMLInputElement).value;
  const chk = (id: string): boolean => ($(id) as HTMLInputElement).checked;
  return {
    data: val('data'),
    patch: num('patch'),
    whiten: chk('whiten'),
    hidden: num('hidden'),
    activation: val('activation'),
    lambda: num('lambda'),
    beta: num('beta'),
    rho: num('rho'),
    corruption: val('corruption'),
    level: num('level'),
    tied: chk('tied'),
    contractive: num('contractive'),
    kSparse: Math.round(num('ksparse')),
    optimizer: val('optimizer') as Controls['optimizer'],
    batch: num('batch'),
    lr: num('lr'),
    costEvery: Math.max(1, Math.round(num('cost-every'))),
  };
}

function setStatus(state: string, text: string): void {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function showError(e: unknown): void {
  const msg = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e);
  const el = $('error');
  el.hidden = false;
  el.textContent = msg;
  console.error(e);
}

// ---------------------------------------------------------------- data

interface DemoData {
  /** Training examples (rows), float32. */
  X: Matrix;
  /** A few held-out examples shown with their reconstructions. */
  shown: Matrix;
  side: number;
  description: string;
  preprocessing: unknown;
}

let mnistBytes: Promise<Uint8Array> | null = null;
let naturalImagesP: Promise<GrayImage[] | null> | null = null;
const droppedImages: GrayImage[] = [];

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url);
  if (!r.ok) return null;
  return new Uint8Array(await r.arrayBuffer());
}

const SHOWN = 10;

async function mnistData(): Promise<DemoData> {
  mnistBytes ??= fetchBytes('data/mnist.bin').then((b) => {
    if (!b) throw new Error('data/mnist.bin is missing from this build (npm run build:demo generates it)');
    return b;
  });
  const bytes = await mnistBytes;
  const n = bytes.length / 784;
  const held = Math.min(500, Math.floor(n / 10));
  const m = n - held;
  const X = new Float32Array(m * 784);
  for (let i = 0; i < X.length; i++) X[i] = bytes[i]! / 255;
  const shown = new Float32Array(SHOWN * 784);
  for (let i = 0; i < shown.length; i++) shown[i] = bytes[m * 784 + i]! / 255;
  return {
    X: { rows: m, cols: 784, data: X },
    shown: { rows: SHOWN, cols: 784, data: shown },
    side: 28,
    description: `${m} MNIST digits (28 × 28, pixels in [0, 1]); ${held} held out`,
    preprocessing: { demo: 'mnist', scale: '1/255' },
  };
}

function decodeNatural(b: Uint8Array): GrayImage[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(0, true);
  const images: GrayImage[] = [];
  let off = 4 + 8 * count;
  for (let i = 0; i < count; i++) {
    const width = dv.getUint32(4 + 8 * i, true);
    const height = dv.getUint32(8 + 8 * i, true);
    const data = Float64Array.from(new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + width * height * 4)));
    images.push({ width, height, data, name: `natural ${i + 1}` });
    off += width * height * 4;
  }
  return images;
}

function patchData(images: GrayImage[], size: number, what: string): DemoData {
  const count = 10000 + SHOWN;
  const P = normalizePatches(samplePatches(images, { count, size, seed: 1 }));
  const n = size * size;
  const X = Float32Array.from(P.data.subarray(0, (count - SHOWN) * n));
  const shown = Float32Array.from(P.data.subarray((count - SHOWN) * n));
  return {
    X: { rows: count - SHOWN, cols: n, data: X },
    shown: { rows: SHOWN, cols: n, data: shown },
    side: size,
    description: `${count - SHOWN} random ${size} × ${size} patches of ${what}, normalized as UFLDL ([0.1, 0.9])`,
    preprocessing: { demo: 'patches', size, normalize: 'ufldl' },
  };
}

async function loadData(c: Controls, side?: number): Promise<DemoData> {
  const size = side ?? c.patch;
  if (c.data === 'mnist') return mnistData();
  if (!(Number.isInteger(size) && size >= 4 && size <= 28)) throw new Error(`patch size must be an integer in 4 … 28, got ${size}`);
  if (c.data === 'natural') {
    naturalImagesP ??= fetchBytes('data/natural.bin').then((b) => (b ? decodeNatural(b) : null));
    const imgs = await naturalImagesP;
    if (!imgs) {
      throw new Error(
        'natural images are not in this build: they come from Debian\'s python3-skimage; run `node dist/cli/wgnn.js data natural --install` and rebuild the demo (npm run build:demo). Or drop your own photographs.',
      );
    }
    return patchData(imgs, size, `${imgs.length} whitened photographs`);
  }
  if (droppedImages.length === 0) throw new Error('drop one or more images onto the page first');
  const imgs = c.whiten ? droppedImages.map((im) => whitenImage(im)) : droppedImages;
  return patchData(imgs, size, `${droppedImages.length} dropped image(s)${c.whiten ? ', whitened' : ''}`);
}

async function imageFromFile(file: File): Promise<GrayImage> {
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 512 / Math.max(bmp.width, bmp.height));
  const w = Math.max(1, Math.round(bmp.width * scale));
  const h = Math.max(1, Math.round(bmp.height * scale));
  const cv = document.createElement('canvas');
  cv.width = w;
  cv.height = h;
  const g = cv.getContext('2d')!;
  g.drawImage(bmp, 0, 0, w, h);
  return rgbaToGray(g.getImageData(0, 0, w, h).data, w, h, file.name);
}

// ---------------------------------------------------------------- GPU

let device: GPUDevice;
/** Kept alive for the page's lifetime: Chromium aborts mapAsync once the adapter (and its instance) is collected. */
let adapterRef: GPUAdapter | null = null;
let featureContext: GPUCanvasContext;
const canvasFormat = (): GPUTextureFormat => navigator.gpu.getPreferredCanvasFormat();

async function initGpu(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter) {
    $('no-webgpu').hidden = false;
    $('app').hidden = true;
    setStatus('no-webgpu', 'No WebGPU in this browser: the demo cannot run here.');
    return false;
  }
  adapterRef = adapter;
  (globalThis as { __wgnnAdapter?: GPUAdapter }).__wgnnAdapter = adapterRef;
  device = await adapter.requestDevice({ requiredLimits: engineLimits(adapter) });
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') {
      setStatus('error', `WebGPU device lost: ${info.message}`);
      showError(new Error(`WebGPU device lost (${info.reason}): ${info.message}`));
    }
  });
  const ctx = $<HTMLCanvasElement>('features').getContext('webgpu');
  if (!ctx) throw new Error('the feature canvas has no webgpu context');
  featureContext = ctx;
  return true;
}

// ---------------------------------------------------------------- session

interface Point {
  step: number;
  cost: number;
  data: number;
  weightDecay: number;
  sparsity: number;
  contractive: number;
}

interface Session {
  model: GpuModel;
  objective: GpuObjective;
  tiles: GpuFeatureTiles;
  data: DemoData;
  controls: Controls;
  steps: number;
  history: Point[];
  loop: Promise<void> | null;
  /** Samples/s: samples and busy seconds of the current window. */
  rate: { samples: number; seconds: number; t: number; value: number };
}

let session: Session | null = null;
let mode: 'idle' | 'running' | 'paused' = 'idle';
let stopRequested = false;
let stepsAllowed = 0;
let wake: (() => void) | null = null;
const wakeUp = (): void => {
  const w = wake;
  wake = null;
  w?.();
};

function specFor(c: Controls, inputs: number): NetworkSpec {
  if (!(Number.isInteger(c.hidden) && c.hidden >= 1)) throw new Error(`hidden units must be a positive integer, got ${c.hidden}`);
  const spec: NetworkSpec = {
    layers: [inputs, c.hidden, inputs],
    activation: [c.activation as 'sigmoid', 'sigmoid'],
    loss: 'squared',
    autoencoder: true,
    lambda: c.lambda,
  };
  // k-sparse sets the sparsity itself (KL would be infinite for a unit that never wins).
  if (c.beta > 0 && c.activation === 'sigmoid' && !(c.kSparse > 0)) spec.sparsity = { rho: c.rho, beta: c.beta };
  if (c.corruption !== 'none' && c.level > 0) spec.corruption = { kind: c.corruption as 'mask', level: c.level, seed: 1 };
  if (c.tied) spec.tied = true;
  if (c.contractive > 0) spec.contractive = { weight: c.contractive };
  if (c.kSparse > 0) spec.kSparse = { k: c.kSparse };
  return spec;
}

function controlsFromNetwork(net: Network): void {
  const set = (id: string, v: string | number | boolean): void => {
    const el = $(id) as HTMLInputElement;
    if (typeof v === 'boolean') el.checked = v;
    else el.value = String(v);
  };
  set('hidden', net.layers[1]!);
  set('activation', net.activations[0]!.name);
  set('lambda', net.lambda);
  set('beta', net.sparsity ? net.sparsity.beta : 0);
  if (net.sparsity) set('rho', net.sparsity.rho);
  set('corruption', net.corruption ? net.corruption.kind : 'none');
  if (net.corruption) set('level', net.corruption.level);
  set('tied', net.tied);
  set('contractive', net.contractive ? net.contractive.weight : 0);
  set('ksparse', net.kSparse ? net.kSparse.k : 0);
  if (net.layers[0] !== 784) {
    if (($('data') as HTMLSelectElement).value === 'mnist') set('data', droppedImages.length ? 'dropped' : 'natural');
    set('patch', Math.round(Math.sqrt(net.layers[0]!)));
  } else {
    set('data', 'mnist');
  }
}

/** Builds run one after another: a second one waits, then tears down the first's session (none is left undisposed). */
let building: Promise<void> = Promise.resolve();
function build(loaded?: { network: Network; theta: Float64Array }): Promise<void> {
  const next = building.then(() => buildNow(loaded));
  building = next.catch(() => undefined);
  return next;
}

async function buildNow(loaded?: { network: Network; theta: Float64Array }): Promise<void> {
  await teardown();
  const c = readControls();
  setStatus('loading', 'Preparing data…');
  const side = loaded ? Math.round(Math.sqrt(loaded.network.layers[0]!)) : undefined;
  if (loaded && side! * side! !== loaded.network.layers[0]) throw new Error(`the model's ${loaded.network.layers[0]} inputs are not a square image`);
  const data = await loadData(c, side);
  $('data-info').textContent = data.description;
  const spec = loaded ? networkToSpec(loaded.network) : specFor(c, data.X.cols);
  if (loaded && !loaded.network.autoencoder) throw new Error('the demo shows autoencoders; this model is not one');
  setStatus('loading', 'Building the model (compiling shaders)…');
  const model = (await createModel(spec, { backend: 'webgpu', device, seed: 1, init: 'ufldl', gemmVariant, parameters: loaded?.theta })) as GpuModel;
  const objective = new GpuObjective(model, data.X);
  const s0 = model.layout.slots[0]!;
  const tiles = new GpuFeatureTiles(device, { nOut: s0.nOut, nIn: s0.nIn, format: canvasFormat() });
  const zoom = Math.max(1, Math.min(12, Math.floor(480 / tiles.width)));
  const fc = $<HTMLCanvasElement>('features');
  fc.style.width = `${tiles.width * zoom}px`;
  fc.style.height = `${tiles.height * zoom}px`;
  session = { model, objective, tiles, data, controls: c, steps: 0, history: [], loop: null, rate: { samples: 0, seconds: 0, t: 0, value: 0 } };
  stopRequested = false;
  stepsAllowed = 0;
  mode = 'idle';
  $('pending').hidden = true;
  drawFeatures();
  await drawRhoHat();
  await drawReconstructions();
  drawCostChart();
  statusEl.dataset.step = '0';
  statusEl.dataset.cost = '';
  delete statusEl.dataset.firstCost;
  setStatus('ready', `Ready: ${spec.layers.join('-')} autoencoder on ${data.X.rows} examples. Press Start.`);
  updateButtons();
}

async function teardown(): Promise<void> {
  if (!session) return;
  if (session.loop) {
    stopRequested = true;
    wakeUp();
    await session.loop;
  }
  session.objective.dispose();
  session.tiles.destroy();
  session.model.dispose();
  session = null;
  mode = 'idle';
}

function drawFeatures(): void {
  if (!session) return;
  session.tiles.draw(featureContext, session.model.thetaBuffer, session.model.layout.slots[0]!.w);
}

const macrotask = (): Promise<void> =>
  new Promise((ok) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => ok();
    ch.port2.postMessage(null);
  });

function launch(): void {
  const s = session!;
  const c = s.controls;
  const batchSize = Math.max(1, Math.min(Math.round(c.batch), s.data.X.rows));
  s.rate.t = performance.now();
  const onIteration = async (info: { iteration: number; cost: number | null }): Promise<boolean> => {
    s.steps = info.iteration;
    // Throttle to the GPU (an async wait, not a readback) so the queue never runs ahead.
    await device.queue.onSubmittedWorkDone();
    const now = performance.now();
    s.rate.samples += batchSize;
    s.rate.seconds += (now - s.rate.t) / 1000;
    if (s.rate.seconds >= 1) {
      s.rate.value = s.rate.samples / s.rate.seconds;
      s.rate.samples = 0;
      s.rate.seconds = 0;
    }
    if (info.cost !== null && Number.isFinite(info.cost)) {
      const p = s.objective.lastReport?.parts;
      s.history.push({ step: info.iteration, cost: info.cost, data: p?.data ?? NaN, weightDecay: p?.weightDecay ?? 0, sparsity: p?.sparsity ?? 0, contractive: p?.contractive ?? 0 });
      statusEl.dataset.cost = String(info.cost);
      statusEl.dataset.firstCost ??= String(info.cost);
      drawCostChart();
    }
    // Paused or stepping: apply the optimizer's pending update first, so the pictures show θ after this step.
    if (mode !== 'running') await s.objective.ops.flush();
    if (info.iteration % 5 === 0 || mode !== 'running') drawFeatures();
    if (info.iteration % 25 === 0 || mode !== 'running') await drawRhoHat();
    if (info.iteration % 100 === 0 || mode !== 'running') await drawReconstructions();
    showProgress();
    await macrotask();
    while (mode === 'paused' && !stopRequested) {
      if (stepsAllowed > 0) {
        stepsAllowed--;
        break;
      }
      showProgress();
      await new Promise<void>((ok) => (wake = ok));
    }
    s.rate.t = performance.now();
    return !stopRequested;
  };
  const common = { learningRate: c.lr, batchSize, iterations: Infinity, epochs: Infinity, costEvery: c.costEvery, seed: 1, onIteration };
  const opts = c.optimizer === 'adam' ? { method: 'adam' as const, ...common } : c.optimizer === 'momentum' ? { method: 'momentum' as const, ...common } : { method: 'sgd' as const, ...common };
  s.loop = optimize(s.objective, opts)
    .then(() => undefined)
    .catch((e) => {
      setStatus('error', 'Training stopped with an error.');
      showError(e);
    })
    .finally(() => {
      s.loop = null;
      if (session === s) mode = 'idle';
      updateButtons();
    });
}

function showProgress(): void {
  const s = session;
  if (!s) return;
  statusEl.dataset.step = String(s.steps);
  const last = s.history[s.history.length - 1];
  const cost = last ? `J = ${last.cost.toFixed(4)}` : 'J = …';
  const state = mode === 'running' ? 'running' : 'paused';
  setStatus(state, `${state === 'running' ? 'Training' : 'Paused'} · step ${s.steps} · epoch ${((s.steps * s.controls.batch) / s.data.X.rows).toFixed(2)} · ${cost}`);
  $('speed').textContent = s.rate.value ? `${Math.round(s.rate.value)} samples/s (batch ${s.controls.batch}) on ${adapterLabel(s.model.adapter)}` : '';
}

function updateButtons(): void {
  const has = !!session;
  ($('start') as HTMLButtonElement).disabled = !has || mode === 'running';
  ($('pause') as HTMLButtonElement).disabled = mode !== 'running';
  ($('step') as HTMLButtonElement).disabled = !has || mode === 'running';
  ($('reset') as HTMLButtonElement).disabled = false;
  ($('export') as HTMLButtonElement).disabled = !has || mode === 'running';
  ($('load') as HTMLButtonElement).disabled = mode === 'running';
  $('start').textContent = mode === 'paused' ? 'Resume' : 'Start';
}

// ---------------------------------------------------------------- pictures

const COLORS: [keyof Point, string][] = [
  ['cost', '#111'],
  ['data', '#1f77b4'],
  ['weightDecay', '#ff7f0e'],
  ['sparsity', '#2ca02c'],
  ['contractive', '#9467bd'],
];

function drawCostChart(): void {
  const cv = $<HTMLCanvasElement>('cost-chart');
  const g = cv.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, cv.width, cv.height);
  const h = session?.history ?? [];
  const series = COLORS.filter(([k]) => h.some((p) => (p[k] as number) > 0));
  $('legend').innerHTML = series.map(([k, col]) => `<span style="color:${col}">■ ${k === 'cost' ? 'J' : k}</span>`).join('');
  if (h.length < 1) return;
  const L = 44;
  const B = 18;
  const W = cv.width - L - 6;
  const H = cv.height - B - 6;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of h) for (const [k] of series) {
    const v = p[k] as number;
    if (v > 0) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi > 0)) return;
  const llo = Math.log10(lo);
  const lhi = Math.max(Math.log10(hi), llo + 1e-6);
  const x0 = h[0]!.step;
  const x1 = Math.max(h[h.length - 1]!.step, x0 + 1);
  const X = (s: number): number => L + ((s - x0) / (x1 - x0)) * W;
  const Y = (v: number): number => 6 + (1 - (Math.log10(v) - llo) / (lhi - llo)) * H;
  g.strokeStyle = '#ccc';
  g.fillStyle = '#555';
  g.font = '10px sans-serif';
  for (let e = Math.floor(llo); e <= Math.ceil(lhi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < lo * 0.999 || v > hi * 1.001) continue;
      g.beginPath();
      g.moveTo(L, Y(v));
      g.lineTo(L + W, Y(v));
      g.stroke();
      g.fillText(String(+v.toPrecision(2)), 2, Y(v) + 3);
    }
  }
  g.fillText(`step ${x0}`, L, cv.height - 4);
  g.fillText(`${x1}`, L + W - 24, cv.height - 4);
  for (const [k, col] of series) {
    g.strokeStyle = col;
    g.beginPath();
    let started = false;
    for (const p of h) {
      const v = p[k] as number;
      if (!(v > 0)) continue;
      if (started) g.lineTo(X(p.step), Y(v));
      else g.moveTo(X(p.step), Y(v));
      started = true;
    }
    g.stroke();
  }
}

async function drawRhoHat(): Promise<void> {
  const s = session;
  if (!s) return;
  const [r] = await s.model.readRhoHat();
  const cv = $<HTMLCanvasElement>('rho-hist');
  const g = cv.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, cv.width, cv.height);
  if (!r) return;
  const net = s.model.network;
  const rho = net.sparsity?.rho ?? null;
  // ρ̂ of the last batch (before any training step: all zero, nothing drawn yet).
  if (s.steps === 0) {
    g.fillStyle = '#888';
    g.font = '12px sans-serif';
    g.fillText('ρ̂ appears after the first step', 10, 20);
    return;
  }
  let max = 0;
  for (const v of r) max = Math.max(max, v);
  const top = Math.min(1, Math.max(rho !== null ? 3 * rho : 0, max * 1.05, 0.05));
  const bins = 40;
  const counts = new Array<number>(bins).fill(0);
  for (const v of r) counts[Math.min(bins - 1, Math.floor((v / top) * bins))]!++;
  const cmax = Math.max(...counts);
  const B = 16;
  const W = cv.width - 10;
  const H = cv.height - B - 6;
  g.fillStyle = '#1f77b4';
  counts.forEach((c, i) => {
    const bh = (c / cmax) * H;
    g.fillRect(5 + (i * W) / bins, 6 + H - bh, W / bins - 1, bh);
  });
  if (rho !== null) {
    g.strokeStyle = '#d00';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(5 + (rho / top) * W, 4);
    g.lineTo(5 + (rho / top) * W, 6 + H);
    g.stroke();
    g.lineWidth = 1;
  }
  g.fillStyle = '#555';
  g.font = '10px sans-serif';
  let mean = 0;
  for (const v of r) mean += v / r.length;
  g.fillText(`0`, 5, cv.height - 4);
  g.fillText(`${top.toPrecision(2)}`, W - 20, cv.height - 4);
  g.fillText(`mean ρ̂ ${mean.toFixed(3)}${rho !== null ? `, ρ ${rho}` : ' (no sparsity penalty)'}`, cv.width / 2 - 60, cv.height - 4);
}

async function drawReconstructions(): Promise<void> {
  const s = session;
  if (!s) return;
  const out = await s.model.predict(s.data.shown);
  const img = reconstructionGrid(s.data.shown, out, s.data.side, s.data.side, { pairsPerRow: 5 });
  drawRgba($<HTMLCanvasElement>('recon'), img, { zoom: Math.max(2, Math.floor(480 / img.width)) });
}

// ---------------------------------------------------------------- files

function download(name: string, bytes: Uint8Array | string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function exportModel(): Promise<void> {
  const s = session;
  if (!s) return;
  await s.objective.ops.flush();
  const theta = await s.model.readParameters();
  const net = s.model.network;
  download('model.safetensors', encodeModel(net, theta, s.data.preprocessing), 'application/octet-stream');
  const json = { ...modelJson(net, s.data.preprocessing), steps: s.steps };
  download('model.json', JSON.stringify(json, null, 2) + '\n', 'application/json');
  // The inference graph for ONNX runtimes (whitening folded in; outputs "output" and "code").
  download('model.onnx', await exportOnnx({ network: net, theta, preprocessing: s.data.preprocessing }), 'application/octet-stream');
}

async function loadModel(file: File): Promise<void> {
  const saved = decodeModel(new Uint8Array(await file.arrayBuffer()), file.name);
  controlsFromNetwork(saved.network);
  await build({ network: saved.network, theta: saved.theta });
  setStatus('ready', `Loaded ${file.name}: ${saved.network.layers.join('-')}. Press Start to continue training.`);
}

// ---------------------------------------------------------------- wiring

function guard(f: () => unknown): () => void {
  return () => {
    Promise.resolve()
      .then(f)
      .catch((e) => {
        setStatus('error', 'Something went wrong (see below).');
        showError(e);
        updateButtons();
      });
  };
}

function wire(): void {
  $('start').addEventListener('click', guard(() => {
    if (!session) return;
    $('error').hidden = true;
    if (mode === 'paused') {
      mode = 'running';
      wakeUp();
    } else if (mode === 'idle' && !session.loop) {
      mode = 'running';
      launch();
    }
    updateButtons();
    showProgress();
  }));
  $('pause').addEventListener('click', () => {
    if (mode === 'running') mode = 'paused';
    updateButtons();
    showProgress();
  });
  $('step').addEventListener('click', guard(() => {
    if (!session) return;
    if (mode === 'idle' && !session.loop) {
      mode = 'paused';
      launch();
    } else if (mode === 'paused') {
      stepsAllowed++;
      wakeUp();
    }
    updateButtons();
  }));
  $('reset').addEventListener('click', guard(() => build()));
  $('export').addEventListener('click', guard(exportModel));
  $('load').addEventListener('click', () => $<HTMLInputElement>('load-file').click());
  $<HTMLInputElement>('load-file').addEventListener('change', guard(async () => {
    const f = $<HTMLInputElement>('load-file').files?.[0];
    if (f) await loadModel(f);
    $<HTMLInputElement>('load-file').value = '';
  }));
  // Settings that suit each kind of data (the UFLDL exercises' λ; a larger ρ
  // than UFLDL's 0.01 for patches, which Adam gets going from much sooner).
  const PRESETS: Record<string, Record<string, string>> = {
    mnist: { hidden: '64', lambda: '0.003', rho: '0.1', beta: '3' },
    natural: { hidden: '25', lambda: '0.0001', rho: '0.05', beta: '3' },
    dropped: { hidden: '25', lambda: '0.0001', rho: '0.05', beta: '3' },
  };
  $('data').addEventListener('change', () => {
    for (const [id, v] of Object.entries(PRESETS[($('data') as HTMLSelectElement).value] ?? {})) ($(id) as HTMLInputElement).value = v;
  });
  for (const id of CONTROL_IDS) {
    $(id).addEventListener('change', guard(async () => {
      if (id === 'cost-every' && session) {
        session.controls.costEvery = readControls().costEvery;
        if (mode === 'idle') return build();
      }
      if (session && (session.steps > 0 || session.loop)) $('pending').hidden = false;
      else return build();
    }));
  }
  const drop = $('drop');
  const addFiles = async (files: FileList | null | undefined): Promise<void> => {
    const list = [...(files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (list.length === 0) return;
    for (const f of list) droppedImages.push(await imageFromFile(f));
    drop.textContent = `${droppedImages.length} image(s): ${droppedImages.map((i) => i.name).join(', ')}`;
    if (($('data') as HTMLSelectElement).value !== 'dropped') {
      ($('data') as HTMLSelectElement).value = 'dropped';
      $('data').dispatchEvent(new Event('change'));
      return;
    }
    if (session && (session.steps > 0 || session.loop)) $('pending').hidden = false;
    else await build();
  };
  drop.addEventListener('click', () => $<HTMLInputElement>('drop-file').click());
  $<HTMLInputElement>('drop-file').addEventListener('change', guard(() => addFiles($<HTMLInputElement>('drop-file').files)));
  for (const el of [document.body, drop]) {
    el.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  document.body.addEventListener('dragleave', () => drop.classList.remove('over'));
  document.body.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    guard(() => addFiles(e.dataTransfer?.files))();
  });
}

async function main(): Promise<void> {
  if (!(await initGpu())) return;
  wire();
  await build();
}

main().catch((e) => {
  setStatus('error', 'The demo failed to start (see below).');
  showError(e);
});
