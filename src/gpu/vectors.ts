// VectorOps on GPU buffers. Operations are recorded, not run: they go to the
// GPU with the next submit (the next evaluation of the objective, a `dot`, or
// `flush`), so an optimizer's update and the next cost-and-gradient evaluation
// share one command submission. Each recorded operation reuses a Dispatch
// cached by (operation, operands, position in the submit); its scalars travel
// in a small coefficient buffer written once per submit.

import type { VectorOps } from '../optim/types.js';
import { readF32, STORAGE, UNIFORM, writeF32 } from './buffers.js';
import { COEF_STRIDE, DOTS_MAX_PAIRS, Kernels, recordDispatches, SUM_GROUPS, sumThreads, type Dispatch, type DotsPair, type VecOp } from './kernels.js';

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
    // Storage for the vector ops, uniform for combine (whose storage bindings go to vectors).
    this.coef = pool.acquire(MAX_SLOTS * COEF_STRIDE * 4, STORAGE | UNIFORM, 'coef');
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
    for (const c of [this.dotCache, this.batchCache]) {
      for (const [k, list] of c) {
        if (k.includes(`|${v.id}|`)) {
          this.kernels.release(list);
          c.delete(k);
        }
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

  /**
   * Like `drain`, split in two around the operations `after` records (at most
   * 8): `before` runs ahead of an evaluation, `then` after it, in the same
   * submit (they share its coefficient buffer, so they are taken together).
   */
  async drainAround(after: (() => void) | undefined): Promise<{ before: Dispatch[]; then: Dispatch[] }> {
    await this.chain;
    if (!after) return { before: this.takePending(), then: [] };
    if (this.slots + 8 > MAX_SLOTS) this.submit(this.takePending());
    const mark = this.pendingList.length;
    after();
    await this.chain;
    if (this.pendingList.length < mark) throw new Error('drainAround: the operations after the evaluation overflowed one submit');
    const list = this.takePending();
    return { before: list.slice(0, mark), then: list.slice(mark) };
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

  combine(coefs: readonly number[], vectors: readonly GpuVector[], dst: GpuVector): void {
    if (coefs.length !== vectors.length) throw new Error(`combine: ${coefs.length} coefficients for ${vectors.length} vectors`);
    vectors.forEach((v, j) => {
      if (v.buffer === dst.buffer && v.offset === dst.offset) throw new Error(`combine: the destination is also vector ${j} of the combination`);
      // One dispatch may not bind a buffer both writable (dst) and read-only (WebGPU usage rules).
      if (v.buffer === dst.buffer) throw new Error(`combine: vector ${j} lies in the destination's buffer (offsets ${v.offset} and ${dst.offset})`);
    });
    if (!vectors.length) {
      this.fill(0, dst);
      return;
    }
    // Groups of up to G vectors, one dispatch each: dst ← Σ cⱼ·vⱼ over the first,
    // dst ← dst + Σ cⱼ·vⱼ over the others, each summed in index order — the
    // CPU's order, and the rounding of dst ← 0 followed by one axpy per vector.
    const G = this.kernels.combineGroup();
    for (let start = 0; start < vectors.length; start += G) {
      const cs = coefs.slice(start, start + G);
      const vs = vectors.slice(start, start + G);
      this.enqueue(() => this.recordCombine(cs, vs, dst, start > 0));
    }
  }

  private async recordCombine(coefs: number[], vectors: readonly GpuVector[], dst: GpuVector, accumulate: boolean): Promise<void> {
    if (this.slots === MAX_SLOTS) this.submit(this.takePending());
    const slot = this.slots++;
    this.coefData.set(coefs, slot * COEF_STRIDE);
    // Every id between bars, so that free() finds it; the slot after '@'.
    const key = `combine${accumulate ? '+' : ''}|${dst.id}|${vectors.map((v) => v.id).join('|')}|@${slot}`;
    let d = this.cache.get(key);
    if (!d) {
      d = await this.kernels.combine({
        count: this.n, vectors: vectors.map((v) => ({ buffer: v.buffer, offset: v.offset })), dst: { buffer: dst.buffer, offset: dst.offset },
        accumulate, coef: this.coef, slot,
      });
      this.cache.set(key, d);
    }
    this.pendingList.push(d);
  }

  /** Slots of the batched dot products' result buffer (and rows of their partials). */
  private dotCapacity = 0;
  private dotsBuffer: GPUBuffer | null = null;
  private dotPartials: GPUBuffer | null = null;
  private readonly batchCache = new Map<string, Dispatch[]>();

  /**
   * The dispatches that add xᵢᵀyᵢ into slot i of the dots buffer, for every
   * pair, after `prepareDots` zeroed it (dots.wgsl: one dispatch per group of
   * pairs from groupDotPairs, then one for all; each dot bitwise that of
   * reduce.wgsl's sum with map 'dot'). Cached per list of pairs (their vector
   * ids in order; slot i is pair i).
   */
  async recordDots(pairs: readonly (readonly [GpuVector, GpuVector])[]): Promise<Dispatch[]> {
    if (!pairs.length) return [];
    if (pairs.length > this.dotCapacity) {
      // Grow: the cached dispatches name the old buffers.
      for (const p of this.batchCache.values()) this.kernels.release(p);
      this.batchCache.clear();
      for (const b of [this.dotsBuffer, this.dotPartials]) if (b) this.kernels.pool.release(b);
      this.dotCapacity = Math.max(64, 2 ** Math.ceil(Math.log2(pairs.length)));
      this.dotsBuffer = this.kernels.pool.acquire(this.dotCapacity * 4, STORAGE, 'dots');
      this.dotPartials = this.kernels.pool.acquire(this.dotCapacity * sumThreads(this.n) * 4, STORAGE, 'dots partials');
    }
    // Every id between bars, so that free() finds it.
    const key = `|${pairs.map(([x, y]) => `${x.id}|${y.id}`).join('|')}|`;
    let list = this.batchCache.get(key);
    if (!list) {
      const byId = new Map<number, GpuVector>();
      for (const [x, y] of pairs) byId.set(x.id, x).set(y.id, y);
      list = [];
      for (const g of groupDotPairs(pairs.map(([x, y]) => [x.id, y.id] as const), this.kernels.dotsGroup(), DOTS_MAX_PAIRS)) {
        const vectors = g.vectors.map((id) => {
          const v = byId.get(id)!;
          return { buffer: v.buffer, offset: v.offset };
        });
        list.push(await this.kernels.dotsPartial({ count: this.n, vectors, pairs: g.pairs, partials: this.dotPartials! }));
      }
      list.push(await this.kernels.dotsFinal({ count: this.n, rows: pairs.length, partials: this.dotPartials!, dots: this.dotsBuffer! }));
      this.batchCache.set(key, list);
    }
    return list;
  }

  /** Zeroes the first `count` slots of the dots buffer (a queue write, ahead of the next submit). */
  prepareDots(count: number): void {
    if (count > 0) this.kernels.ctx.device.queue.writeBuffer(this.dotsBuffer!, 0, new Float32Array(count));
  }

  /** The readback source of `count` dot products. */
  dotsSource(count: number): { buffer: GPUBuffer; count: number } {
    return { buffer: this.dotsBuffer!, count };
  }

  async dots(pairs: readonly (readonly [GpuVector, GpuVector])[]): Promise<Float64Array> {
    if (!pairs.length) return new Float64Array(0);
    const sums = await this.recordDots(pairs);
    const list = await this.drain();
    this.prepareDots(pairs.length);
    const device = this.kernels.ctx.device;
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    recordDispatches(pass, list);
    recordDispatches(pass, sums);
    pass.end();
    device.queue.submit([enc.finish()]);
    this.readbacks++;
    const [s] = await readF32(device, this.kernels.pool, [this.dotsSource(pairs.length)]);
    this.kernels.ctx.check();
    return Float64Array.from(s!);
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
    for (const p of this.batchCache.values()) this.kernels.release(p);
    this.batchCache.clear();
    for (const b of [this.dotsBuffer, this.dotPartials]) if (b) this.kernels.pool.release(b);
    this.dotsBuffer = null;
    this.dotPartials = null;
    this.dotCapacity = 0;
    this.cache.clear();
    this.dotCache.clear();
    for (const b of this.owned) this.kernels.pool.release(b);
    this.owned.clear();
    for (const b of [this.coef, this.dotScalars, this.partials]) this.kernels.pool.release(b);
  }
}

/** One dispatch's share of a batch of dot products: the vectors it binds (ids, in binding order) and its pairs. */
export interface DotGroup {
  readonly vectors: number[];
  /** Indices into `vectors`; `row` is the pair's position in the batch. */
  readonly pairs: DotsPair[];
}

/**
 * Packs dot products (pairs of vector ids) into groups of at most `maxVectors`
 * distinct vectors and `maxPairs` pairs, one dispatch each. Greedy: a group
 * grows by the pair that binds the fewest new vectors, then completes the most
 * pairs, then whose new vectors are in the most pairs still left (so a vector
 * dotted with many others, as L-BFGS's ∇J and y_T are, joins early), then the
 * earliest. L-BFGS's 4k + 4 dots over 2k + 3 vectors fit in ⌈(2k + 1)/(V − 2)⌉
 * or so groups.
 */
export function groupDotPairs(pairs: readonly (readonly [number, number])[], maxVectors: number, maxPairs: number): DotGroup[] {
  if (!(Number.isInteger(maxVectors) && maxVectors >= 2)) throw new RangeError(`groupDotPairs: maxVectors must be an integer ≥ 2, got ${maxVectors}`);
  if (!(Number.isInteger(maxPairs) && maxPairs >= 1)) throw new RangeError(`groupDotPairs: maxPairs must be an integer ≥ 1, got ${maxPairs}`);
  const left = new Set(pairs.map((_, i) => i));
  const degree = new Map<number, number>();
  const touch = (i: number, d: number): void => {
    for (const v of new Set(pairs[i]!)) degree.set(v, (degree.get(v) ?? 0) + d);
  };
  for (const i of left) touch(i, 1);
  const groups: DotGroup[] = [];
  while (left.size) {
    const index = new Map<number, number>();
    const g: DotGroup = { vectors: [], pairs: [] };
    while (g.pairs.length < maxPairs) {
      let best = -1;
      let bestScore: number[] = [];
      for (const i of left) {
        const fresh = [...new Set(pairs[i]!)].filter((v) => !index.has(v));
        if (g.vectors.length + fresh.length > maxVectors) continue;
        if (!fresh.length) {
          best = i;
          break;
        }
        const covered = (v: number): boolean => index.has(v) || fresh.includes(v);
        let gain = 0;
        for (const j of left) if (covered(pairs[j]![0]) && covered(pairs[j]![1])) gain++;
        const deg = fresh.reduce((s, v) => s + degree.get(v)!, 0);
        const score = [-fresh.length, gain, deg];
        if (best < 0 || lexGreater(score, bestScore)) {
          best = i;
          bestScore = score;
        }
      }
      if (best < 0) break;
      const [x, y] = pairs[best]!;
      for (const v of [x, y]) {
        if (!index.has(v)) {
          index.set(v, g.vectors.length);
          g.vectors.push(v);
        }
      }
      g.pairs.push({ a: index.get(x)!, b: index.get(y)!, row: best });
      left.delete(best);
      touch(best, -1);
    }
    groups.push(g);
  }
  return groups;
}

/** Whether `a` comes after `b` in lexicographic order (equal-length lists). */
function lexGreater(a: readonly number[], b: readonly number[]): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! > b[k]!;
  return false;
}
