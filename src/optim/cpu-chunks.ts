// A full-data CPU evaluation split into chunks of examples, yielding to the
// event loop between chunks so that a Ctrl-C (or any timer) is seen within one
// chunk's time, and stopping there when asked.
//
// Every term of J is an average over examples or a constant, so with chunk
// weights w_c = m_c / m (Σ w_c = 1):
//   J = Σ_c w_c·J_c and ∇J = Σ_c w_c·∇J_c,
// where J_c is cpuCost on chunk c — provided the KL sparsity term of each
// chunk uses ρ̂ of ALL m examples (notes §"Sparsity": ρ̂ⱼ = (1/m) Σᵢ aⱼ⁽ⁱ⁾),
// which a first forward pass over the chunks computes. Weight decay and KL
// appear once per chunk and sum back to exactly once. A data set of one chunk
// is evaluated by cpuCost alone, as before.

import { cpuCost, cpuForward } from '../cpu/network.js';
import type { CostParts, CostReport } from '../model-contract.js';
import { paramLayout } from '../params.js';
import type { Network } from '../spec.js';
import type { Matrix } from '../matrix.js';

/** Thrown by a chunked evaluation stopped between chunks (Ctrl-C). */
export class EvaluationInterrupted extends Error {
  override name = 'EvaluationInterrupted';
}

/** Work per chunk, in multiply-adds of one forward pass (rows × parameters): some tens of milliseconds. */
const CHUNK_WORK = 2 ** 23;

/** Examples per chunk for `net`. */
export function chunkRows(net: Network): number {
  return Math.max(16, Math.floor(CHUNK_WORK / Math.max(1, paramLayout(net).size)));
}

/**
 * Lets pending I/O, timers and signal handlers run: setImmediate in Node, a
 * zero-delay timeout where there is none (browsers; this module is browser-safe).
 */
export function yieldToEventLoop(): Promise<void> {
  const later: (f: () => void) => unknown = typeof setImmediate === 'function' ? setImmediate : (f) => setTimeout(f, 0);
  return new Promise((resolve) => later(resolve));
}

function rowsOf(M: Matrix, r0: number, r1: number): Matrix {
  return { rows: r1 - r0, cols: M.cols, data: M.data.subarray(r0 * M.cols, r1 * M.cols) };
}

/**
 * cpuCost over all of X in chunks. `input`: the (corrupted) input to use
 * instead of X, same shape. `stop`: checked after every chunk; when it returns
 * true the evaluation throws EvaluationInterrupted.
 */
export async function chunkedCpuCost(net: Network, theta: Float64Array, X: Matrix, Y: Matrix | undefined, opts: { input?: Matrix; stop?: () => boolean; rows?: number } = {}): Promise<CostReport> {
  const m = X.rows;
  const rows = opts.rows ?? chunkRows(net);
  if (m <= rows) {
    const r = cpuCost(net, theta, X, Y, { gradient: true, input: opts.input });
    await yieldToEventLoop();
    return r;
  }
  const input = opts.input ?? X;
  const check = async (): Promise<void> => {
    await yieldToEventLoop();
    if (opts.stop?.()) throw new EvaluationInterrupted('evaluation interrupted');
  };
  // Pass 1 (KL sparsity only): ρ̂ over all m examples.
  let fullRhoHat: Float64Array[] | null = null;
  if (net.sparsity) {
    fullRhoHat = net.layers.slice(1, -1).map((n) => new Float64Array(n));
    for (let r0 = 0; r0 < m; r0 += rows) {
      const r1 = Math.min(m, r0 + rows);
      const { A } = cpuForward(net, theta, rowsOf(input, r0, r1));
      fullRhoHat.forEach((rh, k) => {
        const a = A[k]!;
        const n = rh.length;
        for (let i = 0; i < r1 - r0; i++) for (let j = 0; j < n; j++) rh[j] += a[i * n + j]!;
      });
      await check();
    }
    for (const rh of fullRhoHat) for (let j = 0; j < rh.length; j++) rh[j] /= m;
  }
  // Pass 2: each chunk's J and ∇J, weighted by m_c / m.
  const grad = new Float64Array(theta.length);
  const parts: CostParts = { data: 0, weightDecay: 0, sparsity: 0, l1: 0, contractive: 0 };
  let cost = 0;
  const rhoSum = net.layers.slice(1, -1).map((n) => new Float64Array(n));
  for (let r0 = 0; r0 < m; r0 += rows) {
    const r1 = Math.min(m, r0 + rows);
    const w = (r1 - r0) / m;
    const r = cpuCost(net, theta, rowsOf(X, r0, r1), Y && rowsOf(Y, r0, r1), {
      gradient: true,
      input: opts.input ? rowsOf(opts.input, r0, r1) : undefined,
      rhoHatEstimate: fullRhoHat ? () => fullRhoHat! : undefined,
    });
    cost += w * r.cost;
    for (const k of Object.keys(parts) as (keyof CostParts)[]) parts[k] = (parts[k] ?? 0) + w * (r.parts[k] ?? 0);
    const g = r.grad!;
    for (let i = 0; i < g.length; i++) grad[i] += w * g[i]!;
    r.rhoHat.forEach((rh, k) => rh.forEach((v, j) => (rhoSum[k]![j] += w * v)));
    await check();
  }
  return { cost, parts, grad, rhoHat: fullRhoHat ?? rhoSum };
}
