// The browser demo: an autoencoder trained live on the GPU with webgpu-nn.
// Training runs in a dedicated worker (src/worker: WorkerTrainer) that owns the
// GPUDevice and draws the feature tiles into this page's canvas (transferred to
// it), so the page's main thread only draws charts from the readings it posts.
//
// This file wires the page: controls.ts (controls, validation, URL state),
// data.ts (data sources), charts.ts (charts and pictures), history.ts.
//
// State for tests is on #status: data-state (loading | ready | running | paused |
// diverged | invalid | error | no-webgpu), data-step, data-cost (last mini-batch
// cost), data-first-cost, data-held-out (last held-out cost), data-lr (the
// learning rate the trainer runs with), data-rate (steps/s).

import { decodeModel, encodeModel, exportOnnx, GEMM_VARIANT_NAMES, networkToSpec, resolveSpec, type Matrix, type Network, type NetworkSpec } from '../src/index.js';
import { latentScatter } from '../src/viz/latent.js';
import { WorkerTrainer } from '../src/worker/client.js';
import type { BuildInfo, TrainerEvent, TrainerState } from '../src/worker/protocol.js';
import { CostChart, drawImageGrid, drawReconstructions, drawRgba, drawRhoHistogram, drawTopInputs, availableWidth } from './charts.js';
import { addTooltips, applyPreset, CONTROLS, controlDef, readControls, readUrl, setValue, settingsFor, specFor, updateEnabled, validate, writeUrl, type Controls } from './controls.js';
import { droppedImages, imageFromFile, loadData, naturalAvailable, SHOWN, type DemoData } from './data.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};
const statusEl = $('status');

// ---------------------------------------------------------------- status and errors

function setStatus(state: string, text: string): void {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

/** Shows a message (never a stack trace: that goes to the console). */
function showError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  const el = $('error');
  el.hidden = false;
  el.textContent = msg;
  console.error(e);
}
function clearError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
}

// ---------------------------------------------------------------- session state

let trainer: WorkerTrainer;
let naturalOk = false;
let gemm: string | null = null;

interface Built {
  info: BuildInfo;
  data: DemoData;
  spec: NetworkSpec;
  controls: Controls;
  startStep: number;
}
let built: Built | null = null;
let state: TrainerState = 'idle';
let step = 0;
let stepsPerSecond = 0;
/** L-BFGS: evaluations so far (iterations + line-search steps) and ‖∇J‖. */
let lineSearch: { evaluations: number; gradNorm: number | null } | null = null;
/** Why the optimizer stopped by itself (L-BFGS converged), shown until training goes on. */
let stoppedNote: string | null = null;
let lastCost: number | null = null;
let rhoValues: Float32Array | null = null;
let recon: { inputs: DemoData['X']; outputs: DemoData['X'] } | null = null;
let heldOutData: number | null = null;
/** VAE: the held-out KL(q(z|x) ‖ N(0, I)) per example, and the worker's latest samples, manifold and codes. */
let heldOutKl: number | null = null;
let vaePics: Extract<TrainerEvent, { type: 'vae-pictures' }> | null = null;
const isVae = (): boolean => !!built?.spec.vae;
let tiles: Extract<TrainerEvent, { type: 'tiles' }> | null = null;
let hoverUnit: number | null = null;
let diverged: { step: number; what: string; value: number; weightsFinite: boolean } | null = null;
/** The status says "fix the marked settings" (a build was asked for with invalid values) until a valid change. */
let invalidShown = false;
const chart = new CostChart();

// Redraws happen at most once per animation frame, whatever the rate of readings.
const dirty = new Set<'chart' | 'rho' | 'recon' | 'features' | 'status' | 'vae'>();
let frameRequested = false;
function redraw(...what: ('chart' | 'rho' | 'recon' | 'features' | 'status' | 'vae')[]): void {
  what.forEach((w) => dirty.add(w));
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    const d = new Set(dirty);
    dirty.clear();
    if (d.has('status')) showProgress();
    if (d.has('chart')) {
      const J = isVae() ? '−ELBO' : 'J';
      chart.trainName = built?.controls.optimizer === 'lbfgs' ? `${J}, all training examples` : `${J}, training batch`;
      chart.draw($<HTMLCanvasElement>('cost-chart'), $('legend'));
    }
    if (d.has('rho')) drawRhoHistogram($<HTMLCanvasElement>('rho-hist'), rhoValues, built?.spec.sparsity?.rho ?? null, hoverUnit);
    if (d.has('recon')) drawRecon();
    if (d.has('features')) sizeFeatures();
    if (d.has('vae')) drawVae();
  });
}

function showProgress(): void {
  if (!built) return;
  statusEl.dataset.step = String(step);
  statusEl.dataset.rate = String(stepsPerSecond);
  if (state === 'diverged' || invalidShown) return;
  const c = built.controls;
  const words = state === 'running' ? 'Training' : state === 'paused' ? (stoppedNote ?? 'Paused') : 'Ready';
  const J = isVae() ? '−ELBO' : 'J';
  if (c.optimizer === 'lbfgs') {
    const j = lastCost !== null ? `${J} = ${lastCost.toPrecision(4)} per example (all examples)` : 'J = …';
    const ls = lineSearch ? ` · ${lineSearch.evaluations} evaluations (with line-search steps)${lineSearch.gradNorm !== null ? ` · ‖∇J‖ = ${lineSearch.gradNorm.toPrecision(3)}` : ''}` : '';
    // (J here is −ELBO for a VAE; the status keeps the name ‖∇J‖ the tests and the notes use.)
    setStatus(state === 'idle' ? 'ready' : state, `${words} · L-BFGS iteration ${step}${ls} · ${j}`);
  } else {
    const j = lastCost !== null ? `${J} = ${lastCost.toPrecision(4)} per example (training batch)` : `${J} = … (read every few steps)`;
    const epoch = ((step - built.startStep) * Math.min(c.batch, built.data.X.rows)) / built.data.X.rows;
    setStatus(state === 'idle' ? 'ready' : state, `${words} · step ${step} · epoch ${epoch.toFixed(2)} · ${j} · ${c.optimizer} α = ${c.lr}`);
  }
  const examples = c.optimizer === 'lbfgs' ? built.data.X.rows : Math.min(c.batch, built.data.X.rows);
  const unit = c.optimizer === 'lbfgs' ? 'iterations/s' : 'steps/s';
  $('speed').textContent = stepsPerSecond > 0 ? `${stepsPerSecond.toFixed(stepsPerSecond < 10 ? 1 : 0)} ${unit} · ${Math.round(stepsPerSecond * examples)} examples/s · ${built.info.adapter}` : built.info.adapter;
}

function updateButtons(): void {
  const has = !!built;
  const running = state === 'running';
  const dead = state === 'diverged';
  ($('start') as HTMLButtonElement).disabled = !has || running || dead;
  ($('pause') as HTMLButtonElement).disabled = !running;
  ($('step') as HTMLButtonElement).disabled = !has || running || dead;
  ($('reset') as HTMLButtonElement).disabled = false;
  ($('export') as HTMLButtonElement).disabled = !has || dead;
  ($('export') as HTMLButtonElement).title = dead ? 'Training diverged: press Reset first' : 'Download model.safetensors: the network, θ and the step count, in one file (the CLI reads it)';
  ($('export-onnx') as HTMLButtonElement).disabled = !has || dead;
  ($('export-onnx') as HTMLButtonElement).title = dead ? 'Training diverged: press Reset first' : 'Download model.onnx: the network as an ONNX graph (input → reconstruction and code), for onnxruntime and other ONNX tools';
  ($('load') as HTMLButtonElement).disabled = false;
  $('start').textContent = state === 'paused' ? 'Resume' : 'Start';
}

// ---------------------------------------------------------------- worker events

function onEvent(e: TrainerEvent): void {
  switch (e.type) {
    case 'status':
      setStatus('loading', e.text);
      return;
    case 'progress': {
      if (!built) return;
      step = e.step;
      if (e.state === 'running') stoppedNote = null;
      state = e.state;
      if (e.lineSearch) lineSearch = e.lineSearch;
      stepsPerSecond = e.stepsPerSecond;
      if (e.cost) {
        lastCost = e.cost.cost;
        statusEl.dataset.cost = String(e.cost.cost);
        if (Number.isFinite(e.cost.cost)) {
          statusEl.dataset.firstCost ??= String(e.cost.cost);
          chart.push('train', e.cost.step, e.cost.cost);
          const p = e.cost.parts;
          chart.push('data', e.cost.step, p.data);
          chart.push('weightDecay', e.cost.step, p.weightDecay);
          chart.push('sparsity', e.cost.step, p.sparsity);
          chart.push('contractive', e.cost.step, p.contractive);
          if (p.kl !== undefined) chart.push('kl', e.cost.step, p.kl);
          redraw('chart');
        }
      }
      updateButtons();
      redraw('status');
      return;
    }
    case 'held-out':
      chart.push('heldOut', e.reading.step, e.reading.cost);
      heldOutData = e.reading.parts.data;
      heldOutKl = e.reading.parts.kl ?? null;
      statusEl.dataset.heldOut = String(e.reading.cost);
      redraw('chart', 'recon');
      return;
    case 'rho-hat':
      rhoValues = e.values;
      redraw('rho');
      return;
    case 'reconstructions':
      recon = { inputs: e.inputs, outputs: e.outputs };
      redraw('recon');
      return;
    case 'vae-pictures':
      vaePics = e;
      redraw('vae');
      return;
    case 'tiles':
      tiles = e;
      redraw('features');
      return;
    case 'diverged':
      onDiverged(e);
      return;
    case 'stopped':
      stoppedNote = `Converged (${e.reason === 'gradient' ? '‖∇J‖ below tolerance' : e.reason === 'progress' ? 'no more progress' : e.reason}), press Start to go on`;
      redraw('status');
      return;
    case 'error':
      setStatus('error', 'Training stopped with an error (see the message below).');
      showError(e.message);
      return;
  }
}

function onDiverged(e: { step: number; what: string; value: number; weightsFinite: boolean }): void {
  diverged = e;
  state = 'diverged';
  const c = built!.controls;
  const v = Number.isNaN(e.value) ? 'NaN' : e.value > 0 ? '+∞' : '−∞';
  chart.divergence = { step: e.step, text: `${v} at step ${e.step}` };
  setStatus('diverged', `Stopped: ${e.what} became ${v} at step ${e.step}.`);
  const hint = c.optimizer === 'adam' ? '0.01' : '0.1';
  const why = !e.weightsFinite
    ? 'The steps overshoot and the weights blew up: they are no longer numbers.'
    : built!.spec.sparsity
      ? 'The steps overshoot: the weights grew so large that hidden units saturate, and where ρ̂ⱼ reaches 0 or 1 the sparsity penalty KL(ρ‖ρ̂ⱼ) is infinite.'
      : 'The steps overshoot: the weights grew so large that the cost overflows.';
  showError(
    `Training diverged: ${e.what} became ${v} at step ${e.step}. ${why} ` +
      `Lower the learning rate (it is ${c.lr}; ${c.optimizer} usually works around ${hint}) and press Reset to start from fresh weights.`,
  );
  updateButtons();
  redraw('chart');
}

// ---------------------------------------------------------------- pictures

function sizeFeatures(): void {
  const cv = $<HTMLCanvasElement>('features');
  if (!tiles) return;
  const avail = availableWidth(cv, 560);
  const zoom = Math.min(10, avail / tiles.width);
  // Whole screen pixels per weight when there is room; below 2×, fill the width.
  const z = zoom >= 2 ? Math.floor(zoom) : zoom;
  cv.style.width = `${Math.floor(tiles.width * z)}px`;
  cv.style.height = `${Math.floor(tiles.height * z)}px`;
}

function drawRecon(): void {
  if (!built || !recon) return;
  const d = built.data;
  const clean = { rows: SHOWN, cols: d.heldOut.cols, data: d.heldOut.data.slice(0, SHOWN * d.heldOut.cols) };
  const rows: { label: string; m: Matrix }[] = [{ label: 'input', m: clean }];
  if (built.spec.corruption) rows.push({ label: 'network sees', m: recon.inputs });
  rows.push({ label: 'reconstruction', m: recon.outputs });
  drawReconstructions($<HTMLCanvasElement>('recon'), rows, d.side, d.range);
  if (heldOutData !== null && isVae()) {
    // −ELBO = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)) per example, in nats (notes; J adds β·KL, β = 1).
    const kl = heldOutKl ?? 0;
    $('recon-words').textContent =
      `On the ${d.heldOut.rows} held-out ${d.noun}: −ELBO = ${(heldOutData + kl).toFixed(1)} nats per digit, ` +
      `the reconstruction −log p(x|z) ${heldOutData.toFixed(1)} plus KL(q(z|x) ‖ N(0, I)) ${kl.toFixed(2)}. ` +
      'The reconstructions decode the mean code μ, so they are the VAE’s best guess, smoother than a sample.';
  } else if (heldOutData !== null) {
    // J's data term is (1/m)Σ ½‖x̂ − x‖² (notes): per pixel, the mean squared error is 2·data / n.
    const rms = Math.sqrt((2 * heldOutData) / d.heldOut.cols);
    const span = d.range[1] - d.range[0];
    const pct = (100 * rms) / span;
    const verdict = pct < 4 ? 'close copies' : pct < 10 ? 'recognisable, a little blurred' : pct < 20 ? 'rough sketches' : 'still far from the inputs';
    $('recon-words').textContent =
      `On the ${d.heldOut.rows} held-out ${d.noun}, a reconstructed pixel is off by ${rms.toFixed(3)} on average ` +
      `(root-mean-square), ${pct.toFixed(1)} % of the pixel range [${d.range[0]}, ${d.range[1]}]: ${verdict}.` +
      (built.spec.corruption ? ' The network reconstructs the clean input from the corrupted one it sees.' : '');
  }
}

/** VAE: samples from the fixed seed; for a 2-D code, the manifold and the held-out codes μ coloured by digit. */
function drawVae(): void {
  if (!built || !isVae() || !vaePics) return;
  const d = built.data;
  const cols = Math.max(1, Math.round(Math.sqrt(vaePics.samples.rows)));
  drawImageGrid($<HTMLCanvasElement>('samples'), vaePics.samples, d.side, cols, [0, 1]);
  const panel = $('manifold-panel');
  panel.hidden = !vaePics.manifold;
  if (vaePics.manifold) {
    drawImageGrid($<HTMLCanvasElement>('manifold'), vaePics.manifold.images, d.side, vaePics.manifold.n, [0, 1]);
    const codes = vaePics.codes;
    if (codes) {
      const labels = d.heldOutLabels && d.heldOutLabels.length === codes.rows ? d.heldOutLabels : null;
      // Axes ±3 (the prior's bulk) or wider when the codes reach further, so every code is in view.
      let reach = 3;
      for (let i = 0; i < codes.rows; i++) reach = Math.max(reach, Math.abs(codes.data[2 * i]!), Math.abs(codes.data[2 * i + 1]!));
      const range = Math.ceil(reach * 2) / 2;
      const img = latentScatter(codes, labels, { size: 240, range });
      drawRgba($<HTMLCanvasElement>('codes'), img, `μ, ${codes.rows} digits, ±${range}${labels ? '' : ' (no labels)'}`);
    }
  }
}

let topRequest = 0;
async function showUnit(unit: number | null): Promise<void> {
  if (unit === hoverUnit) return;
  hoverUnit = unit;
  redraw('rho');
  const cv = $<HTMLCanvasElement>('top-inputs');
  if (unit === null || !built || isVae()) return;
  const mine = ++topRequest;
  const r = await trainer.topInputs(unit, 8);
  if (mine !== topRequest || !built) return;
  const rho = rhoValues?.[unit];
  $('unit-info').textContent = `Unit ${unit + 1}${rho !== undefined ? ` (ρ̂ = ${rho.toPrecision(3)})` : ''}: the held-out inputs that excite it most, strongest first (activations ${r.activations.slice(0, 3).map((a) => a.toFixed(2)).join(', ')} …).`;
  cv.hidden = false;
  drawTopInputs(cv, built.data.heldOut, r.rows, built.data.side, built.data.range);
}

function unitAt(e: PointerEvent): number | null {
  if (!tiles) return null;
  const rect = $('features').getBoundingClientRect();
  const px = ((e.clientX - rect.left) / rect.width) * tiles.width;
  const py = ((e.clientY - rect.top) / rect.height) * tiles.height;
  const col = Math.floor((px - tiles.padding) / (tiles.tileWidth + tiles.padding));
  const row = Math.floor((py - tiles.padding) / (tiles.tileHeight + tiles.padding));
  if (col < 0 || col >= tiles.cols || row < 0) return null;
  const unit = row * tiles.cols + col;
  return unit < tiles.units ? unit : null;
}

// ---------------------------------------------------------------- building

let building: Promise<void> = Promise.resolve();
/** Builds run one after another. */
function build(loaded?: { network: Network; theta: Float64Array; steps: number; name: string }): Promise<void> {
  const next = building.then(() => buildNow(loaded));
  building = next.catch(() => undefined);
  return next;
}

async function buildNow(loaded?: { network: Network; theta: Float64Array; steps: number; name: string }): Promise<void> {
  const c = readControls();
  if (validate(c).size > 0 && !loaded) {
    invalidShown = true;
    setStatus('invalid', 'Fix the settings marked in red first.');
    return;
  }
  invalidShown = false;
  setStatus('loading', 'Preparing the data…');
  const side = loaded ? Math.round(Math.sqrt(loaded.network.layers[0]!)) : undefined;
  if (loaded && side! * side! !== loaded.network.layers[0]) throw new Error(`The model's ${loaded.network.layers[0]} inputs are not a square image.`);
  if (loaded && !loaded.network.autoencoder) throw new Error('The demo shows autoencoders; this model is not one.');
  const data = await loadData(c, side);
  $('data-info').textContent = data.description;
  const spec = loaded ? networkToSpec(loaded.network) : specFor(c, data.X.cols);
  const startStep = loaded?.steps ?? 0;
  built = null;
  state = 'idle';
  const vae = !!spec.vae;
  const latent = vae ? resolveSpec(spec).layers[2]! : 0;
  vaePics = null;
  heldOutKl = null;
  const info = await trainer.build({
    mode: vae ? 'vae' : 'autoencoder',
    ...(vae ? { vae: { samples: 64, sampleSeed: 7, manifold: latent === 2 ? 12 : 0 } } : {}),
    spec,
    X: data.X,
    heldOut: data.heldOut,
    shown: SHOWN,
    parameters: loaded?.theta,
    steps: startStep,
    seed: 1,
    gemm: gemm === 'auto' || (GEMM_VARIANT_NAMES as string[]).includes(gemm ?? '') ? (gemm as 'auto') : undefined,
    settings: settingsFor(c),
  });
  built = { info, data, spec, controls: c, startStep };
  step = startStep;
  lastCost = null;
  lineSearch = null;
  stoppedNote = null;
  diverged = null;
  stepsPerSecond = 0;
  hoverUnit = null;
  $('top-inputs').hidden = true;
  $('unit-info').textContent = vae
    ? 'The tiles are the encoder’s first layer (784 → hidden): what each of its units looks for.'
    : 'Point at (or tap) a tile to see the held-out inputs that excite that unit most.';
  showModePanels(vae, latent);
  chart.clear(startStep);
  statusEl.dataset.cost = '';
  statusEl.dataset.lr = String(c.lr);
  delete statusEl.dataset.firstCost;
  $('pending').hidden = true;
  clearError();
  updateButtons();
  redraw('chart', 'rho', 'recon', 'features');
  setStatus(
    'ready',
    loaded
      ? `Loaded ${loaded.name}: ${info.layers.join('-')} at step ${startStep}. Press Start to continue training.`
      : `Ready: ${info.layers.join('-')} autoencoder on ${data.X.rows} examples. Press Start.`,
  );
}

/** Which panels apply: a VAE has samples (and, in 2-D, its latent space) and no ρ̂ histogram; the cost panel names −ELBO's parts. */
function showModePanels(vae: boolean, latent: number): void {
  $('rho-panel').hidden = vae;
  $('samples-panel').hidden = !vae;
  $('manifold-panel').hidden = !vae || latent !== 2;
  $('cost-title').textContent = vae ? 'Cost −ELBO while training' : 'Cost J while training';
  $('cost-explain').textContent = vae
    ? 'The negative evidence lower bound per example, −ELBO = reconstruction −log p(x|z) + KL(q(z|x) ‖ N(0, I)), on a log scale: on the mini-batch trained on (one draw of z each) and on held-out digits. Lower is a better model of the digits.'
    : 'J per example and its parts, on a log scale. The training curve is J on the mini-batch being trained on (with L-BFGS, on all training examples); the held-out curve is the same J on examples the network never sees. A gap opening between them is overfitting.';
  $('features-explain').textContent = vae
    ? 'One tile per unit of the encoder’s first hidden layer: its weights as an image (white = positive). The code z is computed from these units; the ρ̂ histogram does not apply to a VAE (no sparsity target), so it is hidden.'
    : 'One tile per hidden unit j: its weights W⁽¹⁾ⱼ as an image, the input of unit length that excites the unit most (white = positive weight). Good features look like pen strokes on digits and like edges on photographs. Point at (or tap) a tile to see that unit below and in the ρ̂ histogram.';
  chart.names = vae ? { data: 'reconstruction −log p(x|z)', heldOut: '−ELBO, held out' } : {};
}

// ---------------------------------------------------------------- settings

/** Applies a changed control: live for penalties and the optimizer, a rebuild (or a note to Reset) for data and architecture. */
async function applyControl(id: string): Promise<void> {
  const def = controlDef(id);
  if (id === 'data') applyPreset(readControls().data);
  const c = readControls();
  updateEnabled(c, naturalOk);
  const bad = validate(c);
  writeUrl({ gemm });
  if (bad.size > 0) return;
  if (invalidShown) {
    invalidShown = false;
    redraw('status');
  }
  if (!built) return build();
  const fresh = step === built.startStep && state === 'idle';
  const archChanged = ['data', 'patch', 'whiten', 'hidden', 'latent', 'activation', 'tied'].some((k) => String(readValue(k, c)) !== String(readValue(k, built!.controls)));
  if (def.effect === 'rebuild' || archChanged) {
    if (fresh || state === 'diverged') return build();
    $('pending').hidden = !archChanged;
    return;
  }
  // After a divergence θ is unusable: the new values wait for Reset.
  if (state === 'diverged') return;
  // Live: the running model keeps its θ; the architecture stays as built.
  const b = built.controls;
  const live: Controls = { ...c, data: b.data, patch: b.patch, whiten: b.whiten, hidden: b.hidden, latent: b.latent, activation: b.activation, tied: b.tied };
  const spec = specFor(live, built.data.X.cols);
  const specChanged = JSON.stringify(spec) !== JSON.stringify(built.spec);
  await trainer.update({ settings: settingsFor(c), spec: specChanged ? spec : undefined });
  built.controls = live;
  built.spec = spec;
  statusEl.dataset.lr = String(c.lr);
  redraw('status', 'rho', 'recon');
}

function readValue(key: string, c: Controls): unknown {
  const k = key === 'ksparse' ? 'kSparse' : key;
  return c[k as keyof Controls];
}

function controlsFromNetwork(net: Network): void {
  setValue('hidden', String(net.layers[1]!));
  if (net.vae) {
    setValue('data', 'mnist-vae');
    setValue('latent', String(net.layers[2]!));
    setValue('activation', net.activations[0]!.name);
    setValue('lambda', String(net.lambda));
    setValue('corruption', net.corruption ? net.corruption.kind : 'none');
    if (net.corruption) setValue('level', String(net.corruption.level));
    updateEnabled(readControls(), naturalOk);
    writeUrl({ gemm });
    return;
  }
  setValue('activation', net.activations[0]!.name);
  setValue('lambda', String(net.lambda));
  setValue('beta', String(net.sparsity ? net.sparsity.beta : 0));
  if (net.sparsity) setValue('rho', String(net.sparsity.rho));
  setValue('corruption', net.corruption ? net.corruption.kind : 'none');
  if (net.corruption) setValue('level', String(net.corruption.level));
  setValue('tied', net.tied ? '1' : '0');
  setValue('contractive', String(net.contractive ? net.contractive.weight : 0));
  setValue('ksparse', String(net.kSparse ? net.kSparse.k : 0));
  if (net.layers[0] !== 784) {
    if (readControls().data === 'mnist') setValue('data', droppedImages.length || !naturalOk ? 'dropped' : 'natural');
    setValue('patch', String(Math.round(Math.sqrt(net.layers[0]!))));
  } else setValue('data', 'mnist');
  updateEnabled(readControls(), naturalOk);
  writeUrl({ gemm });
}

// ---------------------------------------------------------------- files

function download(name: string, bytes: Uint8Array, type: string): void {
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
  if (!built) return;
  const p = await trainer.parameters();
  const net = resolveSpec(p.spec);
  download('model.safetensors', encodeModel(net, p.theta, { ...built.data.preprocessing, steps: p.steps }), 'application/octet-stream');
}

/** Export ONNX: one file, model.onnx (exportOnnx: input → reconstruction and code), θ as trained now. */
async function exportOnnxModel(): Promise<void> {
  if (!built) return;
  const p = await trainer.parameters();
  const bytes = await exportOnnx({ network: resolveSpec(p.spec), theta: p.theta, preprocessing: null });
  download('model.onnx', bytes, 'application/octet-stream');
}

async function loadModel(files: File[]): Promise<void> {
  const model = files.find((f) => f.name.endsWith('.safetensors'));
  if (!model) throw new Error('Choose a model.safetensors file (and, optionally, its model.json).');
  const saved = decodeModel(new Uint8Array(await model.arrayBuffer()), model.name);
  const json = files.find((f) => f.name.endsWith('.json'));
  let steps = Number((saved.preprocessing as { steps?: unknown } | null)?.steps ?? 0);
  if (json) {
    const j = JSON.parse(await json.text()) as { steps?: unknown };
    if (j.steps !== undefined) steps = Number(j.steps);
  }
  if (!(Number.isInteger(steps) && steps >= 0)) steps = 0;
  controlsFromNetwork(saved.network);
  await build({ network: saved.network, theta: saved.theta, steps, name: model.name });
}

// ---------------------------------------------------------------- wiring

function guard(f: () => unknown): () => void {
  return () => {
    Promise.resolve()
      .then(f)
      .catch((e) => {
        setStatus('error', 'That did not work (see the message below).');
        showError(e);
        updateButtons();
      });
  };
}

function wire(): void {
  $('start').addEventListener('click', () => {
    if (!built || state === 'diverged') return;
    clearError();
    trainer.start();
  });
  $('pause').addEventListener('click', () => trainer.pause());
  $('step').addEventListener('click', () => {
    if (built && state !== 'diverged') trainer.step();
  });
  $('reset').addEventListener('click', guard(() => build()));
  $('export').addEventListener('click', guard(exportModel));
  $('export-onnx').addEventListener('click', guard(exportOnnxModel));
  $('load').addEventListener('click', () => $<HTMLInputElement>('load-file').click());
  $<HTMLInputElement>('load-file').addEventListener('change', guard(async () => {
    const files = [...($<HTMLInputElement>('load-file').files ?? [])];
    $<HTMLInputElement>('load-file').value = '';
    if (files.length) await loadModel(files);
  }));
  for (const d of CONTROLS) {
    const el = $(d.id);
    // Typed values are checked as they are typed; applied when the control commits (change).
    el.addEventListener('input', () => validate(readControls()));
    el.addEventListener('change', guard(() => applyControl(d.id)));
  }
  const drop = $('drop');
  const addFiles = async (files: FileList | null | undefined): Promise<void> => {
    const list = [...(files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (list.length === 0) return;
    for (const f of list) droppedImages.push(await imageFromFile(f));
    drop.textContent = `${droppedImages.length} image(s): ${droppedImages.map((i) => i.name).join(', ')}`;
    if (readControls().data !== 'dropped') {
      setValue('data', 'dropped');
      return applyControl('data');
    }
    if (built && (step > built.startStep || state !== 'idle')) $('pending').hidden = false;
    else await build();
  };
  const pick = (): void => $<HTMLInputElement>('drop-file').click();
  drop.addEventListener('click', pick);
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      pick();
    }
  });
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
  const features = $('features');
  features.addEventListener('pointermove', (e) => guard(() => showUnit(unitAt(e)))());
  features.addEventListener('pointerdown', (e) => guard(() => showUnit(unitAt(e)))());
  features.addEventListener('pointerleave', () => {
    hoverUnit = null;
    redraw('rho');
  });
  new ResizeObserver(() => redraw('chart', 'rho', 'recon', 'features', 'vae')).observe($('views'));
}

async function main(): Promise<void> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter) {
    $('no-webgpu').hidden = false;
    $('app').hidden = true;
    setStatus('no-webgpu', 'No WebGPU in this browser: the demo cannot run here.');
    return;
  }
  addTooltips();
  ({ gemm } = readUrl(location.search));
  naturalOk = await naturalAvailable();
  const fellBack = readControls().data === 'natural' && !naturalOk;
  // Without the photographs: the digits, with the digits' presets and the rest of the URL's settings.
  if (fellBack) readUrl(location.search, 'mnist');
  updateEnabled(readControls(), naturalOk);
  validate(readControls());
  writeUrl({ gemm });
  const worker = new Worker(new URL('../src/worker/entry.ts', import.meta.url), { type: 'module' });
  trainer = new WorkerTrainer(worker, { canvas: $<HTMLCanvasElement>('features') });
  trainer.onEvent = onEvent;
  wire();
  await build();
  if (fellBack) $('data-info').textContent += ' — the natural photographs are not in this build of the page, so it shows the digits.';
}

main().catch((e) => {
  setStatus('error', 'The demo failed to start (see the message below).');
  showError(e);
});
