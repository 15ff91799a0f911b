// The training side of the worker protocol (protocol.ts): owns the GPUDevice,
// the model, the objective and the optimizer loop, and posts what a page draws.
// It runs in a dedicated Web Worker (entry.ts), and in Node for tests (give it a
// device and a `post` function).
//
// The loop is optimize() with an onIteration that, at each iteration boundary:
// waits for the GPU queue (an async wait, not a readback) so the queue never
// runs ahead; checks the cost for NaN/∞ (divergence stops training); redraws the
// feature tiles (a render pass over θ, no readback) and, a few times a second,
// the held-out cost, ρ̂ and the reconstructions; runs any queued request (export,
// top inputs); and parks while paused. Live setting changes end the optimize()
// call at a boundary with a checkpoint of the optimizer (OptimizerState) and
// start a new one that resumes from it with the new settings, so Adam's moments
// and the step count carry over; a change of λ, β, ρ or the corruption level
// rebuilds the model around the current θ first.

import { createModel } from '../model.js';
import { GpuObjective } from '../gpu/objective.js';
import type { GpuModel } from '../gpu/model.js';
import type { GpuDataset } from '../gpu/dataset.js';
import { adapterLabel } from '../gpu/device.js';
import { GpuFeatureTiles } from '../viz/gpu-tiles.js';
import { optimize, usesLineSearch, type OptimizerOptions } from '../optim/optimize.js';
import type { IterationInfo, OptimizerState } from '../optim/types.js';
import { corruptMatrix } from '../noise.js';
import { manifoldCodes } from '../viz/latent.js';
import { resolveSpec, type NetworkSpec } from '../spec.js';
import type { Matrix } from '../matrix.js';
import type { BuildInfo, BuildRequest, CostReading, ParametersReply, TopInputsReply, TrainerEvent, TrainerRequest, TrainerState, TrainSettings, VaePictureOptions } from './protocol.js';

export const DEFAULT_GEMM = 'unrolled-4x4' as const;
/** VAE mode's pictures unless the build says otherwise. */
export const DEFAULT_VAE_PICTURES: VaePictureOptions = { samples: 64, sampleSeed: 7, manifold: 12 };

export interface HostOptions {
  /** Sends an event to the page (postMessage in a worker). */
  post: (event: TrainerEvent, transfer?: Transferable[]) => void;
  /** The device to train on (in a worker: from navigator.gpu). */
  device: () => Promise<GPUDevice>;
  /** Canvas texture format for the feature tiles (navigator.gpu.getPreferredCanvasFormat()). */
  canvasFormat?: () => GPUTextureFormat;
}

interface Session {
  request: BuildRequest;
  spec: NetworkSpec;
  settings: TrainSettings;
  model: GpuModel;
  objective: GpuObjective;
  heldOut: GpuDataset;
  /** The shown inputs as the network sees them (corrupted when denoising), float32. */
  shownInputs: Matrix;
  tiles: GpuFeatureTiles | null;
  steps: number;
  /** steps = base + the optimizer's own iteration count. */
  base: number;
  state: TrainerState;
  stepsAllowed: number;
  /** Set by update(): end the current optimize() call at the next boundary. */
  restart: { settings: TrainSettings; spec: NetworkSpec; done: () => void; fail: (e: unknown) => void }[];
  /** Requests waiting for the next iteration boundary. */
  queue: (() => Promise<void>)[];
  /** True while an iteration runs (between leaving the gate and the next onIteration). */
  busy: boolean;
  loop: Promise<void> | null;
  /** A change applied while no loop ran; a loop starting meanwhile waits for it. */
  applying: Promise<void>;
  closed: boolean;
  wake: (() => void) | null;
  encodings: { step: number; H: Matrix } | null;
  lastDraw: number;
  lastPictures: number;
  /** How long the last held-out pictures took (ms). */
  picturesMs: number;
  rate: { times: number[]; steps: number[] };
}

const finite = (x: number): boolean => Number.isFinite(x);
const macrotask = (): Promise<void> =>
  new Promise((ok) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      ok();
    };
    ch.port2.postMessage(null);
  });

/** Settings checked once, with the offending value named. */
export function checkSettings(s: TrainSettings): void {
  if (!['adam', 'sgd', 'momentum', 'lbfgs'].includes(s.method)) throw new RangeError(`optimizer must be adam, sgd, momentum or lbfgs, got ${JSON.stringify(s.method)}`);
  if (!(s.learningRate > 0 && finite(s.learningRate))) throw new RangeError(`learning rate must be a positive number, got ${s.learningRate}`);
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1)) throw new RangeError(`batch size must be a positive integer, got ${s.batchSize}`);
  if (!(Number.isInteger(s.costEvery) && s.costEvery >= 1)) throw new RangeError(`cost every must be a positive integer, got ${s.costEvery}`);
  if (!(s.heldOutEveryMs >= 0)) throw new RangeError(`heldOutEveryMs must be ≥ 0, got ${s.heldOutEveryMs}`);
}

function toF32(m: Matrix): Matrix {
  return m.data instanceof Float32Array ? m : { rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) };
}

export class TrainerHost {
  private session: Session | null = null;
  private device: GPUDevice | null = null;
  private canvas: OffscreenCanvas | null = null;
  private context: GPUCanvasContext | null = null;
  /** Requests run one after another (a build waits for the previous teardown). */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: HostOptions) {}

  /** Handles one request from the page. */
  handle(msg: TrainerRequest): void {
    switch (msg.type) {
      case 'canvas':
        this.canvas = msg.canvas;
        this.context = null;
        return;
      case 'start':
        return this.run('running');
      case 'pause':
        if (this.session?.state === 'running') this.session.state = 'paused';
        // Mid-iteration, the iteration's boundary reports the pause (with its step), so the page never sees a step after "paused".
        if (!this.session?.busy) this.progress(null);
        return;
      case 'step':
        return this.run('paused');
      case 'build':
        return this.serial(msg.id, () => this.build(msg.request));
      case 'update':
        return this.reply(msg.id, () => this.update(msg.settings, msg.spec));
      case 'parameters':
        return this.reply(msg.id, () => this.atBoundary(() => this.parameters()));
      case 'top-inputs':
        return this.reply(msg.id, () => this.atBoundary(() => this.topInputs(msg.unit, msg.count)));
      case 'dispose':
        return this.serial(msg.id, () => this.teardown());
    }
  }

  private reply(id: number, f: () => Promise<unknown>): void {
    f().then(
      (value) => this.opts.post({ type: 'reply', id, ok: true, value }),
      (e) => this.opts.post({ type: 'reply', id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  private serial(id: number, f: () => Promise<unknown>): void {
    const next = this.chain.then(f);
    this.chain = next.then(
      () => undefined,
      () => undefined,
    );
    this.reply(id, () => next);
  }

  // ------------------------------------------------------------ building

  private async build(req: BuildRequest): Promise<BuildInfo> {
    await this.teardown();
    if (req.mode !== 'autoencoder' && req.mode !== 'vae') throw new RangeError(`mode ${JSON.stringify(req.mode)} is not available; this worker trains 'autoencoder' or 'vae'`);
    checkSettings(req.settings);
    const net = resolveSpec(req.spec);
    if (!net.autoencoder) throw new RangeError('the worker trains autoencoders; this network is not one');
    if (req.mode === 'vae' && !net.vae) throw new RangeError('mode "vae" needs a variational autoencoder: a spec with "vae": { "beta": … }');
    if (req.mode === 'autoencoder' && net.vae) throw new RangeError('this network is a variational autoencoder: build it with mode "vae"');
    if (req.vae) {
      const v = req.vae;
      if (!(Number.isInteger(v.samples) && v.samples >= 0 && v.samples <= 1024)) throw new RangeError(`vae.samples must be an integer in 0 … 1024, got ${v.samples}`);
      if (!(Number.isInteger(v.sampleSeed) && v.sampleSeed >= 0)) throw new RangeError(`vae.sampleSeed must be a non-negative integer, got ${v.sampleSeed}`);
      if (!(Number.isInteger(v.manifold) && v.manifold >= 0 && v.manifold <= 32)) throw new RangeError(`vae.manifold must be an integer in 0 … 32, got ${v.manifold}`);
    }
    if (req.X.cols !== net.layers[0] || req.heldOut.cols !== net.layers[0]) {
      throw new RangeError(`the data have ${req.X.cols} columns (held out: ${req.heldOut.cols}) but the network has ${net.layers[0]} inputs`);
    }
    if (!(Number.isInteger(req.shown) && req.shown >= 0 && req.shown <= req.heldOut.rows)) throw new RangeError(`shown must be an integer in 0 … ${req.heldOut.rows}, got ${req.shown}`);
    const steps = req.steps ?? 0;
    if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
    this.opts.post({ type: 'status', text: 'Starting WebGPU…' });
    this.device ??= await this.opts.device();
    const gemm = req.gemm ?? DEFAULT_GEMM;
    this.opts.post({
      type: 'status',
      text: gemm === 'auto' ? 'Timing the GPU matrix-multiply kernels for this GPU and compiling shaders (up to half a minute)…' : 'Compiling the shaders…',
    });
    const parts = await this.createParts(req.spec, req, req.parameters, req.settings.method);
    const s: Session = {
      request: req,
      spec: req.spec,
      settings: { ...req.settings },
      ...parts,
      tiles: null,
      steps,
      base: steps,
      state: 'idle',
      stepsAllowed: 0,
      restart: [],
      queue: [],
      busy: false,
      loop: null,
      applying: Promise.resolve(),
      closed: false,
      wake: null,
      encodings: null,
      lastDraw: 0,
      lastPictures: 0,
      picturesMs: 0,
      rate: { times: [], steps: [] },
    };
    this.session = s;
    this.makeTiles(s);
    this.opts.post({ type: 'status', text: 'Computing the first pictures…' });
    await this.pictures(s);
    this.progress(null);
    return { layers: [...s.model.network.layers], adapter: adapterLabel(s.model.adapter), parameters: s.model.layout.size, steps };
  }

  private async createParts(spec: NetworkSpec, req: BuildRequest, theta: ArrayLike<number> | undefined, method: TrainSettings['method']): Promise<Pick<Session, 'model' | 'objective' | 'heldOut' | 'shownInputs'>> {
    const gemm = req.gemm ?? DEFAULT_GEMM;
    const model = (await createModel(spec, {
      backend: 'webgpu',
      device: this.device!,
      seed: req.seed ?? 1,
      init: req.init ?? 'ufldl',
      gemmVariant: gemm === 'auto' ? undefined : gemm,
      parameters: theta,
    })) as GpuModel;
    try {
      const objective = this.objectiveFor(model, req, method);
      const heldOut = model.upload(toF32(req.heldOut));
      const n = req.heldOut.cols;
      const clean = { rows: req.shown, cols: n, data: Float32Array.from(req.heldOut.data.slice(0, req.shown * n)) };
      const c = model.network.corruption;
      const shownInputs = c ? { rows: clean.rows, cols: n, data: Float32Array.from(corruptMatrix(clean, c, c.seed)) } : clean;
      return { model, objective, heldOut, shownInputs };
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Line searches need a deterministic objective: one corruption for the run (denoising). */
  private objectiveFor(model: GpuModel, req: BuildRequest, method: TrainSettings['method']): GpuObjective {
    return new GpuObjective(model, toF32(req.X), undefined, { noise: usesLineSearch(method) ? 'fixed' : 'fresh' });
  }

  private makeTiles(s: Session): void {
    const s0 = s.model.layout.slots[0]!;
    const side = Math.round(Math.sqrt(s0.nIn));
    if (side * side !== s0.nIn) return;
    if (this.canvas && !this.context) this.context = this.canvas.getContext('webgpu');
    if (!this.context) return;
    s.tiles = new GpuFeatureTiles(this.device!, { nOut: s0.nOut, nIn: s0.nIn, format: this.opts.canvasFormat?.() ?? 'rgba8unorm' });
    const cols = Math.max(1, Math.ceil(Math.sqrt(s0.nOut)));
    this.opts.post({ type: 'tiles', width: s.tiles.width, height: s.tiles.height, cols, tileWidth: side, tileHeight: side, padding: 1, units: s0.nOut });
  }

  private async teardown(): Promise<void> {
    const s = this.session;
    if (!s) return;
    s.closed = true;
    s.wake?.();
    for (const r of s.restart.splice(0)) r.fail(new Error('the model was rebuilt'));
    await s.loop;
    this.session = null;
    this.disposeParts(s);
    s.tiles?.destroy();
  }

  private disposeParts(s: Pick<Session, 'model' | 'objective' | 'heldOut'>): void {
    s.objective.dispose();
    s.model.release(s.heldOut);
    s.model.dispose();
  }

  // ------------------------------------------------------------ running

  /** Start ('running') or one step ('paused'). */
  private run(state: 'running' | 'paused'): void {
    const s = this.session;
    if (!s || s.closed || s.state === 'diverged') return;
    if (state === 'running') s.state = 'running';
    else {
      if (s.state === 'running') return;
      s.state = 'paused';
      s.stepsAllowed++;
    }
    s.wake?.();
    s.loop ??= this.loop(s).finally(() => {
      s.loop = null;
    });
    this.progress(null);
  }

  /** Whether another iteration may run: waits while paused; false when closed or a restart is due. */
  private async gate(s: Session): Promise<boolean> {
    s.busy = false;
    let reported = false;
    for (;;) {
      await this.drainQueue(s);
      if (s.closed || s.restart.length > 0 || s.state === 'diverged') return false;
      if (s.state === 'running') break;
      if (s.stepsAllowed > 0) {
        s.stepsAllowed--;
        break;
      }
      // Parked: say so (a pause that came after this iteration's report was not announced yet).
      if (!reported) this.progress(null);
      reported = true;
      await new Promise<void>((ok) => (s.wake = ok));
      s.wake = null;
    }
    s.busy = true;
    return true;
  }

  private async drainQueue(s: Session): Promise<void> {
    while (s.queue.length) await s.queue.shift()!();
  }

  /** Runs `f` between two iterations (at once when no iteration is running). */
  private atBoundary<T>(f: () => Promise<T>): Promise<T> {
    const s = this.session;
    if (!s) return Promise.reject(new Error('no model: build one first'));
    if (!s.busy) return f();
    return new Promise<T>((ok, fail) => s.queue.push(() => f().then(ok, fail)));
  }

  private async loop(s: Session): Promise<void> {
    let resume: OptimizerState | undefined;
    try {
      await s.applying;
      while (!s.closed) {
        if (!(await this.gate(s))) {
          if (s.closed || s.state === 'diverged') break;
          resume = await this.applyRestart(s, resume);
          continue;
        }
        if (!resume) s.base = s.steps;
        let next: OptimizerState | undefined;
        const onIteration = async (info: IterationInfo): Promise<boolean> => {
          s.steps = s.base + info.iteration;
          const ok = await this.boundary(s, info);
          if (!ok) return false;
          if (!(await this.gate(s))) {
            if (s.restart.length > 0 && !s.closed && s.state !== 'diverged' && info.checkpoint) next = await info.checkpoint();
            return false;
          }
          return true;
        };
        const t = s.settings;
        const batchSize = Math.min(t.batchSize, s.objective.examples);
        const common = { learningRate: t.learningRate, batchSize, iterations: Infinity, epochs: Infinity, costEvery: t.costEvery, seed: s.request.seed ?? 1, resume, onIteration };
        const options: OptimizerOptions =
          t.method === 'lbfgs'
            ? { method: 'lbfgs', maxIterations: Infinity, resume, onIteration }
            : t.method === 'adam'
              ? { method: 'adam', ...common }
              : t.method === 'momentum'
                ? { method: 'momentum', ...common }
                : { method: 'sgd', ...common };
        resume = undefined;
        const result = await optimize(s.objective, options);
        s.busy = false;
        if (s.closed || s.state === 'diverged') break;
        if (result.reason !== 'callback' && s.restart.length === 0) {
          // Converged (L-BFGS): pause; Start runs it again from here.
          s.state = 'paused';
          this.opts.post({ type: 'stopped', step: s.steps, reason: result.reason });
          this.progress(null);
        }
        resume = await this.applyRestart(s, next);
      }
    } catch (e) {
      s.state = 'paused';
      this.opts.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    } finally {
      s.busy = false;
      if (s.state === 'running') s.state = 'paused';
      // Changes that arrived as training stopped (divergence): keep the settings for the next start.
      for (const r of s.restart.splice(0)) {
        s.settings = r.settings;
        r.done();
      }
      this.progress(null);
    }
  }

  /** Work at an iteration boundary; false stops training (divergence). */
  private async boundary(s: Session, info: IterationInfo): Promise<boolean> {
    const device = this.device!;
    // Throttle to the GPU (an async wait, not a readback).
    await device.queue.onSubmittedWorkDone();
    const now = performance.now();
    s.rate.times.push(now);
    s.rate.steps.push(s.steps);
    while (s.rate.times.length > 2 && now - s.rate.times[0]! > 1000) {
      s.rate.times.shift();
      s.rate.steps.shift();
    }
    let reading: CostReading | null = null;
    if (info.cost !== null) {
      const p = s.objective.lastReport?.parts;
      reading = { step: s.steps, cost: info.cost, parts: { data: p?.data ?? NaN, weightDecay: p?.weightDecay ?? 0, sparsity: p?.sparsity ?? 0, contractive: p?.contractive ?? 0, ...(p?.kl !== undefined ? { kl: p.kl } : {}) } };
      if (!finite(info.cost)) return this.diverged(s, 'the cost', info.cost, reading);
    }
    const stepping = s.state !== 'running';
    // Paused or stepping: apply the optimizer's pending update first, so the pictures show θ after this step.
    if (stepping) await s.objective.ops.flush();
    if (stepping || now - s.lastDraw > 40) {
      this.drawTiles(s);
      s.lastDraw = now;
    }
    this.progress(reading, s.settings.method === 'lbfgs' ? { evaluations: info.evaluations, gradNorm: info.gradNorm ?? null } : undefined);
    // The held-out pictures take at most about a tenth of the time (they cost several steps' work).
    if (stepping || now - s.lastPictures > Math.max(s.settings.heldOutEveryMs, 9 * s.picturesMs)) {
      await s.objective.ops.flush();
      const t0 = performance.now();
      const bad = await this.pictures(s);
      s.lastPictures = performance.now();
      s.picturesMs = s.lastPictures - t0;
      if (bad) return this.diverged(s, bad.what, bad.value, null);
    }
    await macrotask();
    return true;
  }

  private async diverged(s: Session, what: string, value: number, reading: CostReading | null): Promise<false> {
    s.state = 'diverged';
    this.progress(reading);
    await s.objective.ops.flush();
    const theta = await s.model.readParameters();
    this.opts.post({ type: 'diverged', step: s.steps, what, value, weightsFinite: theta.every((x) => Number.isFinite(x)) });
    return false;
  }

  private drawTiles(s: Session): void {
    if (s.tiles && this.context) s.tiles.draw(this.context, s.model.thetaBuffer, s.model.layout.slots[0]!.w);
  }

  /** Held-out cost, ρ̂ and reconstructions (readbacks: a few times a second at most). Returns what became non-finite, if anything. */
  private async pictures(s: Session): Promise<{ what: string; value: number } | null> {
    this.drawTiles(s);
    const { model } = s;
    await model.evaluate(s.heldOut, { cost: true, gradient: false });
    const r = await model.readCost();
    const [rho] = await model.readRhoHat();
    const reading: CostReading = { step: s.steps, cost: r.cost, parts: { data: r.parts.data, weightDecay: r.parts.weightDecay, sparsity: r.parts.sparsity, contractive: r.parts.contractive, ...(r.parts.kl !== undefined ? { kl: r.parts.kl } : {}) } };
    this.opts.post({ type: 'held-out', reading });
    if (rho) {
      const values = Float32Array.from(rho);
      this.opts.post({ type: 'rho-hat', step: s.steps, values }, [values.buffer]);
    }
    if (s.shownInputs.rows > 0) {
      const out = await model.predict(s.shownInputs);
      const outputs = { rows: out.rows, cols: out.cols, data: Float32Array.from(out.data) };
      const inputs = { rows: s.shownInputs.rows, cols: s.shownInputs.cols, data: Float32Array.from(s.shownInputs.data) };
      this.opts.post({ type: 'reconstructions', step: s.steps, inputs, outputs }, [(inputs.data as Float32Array).buffer, (outputs.data as Float32Array).buffer]);
    }
    if (s.request.mode === 'vae') await this.vaePictures(s);
    if (!finite(r.cost)) return { what: 'the held-out cost', value: r.cost };
    const badRho = rho?.find((v) => !finite(v));
    if (badRho !== undefined) return { what: 'ρ̂', value: badRho };
    return null;
  }

  /** VAE mode: samples from the fixed seed's z, and for a 2-D latent space the manifold and the held-out codes μ (readbacks, with the other pictures). */
  private async vaePictures(s: Session): Promise<void> {
    const { model } = s;
    const net = model.network;
    const o = s.request.vae ?? DEFAULT_VAE_PICTURES;
    const f32 = (m: Matrix): Matrix => ({ rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) });
    const samples = f32(o.samples > 0 ? await model.sample(o.samples, { seed: o.sampleSeed }) : { rows: 0, cols: net.layers[0]!, data: new Float32Array(0) });
    const d = net.layers[net.vae!.latent]!;
    let manifold: { n: number; images: Matrix } | null = null;
    let codes: Matrix | null = null;
    if (d === 2) {
      if (o.manifold > 0) manifold = { n: o.manifold, images: f32(await model.decode(manifoldCodes(o.manifold))) };
      const mu = await model.encode(s.request.heldOut);
      codes = { rows: mu.rows, cols: mu.cols, data: Float32Array.from(mu.data) };
    }
    const transfer = [samples, manifold?.images, codes].filter((m): m is Matrix => !!m).map((m) => (m.data as Float32Array).buffer);
    this.opts.post({ type: 'vae-pictures', step: s.steps, samples, manifold, codes }, transfer);
  }

  private progress(cost: CostReading | null, lineSearch?: { evaluations: number; gradNorm: number | null }): void {
    const s = this.session;
    if (!s) return;
    const r = s.rate;
    const n = r.times.length;
    const dt = n > 1 ? (r.times[n - 1]! - r.times[0]!) / 1000 : 0;
    const stepsPerSecond = dt > 0 && s.state === 'running' ? (r.steps[n - 1]! - r.steps[0]!) / dt : 0;
    const batch = Math.min(s.settings.batchSize, s.objective.examples);
    const epoch = s.settings.method === 'lbfgs' ? s.steps : (s.steps * batch) / s.objective.examples;
    this.opts.post({ type: 'progress', state: s.state, step: s.steps, epoch, stepsPerSecond, cost, ...(lineSearch ? { lineSearch } : {}) });
  }

  // ------------------------------------------------------------ live changes

  private update(settings?: Partial<TrainSettings>, spec?: NetworkSpec): Promise<void> {
    const s = this.session;
    if (!s) return Promise.reject(new Error('no model: build one first'));
    const next = { ...s.settings, ...(settings ?? {}) };
    checkSettings(next);
    const nextSpec = spec ?? s.spec;
    if (spec) {
      const a = resolveSpec(spec);
      const b = s.model.network;
      if (a.layers.join() !== b.layers.join() || a.activations.map((x) => x.name).join() !== b.activations.map((x) => x.name).join() || a.tied !== b.tied) {
        return Promise.reject(new RangeError('the architecture (layers, activations, tied weights) changes only with a rebuild'));
      }
    }
    s.rate = { times: [], steps: [] };
    if (!s.loop) {
      // Not training: apply at once (a loop started meanwhile waits for it).
      const done = s.applying.then(() => this.applyRestartNow(s, next, nextSpec));
      s.applying = done.catch(() => undefined);
      return done;
    }
    return new Promise<void>((done, fail) => {
      s.restart.push({ settings: next, spec: nextSpec, done, fail });
      s.wake?.();
    });
  }

  /** Applies the queued changes between two optimize() calls; returns the state to resume from (if it still fits). */
  private async applyRestart(s: Session, state: OptimizerState | undefined): Promise<OptimizerState | undefined> {
    const list = s.restart.splice(0);
    if (list.length === 0) return state;
    const last = list[list.length - 1]!;
    try {
      const oldMethod = s.settings.method;
      const oldBatch = s.settings.batchSize;
      await this.applyRestartNow(s, last.settings, last.spec);
      list.forEach((r) => r.done());
      if (!state) return undefined;
      // Another method starts afresh (the step count goes on).
      if (last.settings.method !== oldMethod) return undefined;
      if (last.settings.batchSize !== oldBatch && last.settings.method !== 'lbfgs') {
        // A new batch size starts a new epoch (the state's epoch counts as done).
        return { ...state, scalars: { ...state.scalars, batch: state.scalars.batches ?? 1 } };
      }
      return state;
    } catch (e) {
      list.forEach((r) => r.fail(e));
      return state;
    }
  }

  private async applyRestartNow(s: Session, settings: TrainSettings, spec: NetworkSpec): Promise<void> {
    if (JSON.stringify(spec) !== JSON.stringify(s.spec)) {
      await s.objective.ops.flush();
      const theta = await s.model.readParameters();
      const parts = await this.createParts(spec, s.request, theta, settings.method);
      this.disposeParts(s);
      Object.assign(s, parts);
      s.spec = spec;
      s.encodings = null;
      s.tiles?.destroy();
      s.tiles = null;
      this.makeTiles(s);
      if (s.state !== 'running') await this.pictures(s);
    } else if (s.model.network.corruption && usesLineSearch(settings.method) !== usesLineSearch(s.settings.method)) {
      // Between a line search and mini-batches: an objective with the other noise mode (θ stays in the model).
      await s.objective.ops.flush();
      s.objective.dispose();
      s.objective = this.objectiveFor(s.model, s.request, settings.method);
    }
    s.settings = settings;
  }

  // ------------------------------------------------------------ reads

  private async parameters(): Promise<ParametersReply> {
    const s = this.session!;
    await s.objective.ops.flush();
    return { spec: s.spec, theta: await s.model.readParameters(), steps: s.steps };
  }

  private async topInputs(unit: number, count: number): Promise<TopInputsReply> {
    const s = this.session!;
    if (s.model.network.vae) throw new RangeError('the inputs that excite a unit most are shown for autoencoders, not for a variational autoencoder');
    const nHidden = s.model.network.layers[1]!;
    if (!(Number.isInteger(unit) && unit >= 0 && unit < nHidden)) throw new RangeError(`unit must be an integer in 0 … ${nHidden - 1}, got ${unit}`);
    if (!s.encodings || s.encodings.step !== s.steps) {
      await s.objective.ops.flush();
      s.encodings = { step: s.steps, H: await s.model.encode(s.request.heldOut, 2) };
    }
    const H = s.encodings.H;
    const rows = Array.from({ length: H.rows }, (_, i) => i);
    const act = (i: number): number => H.data[i * H.cols + unit]!;
    rows.sort((a, b) => act(b) - act(a));
    const top = rows.slice(0, Math.max(0, Math.min(count, H.rows)));
    return { unit, rows: top, activations: top.map(act) };
  }
}
