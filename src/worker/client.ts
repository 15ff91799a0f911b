// WorkerTrainer: the page's side of the training worker. A WebGPU app creates
// the worker (entry.ts) and hands it here; the worker owns the GPUDevice, trains,
// and draws the feature tiles into a canvas whose control is transferred to it,
// so the page's main thread never waits on training.
//
//   const worker = new Worker(new URL('webgpu-nn/worker', import.meta.url), { type: 'module' });
//   const trainer = new WorkerTrainer(worker, { canvas: document.querySelector('canvas')! });
//   trainer.onEvent = (e) => { if (e.type === 'progress') console.log(e.step, e.cost?.cost); };
//   await trainer.build({ mode: 'autoencoder', spec, X, heldOut, shown: 10, settings });
//   trainer.start();                                  // pause(), step()
//   await trainer.update({ settings: { learningRate: 0.003 } });  // live, θ and Adam's moments kept

import type { NetworkSpec } from '../spec.js';
import type { BuildInfo, BuildRequest, ParametersReply, TopInputsReply, TrainerEvent, TrainerRequest, TrainSettings } from './protocol.js';

type Pending = { ok: (v: unknown) => void; fail: (e: Error) => void };

export class WorkerTrainer {
  /** Every event the worker posts (progress, held-out cost, ρ̂, reconstructions, divergence, errors, status). */
  onEvent: ((e: TrainerEvent) => void) | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /**
   * `canvas`: where the worker draws the feature tiles (its control moves to the
   * worker, which sizes it to the tiles; scale it with CSS). Without one, no tiles.
   */
  constructor(readonly worker: Worker, opts: { canvas?: HTMLCanvasElement } = {}) {
    worker.addEventListener('message', (e: MessageEvent<TrainerEvent>) => this.receive(e.data));
    worker.addEventListener('error', (e: ErrorEvent) => this.onEvent?.({ type: 'error', message: `the training worker failed: ${e.message || 'it could not be loaded'}` }));
    if (opts.canvas) {
      const off = opts.canvas.transferControlToOffscreen();
      this.send({ type: 'canvas', canvas: off }, [off]);
    }
  }

  private receive(e: TrainerEvent): void {
    if (e.type === 'reply') {
      const p = this.pending.get(e.id);
      this.pending.delete(e.id);
      if (e.ok) p?.ok(e.value);
      else p?.fail(new Error(e.error));
      return;
    }
    this.onEvent?.(e);
  }

  private send(msg: TrainerRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private call<T>(make: (id: number) => TrainerRequest, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      this.pending.set(id, { ok: ok as (v: unknown) => void, fail });
      this.send(make(id), transfer);
    });
  }

  /** Builds the model on the worker's device (tearing down the previous one). The data are copied. */
  build(request: BuildRequest): Promise<BuildInfo> {
    return this.call((id) => ({ type: 'build', id, request }));
  }

  start(): void {
    this.send({ type: 'start' });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  /** One step (from idle or paused); the worker pauses after it. */
  step(): void {
    this.send({ type: 'step' });
  }

  /**
   * Changes settings while the model trains: optimizer settings apply at the next
   * step (Adam's moments kept; a new batch size starts a new epoch; another method
   * starts afresh), and a spec with other λ, β, ρ or corruption level rebuilds the
   * model around the current θ. The architecture needs build().
   */
  update(change: { settings?: Partial<TrainSettings>; spec?: NetworkSpec }): Promise<void> {
    return this.call((id) => ({ type: 'update', id, ...change }));
  }

  /** θ as trained so far, with the spec and step count. */
  parameters(): Promise<ParametersReply> {
    return this.call((id) => ({ type: 'parameters', id }));
  }

  /** The held-out rows that excite hidden unit `unit` most (0-based), most first. */
  topInputs(unit: number, count = 8): Promise<TopInputsReply> {
    return this.call((id) => ({ type: 'top-inputs', id, unit, count }));
  }

  /** Frees the model on the worker and ends the worker. */
  async dispose(): Promise<void> {
    await this.call((id) => ({ type: 'dispose', id })).catch(() => undefined);
    this.worker.terminate();
    for (const p of this.pending.values()) p.fail(new Error('the trainer was disposed'));
    this.pending.clear();
  }
}
