// Activation functions f and their derivatives f′ in float64: the reference the
// WGSL kernels are tested against. Formulas: "关于激活函数" in the course notes
// (seed 002), except softsign′, which the notes print as sgn(z)/(1+|z|)²; the
// derivative of z/(1+|z|) is 1/(1+|z|)² on both sides of 0.
//
// softmax is row-wise, not elementwise: the network code applies it to a whole
// output row (see softmaxRow in network.ts), so `activate` refuses it.

import { SpecError, type Activation } from '../spec.js';

/** σ(z) = 1 / (1 + e^(−z)), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z), computed as max(z, 0) + log1p(e^(−|z|)) so it never overflows. */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** a = f(z) for an elementwise activation. */
export function activate(act: Activation, z: number): number {
  switch (act.name) {
    case 'sigmoid':
      return sigmoid(z);
    case 'tanh':
      return Math.tanh(z);
    case 'identity':
      return z;
    case 'relu':
      return z > 0 ? z : 0;
    case 'prelu':
      return z >= 0 ? z : act.alpha * z;
    case 'elu':
      return z >= 0 ? z : act.alpha * Math.expm1(z);
    case 'softplus':
      return softplus(z);
    case 'softsign':
      return z / (1 + Math.abs(z));
    case 'hardtanh':
      return z < -1 ? -1 : z > 1 ? 1 : z;
    case 'step':
      return z >= 0 ? 1 : 0;
    case 'softmax':
      throw new SpecError('softmax is a row-wise activation; it has no elementwise value');
  }
}

/** f′(z); `a` must be f(z) (sigmoid, tanh and elu use it). */
export function activationDerivative(act: Activation, z: number, a: number): number {
  switch (act.name) {
    case 'sigmoid':
      return a * (1 - a); // σ′ = σ(1 − σ)
    case 'tanh':
      return 1 - a * a; // tanh′ = 1 − tanh²
    case 'identity':
      return 1;
    case 'relu':
      return z > 0 ? 1 : 0; // f′(0) = 0
    case 'prelu':
      return z > 0 ? 1 : act.alpha;
    case 'elu':
      return z < 0 ? a + act.alpha : 1; // α(e^z − 1) + α = α e^z
    case 'softplus':
      return sigmoid(z);
    case 'softsign': {
      const d = 1 + Math.abs(z);
      return 1 / (d * d);
    }
    case 'hardtanh':
      return z >= -1 && z <= 1 ? 1 : 0;
    case 'step':
      return 0; // inference only: assertTrainable rejects it for training
    case 'softmax':
      throw new SpecError('softmax is a row-wise activation; its Jacobian is handled with the softmax cross-entropy loss');
  }
}
