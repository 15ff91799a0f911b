// Data sets resident on the GPU: examples (and targets) split into chunks that
// each fit one storage binding, uploaded once and reused across evaluations;
// empty mini-batch sets the caller fills; and a layer's activations over a data
// set as a new data set (encodeDataset: the next stage's input, no readback).
// An f16 data set (DatasetOptions.dataPrecision) stores its examples as halves,
// two per u32 (src/f16.ts): its data chunks hold several *evaluation chunks* of
// the f32 path's size, each unpacked into an f32 scratch buffer before the GEMMs
// read it (plan.ts), and mini-batches gather from the packed words directly.

import { SpecError, type Network } from '../spec.js';
import { assertFinite, checkData, type Matrix } from '../matrix.js';
import { STORAGE, writeF32, type BufferPool } from './buffers.js';
import { recordDispatches, type Dispatch } from './kernels.js';
import { packF16, type DataPrecision } from '../f16.js';

/** One chunk: `rows` examples of X (rows × n1) and, unless an autoencoder, Y (rows × nL). */
export interface GpuChunk {
  rows: number;
  X: GPUBuffer;
  Y: GPUBuffer | null;
}

/**
 * One evaluation chunk: `rows` examples starting at row `first` of data chunk
 * `chunk`. An f32 data set's evaluation chunks are its data chunks; an f16 data
 * set's data chunk holds several (its buffers are half the bytes per example,
 * the activations of an evaluation are not).
 */
export interface EvaluationChunk {
  chunk: GpuChunk;
  first: number;
  rows: number;
}

/** Examples resident on the GPU, split into chunks that each fit one storage binding. */
export class GpuDataset {
  readonly location = 'gpu' as const;
  readonly chunks: GpuChunk[] = [];
  /**
   * `owner`: the pool the chunk buffers came from. A model frees a data set's
   * buffers only if they are its own; another model's data set (features passed
   * between the stages of a stacked autoencoder) only loses its plan.
   */
  /**
   * `precision`: how the chunk buffers hold the values ('f16': halves, two per
   * u32). `evalRows`: examples per evaluation chunk (f16 only; an f32 data set
   * evaluates its data chunks as they are).
   */
  constructor(readonly rows: number, readonly cols: number, readonly targetCols: number, readonly owner: object | null = null, readonly precision: DataPrecision = 'f32', readonly evalRows = Infinity) {}
}

/** The evaluation chunks of `ds`, in order (global row offsets are their running sums). */
export function evaluationChunks(ds: GpuDataset): EvaluationChunk[] {
  const out: EvaluationChunk[] = [];
  for (const chunk of ds.chunks) {
    const per = ds.precision === 'f16' ? ds.evalRows : chunk.rows;
    for (let first = 0; first < chunk.rows; first += per) out.push({ chunk, first, rows: Math.min(per, chunk.rows - first) });
  }
  return out;
}

/**
 * Examples over `maxDataBytes` kept in host memory (Model.dataset with
 * DatasetOptions.maxDataBytes): a WebGPU objective over it streams mini-batches
 * (GpuObjective), and its full-data cost streams chunk by chunk. `T` is X itself
 * for an autoencoder; `bytes` what X and T take as float32.
 */
export class HostDataset {
  readonly location = 'host' as const;
  readonly rows: number;
  readonly cols: number;
  readonly streamed: { bytes: number; cap: number };
  constructor(readonly X: Matrix, readonly T: Matrix, bytes: number, readonly cap: number) {
    this.rows = X.rows;
    this.cols = X.cols;
    this.streamed = { bytes, cap };
  }
}

/**
 * Host examples seen through a data set of the resident path's chunk sizes whose
 * chunks all share one buffer (one more for targets): `fill(ci)` uploads chunk
 * ci, to be called before the work that reads it is submitted (queue order), so
 * one chunk at a time is on the GPU. `done()` frees the buffers and the plan.
 */
export interface StreamedChunks {
  ds: GpuDataset;
  fill(ci: number): void;
  done(): void;
}

/** Examples per chunk: as many as fit one storage binding at the widest layer, capped by maxChunkRows. */
export function chunkRows(net: Network, rows: number, maxBindingBytes: number, maxChunkRows = Infinity): number {
  const widest = Math.max(...net.layers);
  const maxRows = Math.max(1, Math.floor(maxBindingBytes / 4 / widest));
  return Math.min(maxRows, maxChunkRows, rows);
}

/**
 * Examples per data chunk of an f16 data set: a whole number (≥ 1) of evaluation
 * chunks of `evalRows`, as many as fit one binding at 2 bytes a value (X and Y
 * each; a chunk's bytes are rounded up to whole u32 words).
 */
export function f16ChunkRows(rows: number, widestData: number, evalRows: number, maxBindingBytes: number): number {
  const fit = Math.floor((Math.floor(maxBindingBytes / 4) * 4) / 2 / widestData);
  return Math.min(rows, evalRows * Math.max(1, Math.floor(fit / evalRows)));
}

/**
 * Uploads X (and Y) chunk by chunk into buffers of `pool`. `precision` 'f16':
 * each value rounded to the nearest half (ties to even; a value over 65504 that
 * rounds to infinity is refused, naming it) and packed two per u32 (src/f16.ts).
 */
export function uploadDataset(device: GPUDevice, pool: BufferPool, net: Network, X: Matrix, Y: Matrix | null | undefined, maxBindingBytes: number, maxChunkRows?: number, precision: DataPrecision = 'f32'): GpuDataset {
  const T = checkData(net, X, Y);
  const evalRows = chunkRows(net, X.rows, maxBindingBytes, maxChunkRows);
  const f16 = precision === 'f16';
  const per = f16 ? f16ChunkRows(X.rows, Math.max(X.cols, T.cols), evalRows, maxBindingBytes) : evalRows;
  const ds = f16 ? new GpuDataset(X.rows, X.cols, T.cols, pool, 'f16', evalRows) : new GpuDataset(X.rows, X.cols, T.cols, pool);
  const put = (M: Matrix, r0: number, rows: number, label: string): GPUBuffer => {
    if (!f16) {
      const b = pool.acquire(rows * M.cols * 4, STORAGE, label);
      writeF32(device, b, M.data.subarray(r0 * M.cols, (r0 + rows) * M.cols));
      return b;
    }
    const words = packF16(M.data, r0 * M.cols, rows * M.cols, M === X ? 'X' : 'Y', M.cols);
    const b = pool.acquire(words.byteLength, STORAGE, `${label} (f16)`);
    device.queue.writeBuffer(b, 0, words);
    return b;
  };
  try {
    for (let r0 = 0; r0 < X.rows; r0 += per) {
      const rows = Math.min(per, X.rows - r0);
      const xb = put(X, r0, rows, 'X');
      ds.chunks.push({ rows, X: xb, Y: null });
      if (T !== X) ds.chunks[ds.chunks.length - 1]!.Y = put(T, r0, rows, 'Y');
    }
  } catch (e) {
    releaseDataset(pool, ds); // a refused value (f16 overflow) leaves no buffers behind
    throw e;
  }
  return ds;
}

/** StreamedChunks over X (and targets T; null for an autoencoder) with `per` examples a chunk; `done` frees the buffers, `forget` the plan. */
export function streamedChunks(device: GPUDevice, pool: BufferPool, X: Matrix, T: Matrix | null, per: number, forget: (ds: GpuDataset) => void): StreamedChunks {
  const xb = pool.acquire(per * X.cols * 4, STORAGE, 'streamed X');
  const yb = T ? pool.acquire(per * T.cols * 4, STORAGE, 'streamed Y') : null;
  // Owner null: releaseDataset leaves the shared buffers alone; done() frees them once.
  const ds = new GpuDataset(X.rows, X.cols, T ? T.cols : X.cols, null);
  for (let r0 = 0; r0 < X.rows; r0 += per) ds.chunks.push({ rows: Math.min(per, X.rows - r0), X: xb, Y: yb });
  return {
    ds,
    fill(ci: number): void {
      const r0 = ci * per;
      const rows = ds.chunks[ci]!.rows;
      // Float64 → float32 as uploadDataset rounds: the chunk is bitwise the resident one.
      writeF32(device, xb, X.data.subarray(r0 * X.cols, (r0 + rows) * X.cols));
      if (T && yb) writeF32(device, yb, T.data.subarray(r0 * T.cols, (r0 + rows) * T.cols));
    },
    done(): void {
      forget(ds);
      pool.release(xb);
      if (yb) pool.release(yb);
    },
  };
}

/** A one-chunk data set of `rows` examples whose buffers the caller fills (mini-batches). */
export function emptyDataset(pool: BufferPool, net: Network, rows: number): GpuDataset {
  const n1 = net.layers[0]!;
  const nL = net.layers[net.layers.length - 1]!;
  const ds = new GpuDataset(rows, n1, nL, pool);
  const X = pool.acquire(rows * n1 * 4, STORAGE, 'batch X');
  const Y = net.autoencoder ? null : pool.acquire(rows * nL * 4, STORAGE, 'batch Y');
  ds.chunks.push({ rows, X, Y });
  return ds;
}

/** Frees the chunk buffers of a data set made from `pool` (another pool's data set is left alone). */
export function releaseDataset(pool: BufferPool, ds: GpuDataset): void {
  if (ds.owner !== pool) return;
  for (const c of ds.chunks) {
    pool.release(c.X);
    if (c.Y) pool.release(c.Y);
  }
  ds.chunks.length = 0;
}

/** Checks encodeDataset's arguments: the layer exists is the caller's check; the width and targets are here. */
export function checkEncodeTargets(net: Network, ds: GpuDataset, targets: Matrix | undefined): void {
  if (ds.cols !== net.layers[0]) throw new SpecError(`the data set has ${ds.cols} features per example but the input layer has ${net.layers[0]} units`);
  if (targets) {
    if (targets.rows !== ds.rows) throw new SpecError(`targets have ${targets.rows} examples but the data set has ${ds.rows}`);
    assertFinite('targets', targets);
  }
}

/**
 * Layer `layer`'s activations over `ds` as a new data set in buffers of `pool`,
 * recorded into one encoder and one submit (no readback): per chunk, the plan's
 * forward dispatches `forward[ci]`, then a copy out of `activations` (the plan's
 * buffer of that layer, reused by every chunk). `targets` (e.g. one-hot labels) become its Y.
 */
export function encodeDataset(device: GPUDevice, pool: BufferPool, net: Network, ds: GpuDataset, layer: number, forward: readonly (readonly Dispatch[])[], activations: GPUBuffer, targets?: Matrix): GpuDataset {
  const n = net.layers[layer - 1]!;
  const T = targets;
  // Float32 features, one data chunk per evaluation chunk of ds (an f16 data set's features are f32).
  const out = new GpuDataset(ds.rows, n, T ? T.cols : n, pool);
  const enc = device.createCommandEncoder();
  let r0 = 0;
  const views = evaluationChunks(ds);
  for (let ci = 0; ci < views.length; ci++) {
    const rows = views[ci]!.rows;
    const X = pool.acquire(rows * n * 4, STORAGE, `features L${layer}`);
    let Y: GPUBuffer | null = null;
    if (T) {
      Y = pool.acquire(rows * T.cols * 4, STORAGE, 'features Y');
      writeF32(device, Y, T.data.subarray(r0 * T.cols, (r0 + rows) * T.cols));
    }
    const pass = enc.beginComputePass();
    recordDispatches(pass, forward[ci]!);
    pass.end();
    // The plan's activation buffers are reused by every chunk: copy this chunk's out before the next.
    enc.copyBufferToBuffer(activations, 0, X, 0, rows * n * 4);
    out.chunks.push({ rows, X, Y });
    r0 += rows;
  }
  device.queue.submit([enc.finish()]);
  return out;
}
