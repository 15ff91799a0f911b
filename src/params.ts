// The flat parameter vector θ and its layout.
//
// Order: W(1), b(1), W(2), b(2), …, W(L−1), b(L−1). W(l) is n_{l+1} × n_l, stored
// row-major, so W(l)[i][j] — the weight from unit j of layer l to unit i of
// layer l+1, as in the CS294A notes — sits at offset(W(l)) + i·n_l + j.
// A VAE's encoder head (the layer into the latent code, d units) stores
// W_mu (d × n), W_logvar (d × n), b_mu (d), b_logvar (d) in that order: a
// 2d × n matrix and a 2d bias, μ in rows 0 … d−1 and log σ² in rows d … 2d−1.

import { Rng } from './prng.js';
import { SpecError, type Network } from './spec.js';
import { transpose } from './linalg.js';

export interface LayerSlot {
  /** Rows of W (units of layer l+1). */
  readonly nOut: number;
  /** Columns of W (units of layer l). */
  readonly nIn: number;
  /** Offset of W(l) in θ. */
  readonly w: number;
  /** Offset of b(l) in θ. */
  readonly b: number;
  /**
   * Tied weights: W(l) is not stored; it is the transpose of the nIn × nOut
   * matrix at offset `w` (the mirror encoder layer's W).
   */
  readonly transposed: boolean;
  /**
   * 2 for a VAE's encoder head (the weight layer into the latent layer): W is
   * [W_mu; W_logvar], 2d × nIn, and b is [b_mu; b_logvar], 2d, so one GEMM computes
   * the row [μ | log σ²] of every example. 1 elsewhere. nOut counts both heads.
   */
  readonly heads: 1 | 2;
}

export interface ParamLayout {
  readonly slots: readonly LayerSlot[];
  /** Total length of θ. */
  readonly size: number;
}

/**
 * With tied weights, θ = W(1), b(1), …, W(h), b(h), b(h+1), …, b(L−1) where the
 * decoder layers h+1 … L−1 store only their biases.
 */
export function paramLayout(net: Network): ParamLayout {
  const slots: LayerSlot[] = [];
  const Lw = net.layers.length - 1;
  let off = 0;
  for (let k = 0; k < Lw; k++) {
    const nIn = net.layers[k]!;
    const heads = net.vae && k === net.vae.latent - 1 ? 2 : 1;
    const nOut = heads * net.layers[k + 1]!;
    const mirror = net.tied && k >= Lw / 2 ? slots[Lw - 1 - k]! : null;
    if (mirror) {
      slots.push(Object.freeze({ nOut, nIn, w: mirror.w, b: off, transposed: true, heads }));
      off += nOut;
    } else {
      slots.push(Object.freeze({ nOut, nIn, w: off, b: off + nOut * nIn, transposed: false, heads }));
      off += nOut * nIn + nOut;
    }
  }
  return Object.freeze({ slots: Object.freeze(slots), size: off });
}

/** The slots whose W is stored in θ (every slot unless weights are tied). */
export function storedWeights(layout: ParamLayout): LayerSlot[] {
  return layout.slots.filter((s) => !s.transposed);
}

/**
 * Typed views of W(l) and b(l) inside θ (no copies). A tied slot's W is a
 * transposed copy (changes to it do not reach θ).
 */
export function layerViews<T extends Float64Array | Float32Array>(layout: ParamLayout, theta: T): { W: T; b: T }[] {
  if (theta.length !== layout.size) throw new SpecError(`θ has ${theta.length} values but the network needs ${layout.size}`);
  return layout.slots.map((s) => ({
    W: s.transposed ? (transpose(theta.subarray(s.w, s.w + s.nOut * s.nIn), s.nIn, s.nOut) as T) : (theta.subarray(s.w, s.w + s.nOut * s.nIn) as T),
    b: theta.subarray(s.b, s.b + s.nOut) as T,
  }));
}


export const INITIALIZERS = ['normal', 'ufldl', 'glorot', 'he'] as const;
/**
 * - `normal`: W ~ Normal(0, ε²), ε = 0.01 (CS294A notes, "random initialization").
 * - `ufldl`: W ~ U[−r, r], r = √(6 / (n_in + n_out + 1)) (UFLDL sparse autoencoder exercise).
 * - `glorot`: W ~ U[−r, r], r = √(6 / (n_in + n_out)).
 * - `he`: W ~ Normal(0, 2 / n_in).
 * Biases start at zero in every case.
 */
export type InitializerName = (typeof INITIALIZERS)[number];

export interface InitOptions {
  init?: InitializerName;
  seed?: number;
  /** ε for `normal` (default 0.01). */
  epsilon?: number;
}

export function initParameters(net: Network, opts: InitOptions = {}): Float64Array {
  const init = opts.init ?? 'ufldl';
  if (!(INITIALIZERS as readonly string[]).includes(init)) {
    throw new SpecError(`unknown initializer ${JSON.stringify(init)}; expected one of ${INITIALIZERS.join(', ')}`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const layout = paramLayout(net);
  const theta = new Float64Array(layout.size);
  storedWeights(layout).forEach((s) => {
    const n = s.nOut * s.nIn;
    const fanOut = s.nOut / s.heads; // a VAE head pair initializes like two layers of d units
    for (let i = 0; i < n; i++) {
      let v: number;
      switch (init) {
        case 'normal':
          v = (opts.epsilon ?? 0.01) * rng.normal();
          break;
        case 'ufldl': {
          const r = Math.sqrt(6 / (s.nIn + fanOut + 1));
          v = rng.range(-r, r);
          break;
        }
        case 'glorot': {
          const r = Math.sqrt(6 / (s.nIn + fanOut));
          v = rng.range(-r, r);
          break;
        }
        case 'he':
          v = Math.sqrt(2 / s.nIn) * rng.normal();
          break;
      }
      theta[s.w + i] = v;
    }
  });
  return theta;
}
