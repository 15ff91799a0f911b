// VectorOps on GPU buffers. Operations are recorded, not run: they go to the
// GPU with the next submit (the next evaluation of the objective, a `dot`, or
// `flush`), so an optimizer's update and the next cost-and-gradient evaluation
// share one command submission. Each recorded operation reuses a Dispatch
// cached by (operation, operands, position in the submit); its scalars travel
// in a small coefficient buffer written once per submit.

import type { VectorOps } from '../train/types.js';
import { readF32, STORAGE, writeF32 } from './buffers.js';
import { COEF_STRIDE, Kernels, recordDispatches, SUM_GROUPS, type Dispatch, type VecOp } from './kernels.js';

/** A vector on the GPU: `n` f32 at element `offset` of `buffer`. */
export interface GpuVector {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly id: number;
}

const MAX_SLOTS = 64;

export class GpuVectorOps implements VectorOps<GpuVector> {
  private readonly coef: GPUBuffer;
  private readonly coefData = new Float32Array(MAX_SLOTS * COEF_STRIDE);
  private readonly dotScalars: GPUBuffer;
  private readonly partials: GPUBuffer;
  private readonly cache = new Map<string, Dispatch>();
  private readonly owned = new Set<GPUBuffer>();
  /** Dispatches recorded since the last submit, in order. */
  private pendingList: Dispatch[] = [];
  private slots = 0;
  private nextId = 1;
  /** Readbacks (dot products, reads) so far: optimizers report this per iteration. */
  readbacks = 0;

  constructor(readonly kernels: Kernels, readonly n: number) {
    const pool = kernels.pool;
    this.coef = pool.acquire(MAX_SLOTS * COEF_STRIDE * 4, STORAGE, 'coef');
    this.dotScalars = pool.acquire(16, STORAGE, 'dot');
    this.partials = pool.acquire(SUM_GROUPS * 4, STORAGE, 'dot partials');
  }

  /** Wraps an existing buffer region (θ or ∇θ of a model) as a vector. */
  wrap(buffer: GPUBuffer, offset = 0): GpuVector {
    return { buffer, offset, id: this.nextId++ };
  }

  alloc(): GpuVector {
    const buffer = this.kernels.pool.acquire(this.n * 4, STORAGE, 'vector');
    this.owned.add(buffer);
    const v = this.wrap(buffer);
    this.fill(0, v);
    return v;
  }

  free(v: GpuVector): void {
    if (!this.owned.delete(v.buffer)) return;
    // Cached dispatches that name this vector die with it.
    for (const [k, d] of this.cache) {
      if (k.includes(`|${v.id}|`)) {
        this.kernels.release([d]);
        this.cache.delete(k);
      }
    }
    this.kernels.pool.release(v.buffer);
  }

  private async record(op: VecOp, coefs: number[], y: GpuVector, x?: GpuVector, m?: GpuVector, v?: GpuVector): Promise<void> {
    if (this.slots === MAX_SLOTS) this.submit(this.takePending());
    const slot = this.slots++;
    this.coefData.set(coefs, slot * COEF_STRIDE);
    const key = `${op}|${y.id}|${x?.id ?? 0}|${m?.id ?? 0}|${v?.id ?? 0}|${slot}|`;
    let d = this.cache.get(key);
    if (!d) {
      d = await this.kernels.vec({ op, count: this.n, x: x && { buffer: x.buffer, offset: x.offset }, y: { buffer: y.buffer, offset: y.offset }, coef: this.coef, slot, m: m?.buffer, v: v?.buffer });
      this.cache.set(key, d);
    }
    this.pendingList.push(d);
  }

  // Recording is synchronous for the caller once pipelines exist; the rare first
  // use of a pipeline compiles it. `chain` keeps operations in call order.
  private chain: Promise<void> = Promise.resolve();
  private enqueue(f: () => Promise<void>): void {
    this.chain = this.chain.then(f);
  }

  copy(src: GpuVector, dst: GpuVector): void {
    this.enqueue(() => this.record('copy', [], dst, src));
  }
  axpy(a: number, x: GpuVector, y: GpuVector): void {
    this.enqueue(() => this.record('axpy', [a], y, x));
  }
  axpby(a: number, x: GpuVector, b: number, y: GpuVector): void {
    this.enqueue(() => this.record('axpby', [a, b], y, x));
  }
  scale(a: number, y: GpuVector): void {
    this.enqueue(() => this.record('scale', [a], y));
  }
  fill(a: number, y: GpuVector): void {
    this.enqueue(() => this.record('fill', [a], y));
  }
  adam(theta: GpuVector, g: GpuVector, m: GpuVector, v: GpuVector, p: { lr: number; beta1: number; beta2: number; epsilon: number; t: number }): void {
    if (m.offset !== 0 || v.offset !== 0) throw new Error('adam moment vectors must be allocated with alloc()');
    const c = [p.lr, p.beta1, p.beta2, p.epsilon, 1 - p.beta1 ** p.t, 1 - p.beta2 ** p.t];
    this.enqueue(() => this.record('adam', c, theta, g, m, v));
  }

  /**
   * Takes the recorded operations for a submit the caller is building (the
   * objective's evaluation): writes their coefficients and returns them.
   */
  async drain(): Promise<Dispatch[]> {
    await this.chain;
    return this.takePending();
  }

  private takePending(): Dispatch[] {
    const list = this.pendingList;
    if (list.length) this.kernels.ctx.device.queue.writeBuffer(this.coef, 0, this.coefData, 0, this.slots * COEF_STRIDE);
    this.pendingList = [];
    this.slots = 0;
    return list;
  }

  private submit(list: Dispatch[]): void {
    if (!list.length) return;
    const device = this.kernels.ctx.device;
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    recordDispatches(pass, list);
    pass.end();
    device.queue.submit([enc.finish()]);
  }

  async flush(): Promise<void> {
    this.submit(await this.drain());
    await this.kernels.ctx.device.queue.onSubmittedWorkDone();
    this.kernels.ctx.check();
  }

  async dot(x: GpuVector, y: GpuVector): Promise<number> {
    const key = `dot|${x.id}|${y.id}|`;
    let pair = this.dotCache.get(key);
    if (!pair) {
      pair = await this.kernels.sum({
        count: this.n, map: 'dot', x: { buffer: x.buffer, offset: x.offset }, y: { buffer: y.buffer, offset: y.offset },
        partials: this.partials, scalars: this.dotScalars, slot: 0, scale: 1,
      });
      this.dotCache.set(key, pair);
    }
    const list = await this.drain();
    const device = this.kernels.ctx.device;
    const enc = device.createCommandEncoder();
    enc.clearBuffer(this.dotScalars);
    const pass = enc.beginComputePass();
    recordDispatches(pass, list);
    recordDispatches(pass, pair);
    pass.end();
    device.queue.submit([enc.finish()]);
    this.readbacks++;
    const [s] = await readF32(device, this.kernels.pool, [{ buffer: this.dotScalars, count: 1 }]);
    this.kernels.ctx.check();
    return s![0]!;
  }
  private readonly dotCache = new Map<string, Dispatch[]>();

  async read(v: GpuVector): Promise<Float64Array> {
    await this.flush();
    this.readbacks++;
    const [a] = await readF32(this.kernels.ctx.device, this.kernels.pool, [{ buffer: v.buffer, offset: v.offset, count: this.n }]);
    return Float64Array.from(a!);
  }

  write(v: GpuVector, values: ArrayLike<number>): void {
    if (values.length !== this.n) throw new Error(`vector of ${this.n} values expected, got ${values.length}`);
    // Operations recorded before this write must not see it: submit them first.
    const copy = Float32Array.from(values);
    this.enqueue(async () => {
      this.submit(this.takePending());
      writeF32(this.kernels.ctx.device, v.buffer, copy, v.offset);
    });
  }

  /** Frees every vector and dispatch this object created. */
  dispose(): void {
    for (const d of this.cache.values()) this.kernels.release([d]);
    for (const p of this.dotCache.values()) this.kernels.release(p);
    this.cache.clear();
    this.dotCache.clear();
    for (const b of this.owned) this.kernels.pool.release(b);
    this.owned.clear();
    for (const b of [this.coef, this.dotScalars, this.partials]) this.kernels.pool.release(b);
  }
}
