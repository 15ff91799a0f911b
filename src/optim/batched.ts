// Evaluation and inner products in one round trip: the primitive of the
// one-readback-per-iteration L-BFGS and CG (issue 12). An objective that
// implements `evaluateDots` (the GPU one) records the evaluation, the vector
// operations that follow it and the dot products in one submit and reads J
// and the dots back together; any other objective gets the same values from
// `evaluate`, the operations and `ops.dots`.

import type { BatchRange, CostReadingValue, DotPair, Objective } from './types.js';

export async function evaluateWithDots<V>(
  objective: Objective<V>,
  pairs: readonly DotPair<V>[],
  opts: { cost?: boolean; after?: () => void } = {},
): Promise<{ cost: number | null; dots: Float64Array }> {
  if (objective.evaluateDots) return objective.evaluateDots(pairs, opts);
  const cost = await objective.evaluate({ cost: opts.cost ?? true });
  opts.after?.();
  const dots = pairs.length ? await objective.ops.dots(pairs) : new Float64Array(0);
  return { cost, dots };
}

/**
 * Starts a cost reading (see Objective.evaluateLater): resolves once the
 * evaluation is recorded, with a promise of J that settles when it lands. An
 * objective without `evaluateLater` evaluates at once (the reading is ready).
 */
export async function evaluateLater<V>(objective: Objective<V>, opts: { batch?: BatchRange } = {}): Promise<{ reading: Promise<CostReadingValue> }> {
  if (objective.evaluateLater) return objective.evaluateLater(opts);
  const cost = (await objective.evaluate({ batch: opts.batch, cost: true })) as number;
  return { reading: Promise.resolve({ cost, report: objective.lastReport ?? null }) };
}
