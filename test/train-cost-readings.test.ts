// Issue 12 §2: first-order methods never wait on a cost reading (costsInFlight).
import { describe, expect, it } from 'vitest';
import { adam, sgd } from '../src/optim/sgd.js';
import type { CostReading, CostReadingValue, IterationInfo, Objective } from '../src/optim/types.js';
import { leastSquares, linearData } from './train-problems.js';

/** The objective with readings that land only when the test releases them. */
function heldReadings(inner: Objective<Float64Array>): { objective: Objective<Float64Array>; release(): void; pending(): number; maxPending: number } {
  const held: (() => void)[] = [];
  const state = { maxPending: 0 };
  const objective: Objective<Float64Array> = {
    ...inner,
    evaluate: (o) => inner.evaluate(o),
    shuffle: (seed) => inner.shuffle(seed),
    evaluateLater: async (o) => {
      const cost = (await inner.evaluate({ batch: o?.batch, cost: true })) as number;
      const reading = new Promise<CostReadingValue>((resolve) => held.push(() => resolve({ cost, report: null })));
      state.maxPending = Math.max(state.maxPending, held.length);
      return { reading };
    },
  };
  return {
    objective,
    release: () => held.splice(0).forEach((f) => f()),
    pending: () => held.length,
    get maxPending() {
      return state.maxPending;
    },
  };
}

describe('cost readings in flight', () => {
  const data = linearData(200, 5, 3);

  it('Adam: the same θ and the same costs as waiting for each reading, delivered in order to onCost', async () => {
    const base = { learningRate: 0.05, batchSize: 16, epochs: 3, costEvery: 5, seed: 4 };
    const a = leastSquares(data);
    const waited: { iteration: number; cost: number }[] = [];
    await adam(a, { ...base, onIteration: (i: IterationInfo) => void (i.cost !== null && waited.push({ iteration: i.iteration, cost: i.cost })) });

    const b = leastSquares(data);
    const landed: CostReading[] = [];
    const infos: IterationInfo[] = [];
    await adam(b, { ...base, costsInFlight: 3, onCost: (r) => void landed.push(r), onIteration: (i) => void infos.push(i) });
    expect(Array.from(b.theta)).toEqual(Array.from(a.theta));
    expect(landed.map((r) => ({ iteration: r.iteration, cost: r.cost }))).toEqual(waited);
    expect(waited.length).toBeGreaterThan(5);
    expect(infos.every((i) => i.cost === null)).toBe(true);
    expect(landed.every((r) => r.epoch === Math.floor((r.iteration - 1) / 13))).toBe(true); // 13 batches per epoch
  });

  it('keeps at most costsInFlight readings in flight and steps on while they travel; all land before it returns', async () => {
    const h = heldReadings(leastSquares(data));
    const landed: number[] = [];
    const stepsWhilePending: number[] = [];
    const run = sgd(h.objective, {
      learningRate: 0.01, batchSize: 10, epochs: 2, costEvery: 2, costsInFlight: 4,
      onCost: (r) => void landed.push(r.iteration),
      onIteration: (i) => {
        stepsWhilePending.push(h.pending());
        // Land the readings only every 10 iterations: the run must not wait meanwhile.
        if (i.iteration % 10 === 0) h.release();
      },
    });
    // Readings held at the end are waited for: release them as the run asks.
    const timer = setInterval(() => h.release(), 1);
    const r = await run;
    clearInterval(timer);
    expect(r.iterations).toBe(40);
    expect(h.maxPending).toBeLessThanOrEqual(5); // 4 in flight, plus the one just taken before the oldest is awaited
    expect(Math.max(...stepsWhilePending)).toBeGreaterThanOrEqual(4);
    expect(landed).toEqual(Array.from({ length: 20 }, (_, k) => 2 * (k + 1)));
  });

  it('rejects a bad costsInFlight', async () => {
    await expect(adam(leastSquares(data), { costsInFlight: -1 })).rejects.toThrow(/costsInFlight must be an integer ≥ 0, got -1/);
    await expect(adam(leastSquares(data), { costsInFlight: 1.5 })).rejects.toThrow(/costsInFlight/);
  });
});
