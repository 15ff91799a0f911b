// The training objective of a network on the CPU (float64 reference): J(θ)
// and ∇J(θ) from cpuCost, over all examples or a gathered mini-batch; and the
// CPU backend's data sets (host matrices).
//
// Kept apart from src/optim/cpu-vectors.ts so that the generic CPU objective
// does not depend on the network code.

import { cpuCost } from './network.js';
import { corruptMatrix, presentationSeeds } from '../noise.js';
import { SpecError, type Network } from '../spec.js';
import { describeAnneal, kSparseAt, networkWithK } from '../ksparse-anneal.js';
import { checkData, type Matrix } from '../matrix.js';
import { cpuObjective, type CpuObjective } from '../optim/cpu-vectors.js';
import { chunkedCpuCost } from '../optim/cpu-chunks.js';
import type { ObjectiveReport } from '../optim/types.js';
import type { Dataset, FullCost, ModelObjective, ObjectiveOptions } from '../model-contract.js';

/** The CPU backend's data set: the examples X and targets Y (none for an autoencoder) as float64 matrices. */
export class CpuDataset implements Dataset {
  readonly location = 'cpu' as const;
  readonly rows: number;
  readonly cols: number;
  constructor(readonly X: Matrix, readonly Y: Matrix | undefined) {
    this.rows = X.rows;
    this.cols = X.cols;
  }
}

/** Checks X (and Y) against `net` and wraps them as a data set. */
export function cpuDataset(net: Network, X: Matrix, Y?: Matrix | null): CpuDataset {
  checkData(net, X, Y);
  return new CpuDataset(X, net.autoencoder ? undefined : Y!);
}

export function asCpuDataset(ds: Dataset): CpuDataset {
  if (!(ds instanceof CpuDataset)) throw new SpecError(`a CPU model trains on CPU data sets (model.dataset(X, Y)); got ${ds.location === 'gpu' ? 'one resident on the GPU' : ds.location === 'host' ? 'a WebGPU model\'s streamed one' : `one on ${ds.location}`}`);
  return ds;
}

function meanOf(h: Float64Array | undefined): number | null {
  return h ? h.reduce((a, b) => a + b, 0) / h.length : null;
}

/**
 * The Model.objective of a CPU model: trains a copy of θ (`commit` hands it
 * back with `setParameters`); `fullCost` is cpuCost over all of ds without the gradient.
 */
export function cpuModelObjective(net: Network, theta0: ArrayLike<number>, ds: Dataset, opts: ObjectiveOptions, setParameters: (theta: Float64Array) => void): ModelObjective<Float64Array> {
  const { X, Y } = asCpuDataset(ds);
  const o = cpuNetworkObjective(net, theta0, X, Y, opts);
  return Object.assign(o, {
    async fullCost(): Promise<FullCost> {
      const r = cpuCost(net, o.theta, X, Y, { gradient: false });
      return { cost: r.cost, parts: r.parts, rhoHatMean: meanOf(r.rhoHat[0]) };
    },
    async commit(): Promise<void> {
      setParameters(o.theta);
    },
    dispose(): void {},
    interruptible: true,
  });
}

/** Rows order[start … start+count) of `M` as a new count × cols matrix. */
export function gatherRows(M: Matrix, order: Uint32Array, start: number, count: number): Matrix {
  const { cols } = M;
  const data = new Float64Array(count * cols);
  for (let r = 0; r < count; r++) {
    const src = order[start + r] * cols;
    for (let c = 0; c < cols; c++) data[r * cols + c] = M.data[src + c];
  }
  return { rows: count, cols, data };
}

/**
 * The objective of `net` on examples X (m × n1) with targets Y (m × nL; omit
 * for an autoencoder). A full evaluation uses all of X in stored order (ρ̂ over
 * all m examples); a batch gathers the rows order[start … start+count) into a
 * sub-matrix and evaluates cpuCost on it, so the cost, the gradient and the
 * sparsity estimate ρ̂ are those of the batch alone.
 */
export function cpuNetworkObjective(
  net: Network,
  theta0: ArrayLike<number>,
  X: Matrix,
  Y?: Matrix | null,
  opts: {
    rhoHatDecay?: number;
    presentationsBefore?: number;
    noise?: 'fresh' | 'fixed';
    /** Checked between chunks of an evaluation (cpu-chunks.ts): true stops it with EvaluationInterrupted. */
    stop?: () => boolean;
  } = {},
): CpuObjective {
  if (!net.autoencoder && !Y) throw new SpecError('targets Y are required for a network that is not an autoencoder');
  const target = net.autoencoder ? undefined : (Y ?? undefined);
  let last: ObjectiveReport | null = null;
  // Mini-batches with rhoHatDecay > 0: ρ̂ ← decay·ρ̂ + (1 − decay)·ρ̂_batch, started by the first batch.
  const decay = opts.rhoHatDecay ?? 0;
  let running: Float64Array[] | null = null;
  const runningEstimate = (batch: Float64Array[]): Float64Array[] => {
    running = running ? running.map((r, k) => r.map((v, j) => decay * v + (1 - decay) * batch[k]![j]!)) : batch.map((b) => b.slice());
    return running;
  };
  // Denoising: every evaluation corrupts its examples afresh (the same stream as the
  // GPU's), or, with noise 'fixed' (L-BFGS, CG), once for the whole run.
  let presentations = opts.presentationsBefore ?? 0;
  // k-sparse annealing: training evaluations use the network with k at the progress
  // setProgress last gave (from at the start); everything else uses `net` (the final k).
  const ks = net.kSparse?.anneal ? net.kSparse : null;
  let trained = ks ? networkWithK(net, kSparseAt(ks, 0)) : net;
  const objective = cpuObjective(
    async (theta, batch, order) => {
      const Xb = batch ? gatherRows(X, order, batch.start, batch.count) : X;
      const Yb = batch ? target && gatherRows(target, order, batch.start, batch.count) : target;
      const c = net.corruption;
      // Denoising and VAE: one presentation number per evaluation seeds x̃ and ε apart.
      const seeds = c || net.vae ? presentationSeeds(net, opts.noise === 'fixed' ? 0 : presentations++) : {};
      const input = c ? { rows: Xb.rows, cols: Xb.cols, data: corruptMatrix(Xb, c, seeds.noiseSeed!) } : undefined;
      const noiseSeed = seeds.epsSeed;
      // Chunked (yielding to the event loop between chunks) unless a running ρ̂ ties the batch
      // together or ε (a VAE) is drawn for the whole batch at once.
      const whole = (batch && decay > 0) || net.vae;
      const r = whole
        ? cpuCost(trained, theta, Xb, Yb, { gradient: true, input, noiseSeed, rhoHatEstimate: batch && decay > 0 ? runningEstimate : undefined })
        : await chunkedCpuCost(trained, theta, Xb, Yb, { input, stop: opts.stop });
      const h = r.rhoHat[0];
      last = { parts: r.parts, rhoHatMean: h ? h.reduce((a, b) => a + b, 0) / h.length : null };
      return { cost: r.cost, grad: r.grad! };
    },
    theta0,
    X.rows,
  );
  return Object.assign(Object.defineProperty(objective, 'lastReport', { get: () => last }), {
    schedule: describeAnneal(net),
    setProgress(epochs: number): void {
      if (ks) trained = networkWithK(net, kSparseAt(ks, epochs));
    },
  });
}
