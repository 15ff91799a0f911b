// Every activation's derivative against central differences, and known values.
import { describe, expect, it } from 'vitest';
import { activate, activationDerivative, sigmoid, softplus } from '../src/cpu/activations.js';
import { Rng } from '../src/prng.js';
import type { Activation, ActivationName } from '../src/spec.js';

const act = (name: ActivationName, alpha = 0): Activation => ({ name, alpha });

const ELEMENTWISE: Activation[] = [
  act('sigmoid'),
  act('tanh'),
  act('identity'),
  act('relu'),
  act('prelu', 0.25),
  act('prelu', 0.1),
  act('elu', 1),
  act('elu', 0.7),
  act('softplus'),
  act('softsign'),
  act('hardtanh'),
  act('step'),
];

/** Kinks (where f′ jumps) of the piecewise activations. */
const KINKS = [-1, 0, 1];

describe('activation derivatives', () => {
  it('f′ matches central differences at 400 points in [−6, 6] for every activation', () => {
    const rng = new Rng(11);
    const h = 1e-6;
    for (const a of ELEMENTWISE) {
      let worst = 0;
      let tested = 0;
      while (tested < 400) {
        const z = rng.range(-6, 6);
        if (KINKS.some((k) => Math.abs(z - k) < 1e-3)) continue; // away from kinks
        const numeric = (activate(a, z + h) - activate(a, z - h)) / (2 * h);
        const analytic = activationDerivative(a, z, activate(a, z));
        worst = Math.max(worst, Math.abs(numeric - analytic) / Math.max(1, Math.abs(analytic)));
        tested++;
      }
      expect(worst, `${a.name}(α=${a.alpha})`).toBeLessThan(1e-8);
    }
  });

  it('f′ at and around the kinks follows the documented convention', () => {
    expect(activationDerivative(act('relu'), 0, 0)).toBe(0);
    expect(activationDerivative(act('relu'), 1e-9, 1e-9)).toBe(1);
    expect(activationDerivative(act('prelu', 0.25), 0, 0)).toBe(0.25);
    expect(activationDerivative(act('prelu', 0.25), 2, 2)).toBe(1);
    expect(activationDerivative(act('elu', 0.7), 0, 0)).toBe(1);
    expect(activationDerivative(act('hardtanh'), 1, 1)).toBe(1);
    expect(activationDerivative(act('hardtanh'), -1, -1)).toBe(1);
    expect(activationDerivative(act('hardtanh'), 1.0001, 1)).toBe(0);
    expect(activationDerivative(act('step'), 0, 1)).toBe(0);
  });
});

describe('activation values', () => {
  it('known points', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(activate(act('sigmoid'), 2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(activate(act('tanh'), 0.5)).toBeCloseTo(Math.tanh(0.5), 15);
    expect(activate(act('identity'), -3.5)).toBe(-3.5);
    expect(activate(act('relu'), -2)).toBe(0);
    expect(activate(act('relu'), 2)).toBe(2);
    expect(activate(act('prelu', 0.25), -2)).toBe(-0.5);
    expect(activate(act('elu', 1), -1)).toBeCloseTo(Math.exp(-1) - 1, 15);
    expect(activate(act('elu', 0.7), 3)).toBe(3);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(activate(act('softplus'), 2)).toBeCloseTo(Math.log(1 + Math.exp(2)), 15);
    expect(activate(act('softsign'), 1)).toBe(0.5);
    expect(activate(act('softsign'), -3)).toBe(-0.75);
    expect(activate(act('hardtanh'), 2)).toBe(1);
    expect(activate(act('hardtanh'), -0.3)).toBe(-0.3);
    expect(activate(act('hardtanh'), -7)).toBe(-1);
    expect(activate(act('step'), 0)).toBe(1);
    expect(activate(act('step'), -1e-12)).toBe(0);
  });

  it('is finite and saturates correctly for |z| = 1000', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(activate(act('elu', 1), -1000)).toBe(-1);
    expect(activationDerivative(act('softplus'), -1000, 0)).toBe(0);
    expect(activationDerivative(act('sigmoid'), 1000, 1)).toBe(0);
  });

  it('softmax is refused elementwise', () => {
    expect(() => activate(act('softmax'), 0)).toThrow(/row-wise/);
    expect(() => activationDerivative(act('softmax'), 0, 0)).toThrow(/row-wise/);
  });
});
