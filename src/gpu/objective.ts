// The training objective on the GPU: θ and ∇θ are the model's buffers, the
// examples are uploaded once, and a mini-batch is gathered on the GPU from a
// permutation uploaded once per epoch. One evaluation = one submit holding the
// optimizer's pending update, the gather and the cost-and-gradient passes.
// A data set over `maxDataBytes` stays in host memory and streams instead: each
// mini-batch is gathered on the CPU under the same seeded permutation and
// uploaded into one of two batch buffers (double-buffered), the next one queued
// as soon as the current evaluation is submitted; a full-batch evaluation
// uploads the whole set chunk by chunk (fullStream), at most maxDataBytes at a time.

import { Rng } from '../prng.js';
import { SpecError } from '../spec.js';
import { checkData, type Matrix } from '../matrix.js';
import type { BatchRange, CostReadingValue, ObjectiveReport, Trial, TrialRule } from '../optim/types.js';
import { startSearch } from '../optim/linesearch-state.js';
import { encodeSearchState, lineSearchParams, LS_PARAM_SLOTS, LS_STATE_SLOTS } from './linesearch.js';
import type { CostParts, FullCost, ModelObjective, ObjectiveOptions } from '../model-contract.js';
import type { Network } from '../spec.js';
import type { ParamLayout } from '../params.js';
import { readF32, STORAGE, writeF32 } from './buffers.js';
import { presentationSeeds } from '../noise.js';
import { describeAnneal, kSparseAt } from '../ksparse-anneal.js';
import { INDIRECT_ARGS, type Dispatch, type Kernels } from './kernels.js';
import type { EvaluateOptions } from './evaluate-options.js';
import type { GpuContext } from './device.js';
import { GpuDataset, type StreamedChunks } from './dataset.js';
import { GpuVectorOps, type GpuVector } from './vectors.js';

/** What the objective uses of a GpuModel (written out, so that model.ts can make objectives without an import cycle). */
export interface GpuObjectiveModel {
  readonly network: Network;
  readonly layout: ParamLayout;
  readonly kernels: Kernels;
  readonly ctx: GpuContext;
  readonly thetaBuffer: GPUBuffer;
  readonly gradBuffer: GPUBuffer;
  upload(X: Matrix, Y?: Matrix | null): GpuDataset;
  emptyDataset(rows: number): GpuDataset;
  release(ds: GpuDataset): void;
  forget(ds: GpuDataset): void;
  evaluate(ds: GpuDataset, what: EvaluateOptions): Promise<void>;
  evaluationDispatches(ds: GpuDataset, what: Pick<EvaluateOptions, 'cost' | 'gradient'>): Promise<number>;
  readCost(): Promise<{ cost: number; parts: CostParts; rhoHatMean: number | null }>;
  /** Host examples in chunks uploaded one at a time (a streamed set's full-batch evaluations). */
  streamChunks(X: Matrix, T: Matrix | null, maxRows?: number): StreamedChunks;
  /** `evaluate` over streamed chunks (no gate, tail or encoder: those apply to resident sets). */
  evaluateStreamed(s: StreamedChunks, what: EvaluateOptions): Promise<void>;
  /** The buffer slice holding J's parts after an evaluation (read with readF32 alongside other values). */
  readonly costSource: Parameters<typeof readF32>[2][number];
  costFromScalars(s: Float32Array): { cost: number; parts: CostParts; rhoHatMean: number | null };
  /** J = Σₖ wₖ·costSource[k]. */
  readonly costWeights: number[];
}

/** The cached work of evaluateTrials for one (x, d, number of dots, depth). */
interface TrialKernels {
  key: string;
  /** The dots buffer the kernels read (GpuVectorOps replaces it when it grows). */
  dots: GPUBuffer;
  /** linesearch.wgsl after each evaluation but the last: the next step, and a copy of the trial's parts and dots. */
  steps: Dispatch[];
  /** Before each evaluation but the first: θ ← x, θ ← out[link]·d + θ. */
  moves: Dispatch[][];
  /** First in each submit but the first: trialgate.wgsl, which zeroes that trial's indirect arguments when it is not needed. */
  gates: Dispatch[];
  params: GPUBuffer;
  /** linesearch.wgsl's state, then θ's step and the count of gated trials run (trialgate.wgsl). */
  state: GPUBuffer;
  out: GPUBuffer;
  /** The indirect arguments of the gated submits, `perLink` dispatches each. */
  args: GPUBuffer;
  perLink: number;
  /** f32 per link in `out` (a multiple of 8, the vector ops' coefficient slot). */
  width: number;
}

/** trialgate.wgsl's slots after the search's state: θ's step, then the count of gated trials that ran. */
const GATE_AT = LS_STATE_SLOTS;
const GATE_RUNS = LS_STATE_SLOTS + 1;

export class GpuObjective implements ModelObjective<GpuVector> {
  readonly ops: GpuVectorOps;
  readonly theta: GpuVector;
  readonly grad: GpuVector;
  readonly examples: number;
  /** The resident examples; null when they stream from `host`. */
  private readonly data: GpuDataset | null;
  /** Streamed examples (over maxDataBytes): X and the targets (X itself for an autoencoder). */
  private readonly host: { X: Matrix; T: Matrix; bytes: number; cap: number } | null = null;
  /** The permutation on the host (streaming gathers with it). */
  private perm: Uint32Array | null = null;
  /** Bumped by every shuffle: a prefetched batch is valid only under the permutation it was gathered with. */
  private permVersion = 0;
  /** Streaming: which of the two buffers per batch size the next upload goes to, and what each holds. */
  private streamTurn = 0;
  private readonly streamed = new Map<string, string>();
  private streamStage: Float32Array | null = null;
  /** Whether `data` was uploaded here (and is freed by dispose) or handed in. */
  private readonly ownsData: boolean;
  private order: GPUBuffer | null = null;
  private readonly batches = new Map<string, GpuDataset>();
  private readonly gathers = new Map<string, Dispatch[]>();
  lastReport: ObjectiveReport | null = null;
  /**
   * J is a float32 reduction over every example: two nearby θ give values
   * that differ by rounding of order 1e-6 relative (measured 2.4e-6 on 10 000
   * patches), so line searches treat J within 1e-5 relative as equal.
   */
  readonly costResolution = 1e-5;
  /** Training evaluations so far: a denoising network's noise seed for the next one derives from it. */
  private presentations = 0;
  /** k-sparse annealing: the k of the next training evaluation (kSparseAt of the last setProgress; `from` at first), else null. */
  private kNext: number | null = null;
  /** Names the k-sparse annealing schedule, if any (line-search methods refuse it). */
  readonly schedule: string | null;
  /** Cost readbacks so far (the ops count their own). */
  costReads = 0;
  /**
   * Cost-and-gradient evaluations run on the device so far. evaluateTrials
   * records `depth`; with `gateTrials`, those the line search turned out not
   * to need (it was done at the step θ already held) do no work and are not counted.
   */
  deviceEvaluations = 0;
  /**
   * evaluateTrials: record the trials after the first as indirect dispatches
   * that trialgate.wgsl zeroes when the search no longer needs them (default
   * true). false runs every trial recorded, as before (for comparisons).
   */
  gateTrials = true;

  /**
   * `rhoHatDecay` > 0: mini-batch evaluations use a running average of ρ̂
   * (EvaluateOptions.rhoHatDecay); full evaluations always use the exact ρ̂.
   * Denoising networks: `noise` 'fresh' (default) corrupts every evaluation anew,
   * for first-order methods; 'fixed' keeps one corruption for the whole run, so
   * the objective is deterministic as L-BFGS and CG line searches need.
   * `presentationsBefore`: evaluations already done (a resumed run), so a fresh
   * noise stream continues where it stopped.
   * `data`: examples to upload, or a data set already on the GPU (e.g. the
   * features another model's `encodeDataset` produced), which stays the caller's.
   * `maxDataBytes`: examples (and targets) over this many bytes as float32 are not
   * uploaded but stream from host memory: by mini-batches, or whole in chunks of
   * at most that size in each full-batch evaluation (default: no cap).
   */
  constructor(readonly model: GpuObjectiveModel, data: Matrix | GpuDataset, Y?: Matrix | null, private readonly opts: ObjectiveOptions & { maxDataBytes?: number } = {}) {
    this.presentations = opts.presentationsBefore ?? 0;
    const ks = model.network.kSparse;
    this.kNext = ks?.anneal ? kSparseAt(ks, 0) : null;
    this.schedule = describeAnneal(model.network);
    this.ops = new GpuVectorOps(model.kernels, model.layout.size);
    this.theta = this.ops.wrap(model.thetaBuffer);
    this.grad = this.ops.wrap(model.gradBuffer);
    this.examples = data.rows;
    if (data instanceof GpuDataset) {
      const net = model.network;
      const n1 = net.layers[0]!;
      const nL = net.layers[net.layers.length - 1]!;
      if (data.cols !== n1) throw new SpecError(`the data set has ${data.cols} features per example but the input layer has ${n1} units`);
      if (!net.autoencoder && (data.targetCols !== nL || data.chunks.some((c) => !c.Y))) {
        throw new SpecError(`the network's output layer has ${nL} units; the data set needs targets of that width (it has ${data.chunks.some((c) => !c.Y) ? 'none' : data.targetCols})`);
      }
      if (Y) throw new SpecError('pass targets inside the GPU data set, not as Y');
      this.data = data;
      this.ownsData = false;
    } else {
      const cap = opts.maxDataBytes ?? Infinity;
      if (!(cap > 0)) throw new SpecError(`maxDataBytes must be a positive number of bytes (got ${cap})`);
      const T = checkData(model.network, data, Y);
      const bytes = 4 * data.rows * (data.cols + (T === data ? 0 : T.cols));
      if (bytes > cap) {
        this.host = { X: data, T, bytes, cap };
        this.data = null;
        this.ownsData = false;
      } else {
        this.data = model.upload(data, Y);
        this.ownsData = true;
      }
    }
  }

  /** Readbacks so far: cost reads plus the vector operations' dot products. */
  get readbacks(): number {
    return this.costReads + this.ops.readbacks;
  }

  /** Whether the examples stream from host memory (over maxDataBytes) instead of living on the GPU. */
  get streaming(): boolean {
    return this.host !== null;
  }

  shuffle(seed: number): void {
    const m = this.examples;
    const perm = new Uint32Array(m);
    for (let i = 0; i < m; i++) perm[i] = i;
    new Rng(seed).shuffle(perm);
    this.permVersion++;
    if (this.host) {
      this.perm = perm;
      return;
    }
    this.order ??= this.model.kernels.pool.acquire(m * 4, STORAGE, 'order');
    this.model.ctx.device.queue.writeBuffer(this.order, 0, perm);
  }

  /** Training progress in epochs (Objective.setProgress): sets an annealed k for the next evaluations. */
  setProgress(epochs: number): void {
    const ks = this.model.network.kSparse;
    if (ks?.anneal) this.kNext = kSparseAt(ks, epochs);
  }

  /** The annealed k of a training evaluation (EvaluateOptions.kSparseK), if any. */
  private trainingK(): { kSparseK?: number } {
    return this.kNext === null ? {} : { kSparseK: this.kNext };
  }

  private checkBatch(batch: BatchRange): void {
    if (batch.start < 0 || batch.count < 1 || batch.start + batch.count > this.examples) {
      throw new SpecError(`batch [${batch.start}, ${batch.start + batch.count}) lies outside the ${this.examples} examples`);
    }
  }

  /** The resident examples (the callers check `host` first: a streamed set evaluates through `fullStream`). */
  private resident(): GpuDataset {
    if (this.data) return this.data;
    throw new Error('GpuObjective: the examples stream from host memory; a full-batch evaluation goes through fullStream()');
  }

  private stream: StreamedChunks | null = null;
  /**
   * A streamed set's full-batch evaluations (L-BFGS, CG, GD): the examples in
   * chunks of at most `maxDataBytes` (X and targets as float32), uploaded one at
   * a time in each evaluation's submits (GpuModel.evaluateStreamed) into one
   * shared buffer. Kept for the objective's life, so its plan (pipelines, bind
   * groups, scratch sized to a chunk) is built once.
   */
  private fullStream(): StreamedChunks {
    const h = this.host!;
    if (!this.stream) {
      const rowBytes = 4 * (h.X.cols + (h.T === h.X ? 0 : h.T.cols));
      this.stream = this.model.streamChunks(h.X, h.T === h.X ? null : h.T, Math.max(1, Math.floor(h.cap / rowBytes)));
    }
    return this.stream;
  }

  /** An evaluation over every example: resident, or streamed chunk by chunk (each chunk's upload queued before its submit). */
  private async evaluateAll(what: EvaluateOptions): Promise<void> {
    if (this.host) await this.model.evaluateStreamed(this.fullStream(), what);
    else await this.model.evaluate(this.resident(), what);
  }

  /** One full-batch cost-and-gradient training evaluation, with `what`'s extra dispatches. */
  private async evaluateFull(what: { cost: boolean; before: readonly Dispatch[]; then?: readonly Dispatch[] }): Promise<void> {
    await this.evaluateAll({ ...what, gradient: true, ...this.nextSeeds(), ...this.trainingK() });
    this.deviceEvaluations++;
  }

  /** A streamed batch buffer: one of two per batch size, alternating. */
  private streamBuffer(count: number, slot: number): GpuDataset {
    const key = `${count}:${slot}`;
    let ds = this.batches.get(key);
    if (!ds) {
      ds = this.model.emptyDataset(count);
      this.batches.set(key, ds);
    }
    return ds;
  }

  /**
   * Gathers batch rows order[start … start+count) of the host examples into
   * `ds` (queue.writeBuffer: ordered before any later submit, after earlier ones).
   * Float64 → float32 as model.upload rounds, so the batch is bitwise the resident gather's.
   */
  private uploadBatch(ds: GpuDataset, batch: BatchRange): void {
    const h = this.host!;
    const perm = this.perm!;
    const device = this.model.ctx.device;
    const fill = (M: Matrix, dst: GPUBuffer): void => {
      const n = batch.count * M.cols;
      if (!this.streamStage || this.streamStage.length < n) this.streamStage = new Float32Array(n);
      const stage = this.streamStage;
      for (let r = 0; r < batch.count; r++) {
        const e = perm[batch.start + r]!;
        stage.set(M.data.subarray(e * M.cols, (e + 1) * M.cols), r * M.cols);
      }
      device.queue.writeBuffer(dst, 0, stage, 0, n);
    };
    const c = ds.chunks[0]!;
    fill(h.X, c.X);
    if (c.Y) fill(h.T, c.Y);
  }

  /**
   * Streaming: the batch's buffer, uploaded now unless it was prefetched (same
   * batch, same permutation). The other buffer of this size holds the batch
   * before, which a submitted evaluation may still be reading.
   */
  private streamBatch(batch: BatchRange): GpuDataset {
    this.checkBatch(batch);
    if (!this.perm) this.shuffle(0);
    const tag = `${this.permVersion}:${batch.start}:${batch.count}`;
    for (const slot of [0, 1]) {
      if (this.streamed.get(`${batch.count}:${slot}`) === tag) {
        this.streamTurn = slot ^ 1;
        return this.streamBuffer(batch.count, slot);
      }
    }
    const slot = this.streamTurn;
    this.streamTurn ^= 1;
    const ds = this.streamBuffer(batch.count, slot);
    this.uploadBatch(ds, batch);
    this.streamed.set(`${batch.count}:${slot}`, tag);
    return ds;
  }

  /**
   * After a streamed batch's submit: queue the upload of the batch that usually
   * follows (the next one of this epoch's order) into the other buffer, so its
   * upload overlaps this evaluation. A wrong guess costs one extra upload.
   */
  private prefetch(batch: BatchRange): void {
    const start = batch.start + batch.count;
    if (start >= this.examples) return;
    const next = { start, count: Math.min(batch.count, this.examples - start) };
    const slot = this.streamTurn;
    const ds = this.streamBuffer(next.count, slot);
    this.uploadBatch(ds, next);
    this.streamed.set(`${next.count}:${slot}`, `${this.permVersion}:${next.start}:${next.count}`);
  }

  private async gatherBatch(batch: BatchRange): Promise<{ ds: GpuDataset; gather: Dispatch[] }> {
    this.checkBatch(batch);
    const data = this.resident();
    if (!this.order) this.shuffle(0);
    let ds = this.batches.get(`${batch.count}`);
    if (!ds) {
      ds = this.model.emptyDataset(batch.count);
      this.batches.set(`${batch.count}`, ds);
    }
    const key = `${batch.start}:${batch.count}`;
    let gather = this.gathers.get(key);
    if (!gather) {
      const k = this.model.kernels;
      const dst = ds.chunks[0]!;
      // One gather per chunk of the data set: each writes the batch rows whose example it holds.
      gather = [];
      let lo = 0;
      for (const src of data.chunks) {
        const range = { rows: batch.count, start: batch.start, order: this.order!, lo, count: src.rows };
        // An f16 data set's chunks hold packed halves; the batch is f32 all the same.
        const packed = data.precision === 'f16';
        gather.push(await k.gather({ ...range, cols: data.cols, src: src.X, dst: dst.X, packed }));
        if (src.Y && dst.Y) gather.push(await k.gather({ ...range, cols: data.targetCols, src: src.Y, dst: dst.Y, packed }));
        lo += src.rows;
      }
      this.gathers.set(key, gather);
    }
    return { ds, gather };
  }

  async evaluate(opts: { batch?: BatchRange; cost?: boolean } = {}): Promise<number | null> {
    if (this.disposed) throw new SpecError('this objective has been disposed');
    const wantCost = opts.cost ?? true;
    await this.submitEvaluation(opts.batch, wantCost);
    if (!wantCost) return null;
    this.costReads++;
    const r = await this.model.readCost();
    this.lastReport = { parts: r.parts, rhoHatMean: r.rhoHatMean };
    return r.cost;
  }

  /**
   * Submits the evaluation and the copy of J's parts to a staging buffer, and
   * returns without waiting: `reading` settles when the mapping lands (the
   * queue goes on meanwhile). Sets `lastReport` when it lands.
   */
  async evaluateLater(opts: { batch?: BatchRange } = {}): Promise<{ reading: Promise<CostReadingValue> }> {
    await this.submitEvaluation(opts.batch, true);
    this.costReads++;
    // readF32 records and submits the copy now, before any later evaluation clears the scalars.
    const read = readF32(this.model.ctx.device, this.model.kernels.pool, [this.model.costSource]);
    const reading = read.then(([s]) => {
      const r = this.model.costFromScalars(s!);
      const report = { parts: r.parts, rhoHatMean: r.rhoHatMean };
      this.lastReport = report;
      return { cost: r.cost, report };
    });
    return { reading };
  }

  /**
   * Denoising and VAE: the corruption and ε seeds of the next training evaluation,
   * fresh for every presentation, or those of presentation 0 throughout with noise 'fixed'.
   */
  private nextSeeds(): { noiseSeed?: number; epsSeed?: number } {
    const { corruption, vae } = this.model.network;
    if (!corruption && !vae) return {};
    return presentationSeeds(this.model.network, this.opts.noise === 'fixed' ? 0 : this.presentations++);
  }

  private async submitEvaluation(batch: BatchRange | undefined, wantCost: boolean): Promise<void> {
    const opts = { batch };
    const pending = await this.ops.drain();
    const full = !opts.batch || (opts.batch.start === 0 && opts.batch.count === this.examples && !this.order && !this.host);
    if (full && this.host) return this.evaluateFull({ cost: wantCost, before: pending });
    const { ds, gather } = full ? { ds: this.resident(), gather: [] } : this.host ? { ds: this.streamBatch(opts.batch!), gather: [] } : await this.gatherBatch(opts.batch!);
    const rhoHatDecay = full ? 0 : this.opts.rhoHatDecay ?? 0;
    await this.model.evaluate(ds, { cost: wantCost, gradient: true, before: [...pending, ...gather], rhoHatDecay, ...this.nextSeeds(), ...this.trainingK() });
    this.deviceEvaluations++;
    if (this.host && !full) this.prefetch(opts.batch!);
  }

  /**
   * One submit: the pending vector operations, a full-batch evaluation, the
   * operations `after` records, and the dot products of `pairs`; then ONE
   * readback of J's parts (when `cost`) and the dots together.
   */
  async evaluateDots(pairs: readonly (readonly [GpuVector, GpuVector])[], opts: { cost?: boolean; after?: () => void } = {}): Promise<{ cost: number | null; dots: Float64Array }> {
    const wantCost = opts.cost ?? true;
    const { before: pending, then } = await this.ops.drainAround(opts.after);
    const sums = await this.ops.recordDots(pairs);
    this.ops.prepareDots(pairs.length);
    await this.evaluateFull({ cost: wantCost, before: pending, then: [...then, ...sums] });
    if (!wantCost && !pairs.length) return { cost: null, dots: new Float64Array(0) };
    this.costReads++;
    const sources = [...(wantCost ? [this.model.costSource] : []), ...(pairs.length ? [this.ops.dotsSource(pairs.length)] : [])];
    const got = await readF32(this.model.ctx.device, this.model.kernels.pool, sources);
    this.model.ctx.check();
    let cost: number | null = null;
    if (wantCost) {
      const r = this.model.costFromScalars(got[0]!);
      this.lastReport = { parts: r.parts, rhoHatMean: r.rhoHatMean };
      cost = r.cost;
    }
    return { cost, dots: Float64Array.from(pairs.length ? got[got.length - 1]! : []) };
  }

  private trialKernels: TrialKernels | null = null;

  private async trialDispatches(x: GpuVector, d: GpuVector, nDots: number, depth: number, perLink: number): Promise<TrialKernels> {
    const key = `${x.id}|${d.id}|${nDots}|${depth}|${perLink}`;
    const dots = this.ops.dotsSource(nDots).buffer;
    if (this.trialKernels?.key === key && this.trialKernels.dots === dots) return this.trialKernels;
    this.releaseTrialKernels();
    const k = this.model.kernels;
    const nScalars = this.model.costSource.count;
    const width = Math.ceil((2 + nScalars + nDots) / 8) * 8;
    const params = k.pool.acquire(4 * (LS_PARAM_SLOTS + nScalars), STORAGE, 'line search params');
    const state = k.pool.acquire(4 * (GATE_RUNS + 1), STORAGE, 'line search state');
    const out = k.pool.acquire(4 * width * (depth - 1), STORAGE, 'line search trials');
    const args = k.pool.acquire(12 * perLink * (depth - 1), INDIRECT_ARGS, 'line search trial arguments');
    const theta = { buffer: this.theta.buffer, offset: this.theta.offset };
    const steps: Dispatch[] = [];
    const moves: Dispatch[][] = [];
    const gates: Dispatch[] = [];
    for (let link = 0; link < depth - 1; link++) {
      steps.push(await k.lineSearchStep({ scalars: this.model.costSource.buffer, nScalars, dots, nDots, params, state, out, base: link * width }));
      gates.push(await k.trialGate({ state, at: GATE_AT, args, argsBase: 3 * perLink * link, nArgs: 3 * perLink, scalars: this.model.costSource.buffer, nScalars, dots, nDots }));
      moves.push([
        await k.vec({ op: 'copy', count: this.ops.n, x: { buffer: x.buffer, offset: x.offset }, y: theta, coef: out, slot: (link * width) / 8 }),
        await k.vec({ op: 'axpy', count: this.ops.n, x: { buffer: d.buffer, offset: d.offset }, y: theta, coef: out, slot: (link * width) / 8 }),
      ]);
    }
    this.trialKernels = { key, dots, steps, moves, gates, params, state, out, args, perLink, width };
    return this.trialKernels;
  }

  private releaseTrialKernels(): void {
    const t = this.trialKernels;
    if (!t) return;
    this.model.kernels.release([...t.steps, ...t.moves.flat(), ...t.gates]);
    for (const b of [t.params, t.state, t.out, t.args]) this.model.kernels.pool.release(b);
    this.trialKernels = null;
  }

  /**
   * `depth` submits, one readback: [pending operations (θ = x + t·d),
   * evaluation, dots, the search's transition (linesearch.wgsl, which also
   * saves the trial's parts and dots)], then for each further trial
   * [gate, θ = x + tₖ·d, evaluation, dots, transition] (no transition after
   * the last). See Objective.evaluateTrials.
   *
   * The gate (trialgate.wgsl, with `gateTrials`): a further trial is recorded
   * as indirect dispatches, and when the search is done at the step θ already
   * holds (the usual case: the first trial accepted), the gate zeroes their
   * workgroup counts. The trial then repeats the step it returned with the
   * values already in place, bitwise what re-evaluating there would give, at
   * the cost of one tiny dispatch. WebGPU has no conditional submit; this is
   * the nearest thing.
   */
  async evaluateTrials(pairs: readonly (readonly [GpuVector, GpuVector])[], x: GpuVector, d: GpuVector, rule: TrialRule, depth: number): Promise<Trial[]> {
    if (!pairs.length || pairs[0]![0] !== this.grad || pairs[0]![1] !== d) throw new Error('evaluateTrials: pairs[0] must be [grad, d]');
    if (!(Number.isInteger(depth) && depth >= 2)) throw new RangeError(`evaluateTrials: depth must be an integer ≥ 2, got ${depth}`);
    if (this.host) {
      // A streamed set: each evaluation is several submits with uploads between; the first trial only.
      const r = await this.evaluateDots(pairs);
      return [{ t: rule.t, real: true, cost: r.cost!, dots: r.dots }];
    }
    const data = this.resident();
    // The dots buffer must exist (and keep its size) before the step kernels name it.
    const sums = await this.ops.recordDots(pairs);
    const perLink = 2 + (await this.model.evaluationDispatches(data, { cost: true, gradient: true })) + sums.length;
    const tk = await this.trialDispatches(x, d, pairs.length, depth, perLink);
    const device = this.model.ctx.device;
    writeF32(device, tk.params, lineSearchParams(rule, this.model.costWeights));
    // θ sits at the first trial's step (as float32, as the search's t).
    writeF32(device, tk.state, [...encodeSearchState(rule, startSearch(rule, rule.t)), rule.t, 0]);
    const pending = await this.ops.drain();
    // Gated, with the same noise and ε seeds for every trial (none, or 'fixed'
    // noise as line searches use): all trials in ONE submit. The queue writes
    // (the dots' zeroing, the indirect templates, the seeds) all land before it.
    const seeds = Array.from({ length: depth }, () => this.nextSeeds());
    const sameSeeds = seeds.every((s) => s.noiseSeed === seeds[0]!.noiseSeed && s.epsSeed === seeds[0]!.epsSeed);
    const encoder = this.gateTrials && sameSeeds ? device.createCommandEncoder() : undefined;
    for (let link = 0; link < depth; link++) {
      const tail = link < depth - 1 ? [tk.steps[link]!] : [];
      if (link === 0) {
        this.ops.prepareDots(pairs.length);
        await this.model.evaluate(data, { cost: true, gradient: true, before: pending, then: sums, tail, encoder, ...seeds[link] });
      } else if (this.gateTrials) {
        // The gate zeroes the dots (and J's parts) when the trial runs; a queued zeroing would also hit a skipped one's.
        const gate = { check: tk.gates[link - 1]!, args: { buffer: tk.args, offset: 12 * perLink * (link - 1) } };
        await this.model.evaluate(data, { cost: true, gradient: true, before: tk.moves[link - 1]!, then: sums, tail, gate, encoder, ...seeds[link] });
      } else {
        this.ops.prepareDots(pairs.length);
        await this.model.evaluate(data, { cost: true, gradient: true, before: tk.moves[link - 1]!, then: sums, tail, ...seeds[link] });
      }
    }
    if (encoder) device.queue.submit([encoder.finish()]);
    this.costReads++;
    const nScalars = this.model.costSource.count;
    const [saved, scalars, dots, runs] = await readF32(device, this.model.kernels.pool, [
      { buffer: tk.out, count: tk.width * (depth - 1) }, this.model.costSource, this.ops.dotsSource(pairs.length), { buffer: tk.state, offset: GATE_RUNS, count: 1 },
    ]);
    this.model.ctx.check();
    this.deviceEvaluations += 1 + (this.gateTrials ? runs![0]! : depth - 1);
    const trials: Trial[] = [];
    let t = rule.t;
    let real = true;
    for (let link = 0; link < depth; link++) {
      const at = link * tk.width;
      const last = link === depth - 1;
      const parts = last ? scalars! : saved!.subarray(at + 2, at + 2 + nScalars);
      const r = this.model.costFromScalars(parts);
      if (last) this.lastReport = { parts: r.parts, rhoHatMean: r.rhoHatMean };
      const dotsHere = last ? dots! : saved!.subarray(at + 2 + nScalars, at + 2 + nScalars + pairs.length);
      trials.push({ t, real, cost: r.cost, dots: Float64Array.from(dotsHere) });
      if (!last) {
        real = saved![at + 1] !== 0;
        // A repeat is of the step the device's search returned, one of the trials (θ moved by its float32 value).
        const step = saved![at]!;
        t = real ? step : (trials.find((u) => u.real && Math.fround(u.t) === step)?.t ?? step);
      }
    }
    return trials;
  }

  /** True after dispose(): `optimize` and `evaluate` refuse it. */
  disposed = false;

  /**
   * J over all examples at the current θ (forward only), in one submit with the
   * optimizer's pending update; one readback. A streamed set: uploaded chunk by
   * chunk (fullStream: at most maxDataBytes on the GPU at a time), so the value
   * is bitwise the resident one where the resident set is chunked alike (its
   * binding size or maxChunkRows no larger than the cap's rows).
   */
  async fullCost(): Promise<FullCost> {
    await this.evaluateAll({ cost: true, gradient: false, before: await this.ops.drain() });
    this.costReads++;
    const r = await this.model.readCost();
    return { cost: r.cost, parts: r.parts, rhoHatMean: r.rhoHatMean };
  }

  /** θ lives in the model's buffer already: runs the pending update. */
  async commit(): Promise<void> {
    await this.ops.flush();
  }

  /** Frees the data, batches and optimizer vectors (not the model). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const g of this.gathers.values()) this.model.kernels.release(g);
    this.gathers.clear();
    for (const ds of this.batches.values()) this.model.release(ds);
    this.batches.clear();
    if (this.data && this.ownsData) this.model.release(this.data);
    else if (this.data) this.model.forget(this.data);
    if (this.order) this.model.kernels.pool.release(this.order);
    this.stream?.done();
    this.releaseTrialKernels();
    this.ops.dispose();
  }
}
