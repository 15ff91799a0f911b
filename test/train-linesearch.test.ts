import { describe, expect, it } from 'vitest';
import { cpuObjective } from '../src/optim/cpu-vectors.js';
import { cubicMinimizer, wolfeLineSearch } from '../src/optim/linesearch.js';

type Phi = (a: number) => [number, number];

const gammaY = (b: number) => Math.sqrt(1 + b * b) - b;
const yanai = (b1: number, b2: number): Phi => (a) => {
  const r1 = Math.sqrt((1 - a) ** 2 + b2 * b2);
  const r2 = Math.sqrt(a * a + b1 * b1);
  return [gammaY(b1) * r1 + gammaY(b2) * r2, (gammaY(b1) * (a - 1)) / r1 + (gammaY(b2) * a) / r2];
};

/** The test functions of Moré & Thuente (1994), plus a quadratic and one undefined past a point. */
const FUNCTIONS: Record<string, Phi> = {
  'MT1: −α/(α²+2)': (a) => [-a / (a * a + 2), (a * a - 2) / (a * a + 2) ** 2],
  'MT2: (α+β)⁵ − 2(α+β)⁴': (a) => {
    const b = a + 0.004;
    return [b ** 5 - 2 * b ** 4, 5 * b ** 4 - 8 * b ** 3];
  },
  'MT3: wiggly': (a) => {
    const beta = 0.01;
    const l = 39;
    let f0: number;
    let g0: number;
    if (a <= 1 - beta) [f0, g0] = [1 - a, -1];
    else if (a >= 1 + beta) [f0, g0] = [a - 1, 1];
    else [f0, g0] = [(a - 1) ** 2 / (2 * beta) + beta / 2, (a - 1) / beta];
    const w = (l * Math.PI) / 2;
    return [f0 + ((2 * (1 - beta)) / (l * Math.PI)) * Math.sin(w * a), g0 + (1 - beta) * Math.cos(w * a)];
  },
  'Yanai (0.001, 0.001)': yanai(0.001, 0.001),
  'Yanai (0.01, 0.001)': yanai(0.01, 0.001),
  'Yanai (0.001, 0.01)': yanai(0.001, 0.01),
  'quadratic (α−3)²': (a) => [(a - 3) ** 2, 2 * (a - 3)],
  'NaN beyond α = 5': (a) => (a > 5 ? [NaN, NaN] : [(a - 3) ** 2, 2 * (a - 3)]),
};

async function search(phi: Phi, t0: number, c2: number) {
  let calls = 0;
  const obj = cpuObjective(
    (theta) => {
      calls++;
      const [f, g] = phi(theta[0]!);
      return { cost: f, grad: [g] };
    },
    [0],
    1,
  );
  const x = obj.ops.alloc();
  const d = Float64Array.from([1]);
  const [f0, g0] = phi(0);
  const r = await wolfeLineSearch(obj, x, f0, g0, d, t0, 1, { c1: 1e-4, c2 });
  return { r, obj, f0, g0, calls };
}

describe('Wolfe line search', () => {
  for (const [name, phi] of Object.entries(FUNCTIONS)) {
    for (const c2 of [0.9, 0.1]) {
      it(`${name}, c2 = ${c2}: strong Wolfe holds from every initial step`, async () => {
        for (const t0 of [1e-3, 0.1, 1, 10, 1000]) {
          const { r, obj, f0, g0, calls } = await search(phi, t0, c2);
          const [ft, gt] = phi(r.t);
          expect(r.t, `t0 = ${t0}`).toBeGreaterThan(0);
          expect(ft, `sufficient decrease, t0 = ${t0}, t = ${r.t}`).toBeLessThanOrEqual(f0 + 1e-4 * r.t * g0);
          expect(Math.abs(gt), `curvature, t0 = ${t0}, t = ${r.t}`).toBeLessThanOrEqual(c2 * Math.abs(g0));
          expect(r.wolfe).toBe(true);
          expect(r.f).toBe(ft);
          expect(r.gtd).toBe(gt);
          // θ and ∇J belong to the returned step.
          expect(obj.theta[0]).toBe(r.t);
          expect(obj.grad[0]).toBe(gt);
          expect(r.evaluations).toBe(calls);
          expect(r.evaluations).toBeLessThanOrEqual(26);
        }
      });
    }
  }

  it('accepts the first step when it already satisfies the conditions (one evaluation, one dot)', async () => {
    const { r } = await search(FUNCTIONS['quadratic (α−3)²']!, 3, 0.9);
    expect(r.t).toBe(3);
    expect(r.evaluations).toBe(1);
    expect(r.dots).toBe(1);
  });

  it('returns t = 0 with θ and ∇J restored when no step decreases J', async () => {
    // φ increases everywhere but claims a negative slope at 0 (an inconsistent gradient).
    const phi: Phi = (a) => [a === 0 ? 0 : 1 + a, a === 0 ? -1 : 1];
    const obj = cpuObjective((theta) => {
      const [f, g] = phi(theta[0]!);
      return { cost: f, grad: [g] };
    }, [0], 1);
    const r = await wolfeLineSearch(obj, obj.ops.alloc(), 0, -1, Float64Array.from([1]), 1, 1, { maxEvaluations: 10 });
    expect(r.t).toBe(0);
    expect(r.wolfe).toBe(false);
    expect(r.f).toBe(0);
    expect(obj.theta[0]).toBe(0);
    expect(obj.grad[0]).toBe(-1);
    // Up to 10 trials, then one gradient-only evaluation back at t = 0.
    expect(r.evaluations).toBeGreaterThanOrEqual(2);
    expect(r.evaluations).toBeLessThanOrEqual(11);
  });

  it('cubicMinimizer finds the minimizer of a cubic and clamps to bounds', () => {
    // φ(t) = t³ − 3t (minimum at t = 1), from points 0 and 2.
    const p = (t: number) => [t ** 3 - 3 * t, 3 * t * t - 3] as const;
    expect(cubicMinimizer(0, ...p(0), 2, ...p(2))).toBeCloseTo(1, 14);
    expect(cubicMinimizer(2, ...p(2), 0, ...p(0))).toBeCloseTo(1, 14);
    expect(cubicMinimizer(0, ...p(0), 2, ...p(2), 1.5, 4)).toBe(1.5);
    // A quadratic (α−3)² through 0 and 1 extrapolates to 3.
    expect(cubicMinimizer(0, 9, -6, 1, 4, -4, 1.01, 10)).toBeCloseTo(3, 12);
  });
});
