// The network description shared by the CPU reference and the WebGPU backend.
//
// Layers are numbered as in the CS294A notes: layer 1 is the input, layer L the
// output, and W(l) (l = 1 … L−1) maps layer l to layer l+1. A user writes a
// `NetworkSpec`; `resolveSpec` validates it and returns a `Network`, the fully
// specified, frozen description that both backends read.

import { SpecError } from './errors.js';
import { checkShape, type ObjectShape, type Shape } from './schema.js';

export const ACTIVATIONS = [
  'sigmoid',
  'tanh',
  'identity',
  'relu',
  'prelu',
  'elu',
  'softplus',
  'softsign',
  'hardtanh',
  'softmax',
  'step',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const LOSSES = ['squared', 'cross-entropy', 'softmax-cross-entropy'] as const;
/**
 * - `squared`: J = (1/m) Σᵢ ½‖h(x⁽ⁱ⁾) − y⁽ⁱ⁾‖² (CS294A eq. for J(W,b)).
 * - `cross-entropy`: binary cross-entropy, J = −(1/m) Σᵢ Σₖ [y log a + (1−y) log(1−a)]; sigmoid output only.
 * - `softmax-cross-entropy`: J = −(1/m) Σᵢ Σₖ y log softmax(z)ₖ; softmax output only.
 */
export type LossName = (typeof LOSSES)[number];

export interface ActivationSpec {
  name: ActivationName;
  /** Slope for x < 0 (prelu, default 0.25) or scale of the negative branch (elu, default 1). */
  alpha?: number;
}

export interface SparsitySpec {
  /** Target mean activation ρ, in (0, 1). */
  rho: number;
  /** Weight β of Σⱼ KL(ρ‖ρ̂ⱼ). */
  beta: number;
  /** Hidden layers (numbered as in the notes: 2 … L−1) that carry the penalty. Default: every hidden layer. */
  layers?: number[];
}

export interface L1Spec {
  /** Weight of the L1 activation penalty (1/m) Σᵢ Σⱼ |aⱼ⁽ⁱ⁾|. */
  weight: number;
  /** Hidden layers (2 … L−1). Default: every hidden layer. */
  layers?: number[];
}

/** Input corruption of a denoising autoencoder (seed 004, "Denoising autoencoders"). */
export interface CorruptionSpec {
  /**
   * - `mask`: each input is set to 0 with probability `level` (ν).
   * - `gaussian`: each input gets N(0, level²) noise (σ = level).
   * - `salt-pepper`: each input is set, with probability `level`, to `low` or `high` (equally likely).
   */
  kind: 'mask' | 'gaussian' | 'salt-pepper';
  level: number;
  /** Salt-and-pepper values (default 0 and 1). */
  low?: number;
  high?: number;
  /** Seed of the noise stream (default 1); each training evaluation draws fresh noise from it. */
  seed?: number;
}

export const CORRUPTIONS: readonly CorruptionSpec['kind'][] = ['mask', 'gaussian', 'salt-pepper'];

/** The keys of a corruption spec and their types (schema.ts). */
export const CORRUPTION_SHAPE = {
  fields: { kind: 'string', level: 'number', low: 'number', high: 'number', seed: 'number' },
  required: ['kind', 'level'],
} as const satisfies ObjectShape;

const ACTIVATION_SHAPE = { anyOf: ['string', { fields: { name: 'string', alpha: 'number' }, required: ['name'] }], describe: 'an activation name or { name, alpha }' } as const satisfies Shape;
const HIDDEN_LAYERS = { list: 'integer' } as const satisfies Shape;

/** The keys of a NetworkSpec and their types: resolveSpec refuses anything else. */
export const NETWORK_SHAPE = {
  fields: {
    layers: { list: 'integer' },
    activation: { anyOf: [...ACTIVATION_SHAPE.anyOf, { list: ACTIVATION_SHAPE }], describe: 'an activation name, { name, alpha } or a list of them' },
    loss: 'string',
    autoencoder: 'boolean',
    lambda: 'number',
    sparsity: { fields: { rho: 'number', beta: 'number', layers: HIDDEN_LAYERS }, required: ['rho', 'beta'] },
    l1: { fields: { weight: 'number', layers: HIDDEN_LAYERS }, required: ['weight'] },
    tied: 'boolean',
    corruption: CORRUPTION_SHAPE,
    contractive: { fields: { weight: 'number' }, required: ['weight'] },
    kSparse: { fields: { k: 'integer', layers: HIDDEN_LAYERS, anneal: { fields: { from: 'integer', epochs: 'number' }, required: ['from', 'epochs'] } }, required: ['k'] },
    vae: { fields: { beta: 'number', seed: 'number' } },
  },
} as const satisfies ObjectShape;

export interface NetworkSpec {
  /** Units per layer, input first: [n1, n2, …, nL]. At least two entries. */
  layers: number[];
  /** One activation for every non-input layer, or a list of L−1 (one per layer 2 … L). */
  activation: ActivationName | ActivationSpec | (ActivationName | ActivationSpec)[];
  /** Default: 'squared'. */
  loss?: LossName;
  /** Autoencoder: the target is the input (y = x); requires n1 = nL. */
  autoencoder?: boolean;
  /** Weight decay λ: adds (λ/2) Σ W² over weights (not biases). Default 0. */
  lambda?: number;
  sparsity?: SparsitySpec;
  l1?: L1Spec;
  /**
   * Tied weights (autoencoders with mirror-image layers, e.g. [n, h, n] or
   * [n, h1, h2, h1, n]): each decoder matrix is an encoder matrix transposed,
   * W(L−l) = W(l)ᵀ, and θ holds only the encoder's. Weight decay counts each
   * stored matrix once.
   */
  tied?: boolean;
  /** Denoising: corrupt the input of every training evaluation; the loss still compares with the clean input. */
  corruption?: CorruptionSpec;
  /**
   * Contractive penalty λ_c·(1/m) Σᵢ ‖J_f(x⁽ⁱ⁾)‖²_F of the first hidden layer
   * (sigmoid): ‖J_f(x)‖²_F = Σⱼ (hⱼ(1 − hⱼ))² Σₖ W(1)ⱼₖ².
   */
  contractive?: { weight: number };
  /**
   * k-sparse: in each listed hidden layer (default: every hidden layer) keep the
   * k largest activations of each example and zero the rest; backpropagation
   * flows through the kept units only. `anneal` (see KSparseAnneal) starts
   * training with a larger k and lowers it to `k`.
   */
  kSparse?: { k: number; layers?: number[]; anneal?: KSparseAnneal };
  /** Variational autoencoder (Kingma & Welling 2013); see VaeSpec. */
  vae?: VaeSpec;
}

/**
 * k-sparse annealing (Makhzani & Frey 2014, "scheduling of the sparsity level"):
 * training starts with k = `from` and lowers it linearly to the spec's k over the
 * first `epochs` epochs, so every unit wins top-k slots early on. After e epochs
 * (fractional: examples presented / m) the training evaluations keep
 * round(from + (k − from)·min(1, e/epochs)) units (src/ksparse-anneal.ts).
 * Inference, evaluation and export always use the final k. First-order
 * methods only (L-BFGS and CG need a fixed objective).
 */
export interface KSparseAnneal {
  /** k at the start of training: an integer above k, at most the units of every k-sparse layer. */
  from: number;
  /** Epochs over which k falls from `from` to k (a positive number; fractions allowed). */
  epochs: number;
}

/**
 * A variational autoencoder: mirrored layers [n, …, d, …, n] with an odd count,
 * whose middle layer (identity activation) is the latent code z of size d. The
 * encoder's last weight layer has two heads, μ and log σ² (d each); z = μ + σ ⊙ ε,
 * ε ~ N(0, I); the decoder maps z to the output. `loss` picks the decoder's
 * likelihood: `cross-entropy` = Bernoulli (sigmoid output), `squared` = Gaussian
 * with unit variance (identity output). Cost per example: reconstruction NLL summed
 * over outputs + β·KL(q(z|x) ‖ N(0, I)); `autoencoder` is implied.
 */
export interface VaeSpec {
  /** Weight β of the KL term (β-VAE). Default 1. */
  beta?: number;
  /** Seed of the ε stream (default 1); each training evaluation draws fresh ε from it. */
  seed?: number;
}

export interface Activation {
  readonly name: ActivationName;
  readonly alpha: number;
}

/** A validated network description. Arrays are indexed by weight layer k = 0 … L−2 (the notes' l = k+1). */
export interface Network {
  readonly layers: readonly number[];
  /** activations[k] is f of layer k+2 (the output of weight layer k). */
  readonly activations: readonly Activation[];
  readonly loss: LossName;
  readonly autoencoder: boolean;
  readonly lambda: number;
  /** KL sparsity: per hidden layer (indexed like `activations`), or null. */
  readonly sparsity: { readonly rho: number; readonly beta: number; readonly onLayer: readonly boolean[] } | null;
  readonly l1: { readonly weight: number; readonly onLayer: readonly boolean[] } | null;
  readonly tied: boolean;
  readonly corruption: { readonly kind: CorruptionSpec['kind']; readonly level: number; readonly low: number; readonly high: number; readonly seed: number } | null;
  readonly contractive: { readonly weight: number } | null;
  /** k-sparse: the final k (inference, export), the layers, and the training schedule when k is annealed. */
  readonly kSparse: { readonly k: number; readonly onLayer: readonly boolean[]; readonly anneal?: Readonly<KSparseAnneal> } | null;
  /** VAE: β, the ε seed and the latent layer's index into `layers` (the middle one, (L−1)/2). */
  readonly vae: { readonly beta: number; readonly seed: number; readonly latent: number } | null;
}

/** Thrown for any invalid spec, data or option; the message names the offending value. */
export { SpecError };

const DEFAULT_ALPHA: Partial<Record<ActivationName, number>> = { prelu: 0.25, elu: 1 };

function resolveActivation(a: ActivationName | ActivationSpec, where: string): Activation {
  const spec: ActivationSpec = typeof a === 'string' ? { name: a } : a;
  if (!spec || !(ACTIVATIONS as readonly string[]).includes(spec.name)) {
    throw new SpecError(`unknown activation ${JSON.stringify(spec?.name ?? a)} for ${where}; expected one of ${ACTIVATIONS.join(', ')}`);
  }
  const alpha = spec.alpha ?? DEFAULT_ALPHA[spec.name] ?? 0;
  if (!Number.isFinite(alpha)) throw new SpecError(`activation ${spec.name} alpha must be finite, got ${alpha}`);
  if (spec.name === 'elu' && alpha <= 0) throw new SpecError(`elu alpha must be > 0, got ${alpha}`);
  return Object.freeze({ name: spec.name, alpha });
}

function hiddenMask(L: number, layers: number[] | undefined, what: string): boolean[] {
  // Index k = 0 … L−2 is layer k+2; hidden layers are k = 0 … L−3.
  const mask = new Array<boolean>(L - 1).fill(false);
  if (layers === undefined) {
    for (let k = 0; k < L - 2; k++) mask[k] = true;
    if (L - 2 === 0) throw new SpecError(`${what} needs a hidden layer, but the network has layers [${L} entries] with none`);
    return mask;
  }
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 2 || l > L - 1) {
      throw new SpecError(`${what} layer ${l} is not a hidden layer; hidden layers are numbered 2 … ${L - 1}`);
    }
    mask[l - 2] = true;
  }
  return mask;
}

/** Validates a corruption spec (the one place that does); returns it with low, high and seed filled in. */
export function resolveCorruption(c: CorruptionSpec): NonNullable<Network['corruption']> {
  if (!(CORRUPTIONS as readonly string[]).includes(c.kind)) throw new SpecError(`corruption kind ${JSON.stringify(c.kind)} is not one of ${CORRUPTIONS.join(', ')}`);
  if (c.kind === 'gaussian' ? !(Number.isFinite(c.level) && c.level >= 0) : !(c.level >= 0 && c.level < 1)) {
    throw new SpecError(`corruption level for ${c.kind} must be ${c.kind === 'gaussian' ? 'a finite σ ≥ 0' : 'a probability, a fraction in [0, 1)'}, got ${c.level}`);
  }
  const low = c.low ?? 0;
  const high = c.high ?? 1;
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw new SpecError(`corruption low/high must be finite, got ${low}, ${high}`);
  const seed = c.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SpecError(`corruption seed must be an integer in [0, 2³²), got ${seed}`);
  return Object.freeze({ kind: c.kind, level: c.level, low, high, seed });
}

/**
 * Validates a VAE spec (the `vae` block and what it needs of the rest). What combines:
 * deeper encoders and decoders, any hidden activation, weight decay (on every stored
 * matrix, both heads included) and input corruption (a denoising VAE: the encoder
 * sees x̃, the reconstruction term compares with x). What does not, and why:
 * - tied weights: the head matrix is 2d × n (μ and log σ²), so no decoder matrix mirrors it;
 * - KL sparsity, L1, k-sparse, contractive: penalties that shape a deterministic code;
 *   the VAE's code is a distribution regularized by its own KL term, and these are not
 *   derived or gradient-checked through the sampling step;
 * - softmax-cross-entropy: the decoder likelihood is Bernoulli or unit-variance Gaussian.
 */
function resolveVae(spec: NetworkSpec, layers: number[], activations: Activation[], loss: LossName): NonNullable<Network['vae']> {
  // Keys and types were checked against NETWORK_SHAPE; here the ranges.
  const v = spec.vae!;
  const beta = v.beta ?? 1;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) throw new SpecError(`vae beta must be a finite number ≥ 0, got ${JSON.stringify(v.beta)}`);
  const seed = v.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SpecError(`vae seed must be an integer in [0, 2³²), got ${JSON.stringify(v.seed)}`);
  const L = layers.length;
  const mirror = layers.every((n, i) => n === layers[L - 1 - i]);
  if (L < 3 || L % 2 === 0 || !mirror) {
    throw new SpecError(`a VAE needs mirror-image layers with an odd count, the middle one the latent code, like [784, 400, 20, 400, 784]; got [${layers}]`);
  }
  const latent = (L - 1) / 2;
  const act = activations[latent - 1]!.name;
  if (act !== 'identity') throw new SpecError(`the VAE latent layer ${latent + 1} must use the identity activation (μ and log σ² are linear heads), got ${act}`);
  const out = activations[L - 2]!.name;
  if (loss === 'cross-entropy' && out !== 'sigmoid') throw new SpecError(`a Bernoulli VAE (loss cross-entropy) needs a sigmoid output layer, got ${out}`);
  if (loss === 'squared' && out !== 'identity') throw new SpecError(`a Gaussian VAE (loss squared: unit-variance Gaussian likelihood) needs an identity output layer, got ${out}`);
  if (loss !== 'cross-entropy' && loss !== 'squared') throw new SpecError(`a VAE's loss is cross-entropy (Bernoulli decoder) or squared (Gaussian decoder), got ${loss}`);
  if (spec.tied) throw new SpecError('a VAE cannot tie weights: the encoder head is 2d × n (μ and log σ²) and no decoder matrix mirrors it');
  const penalties = (['sparsity', 'l1', 'kSparse', 'contractive'] as const).filter((k) => spec[k] !== undefined);
  if (penalties.length) {
    throw new SpecError(`a VAE does not combine with ${penalties.join(', ')}: these penalties shape a deterministic code, while the VAE's code is a distribution regularized by its own KL term (vae.beta)`);
  }
  return Object.freeze({ beta, seed, latent });
}

/** Validates kSparse.anneal against k and the units of the k-sparse layers (`onLayer`). */
function resolveAnneal(a: KSparseAnneal, k: number, layers: number[], onLayer: boolean[]): Readonly<KSparseAnneal> {
  // Keys and types were checked against NETWORK_SHAPE; here the ranges.
  const units = Math.min(...onLayer.flatMap((on, i) => (on ? [layers[i + 1]!] : [])));
  const layer = onLayer.findIndex((on, i) => on && layers[i + 1] === units) + 2;
  if (!(Number.isInteger(a.from) && a.from > k && a.from <= units)) {
    throw new SpecError(`kSparse.anneal.from must be an integer in ${k + 1} … ${units} (above k = ${k}, at most the ${units} units of layer ${layer}), got ${JSON.stringify(a.from)}`);
  }
  if (!(typeof a.epochs === 'number' && Number.isFinite(a.epochs) && a.epochs > 0)) {
    throw new SpecError(`kSparse.anneal.epochs must be a positive number of epochs, got ${JSON.stringify(a.epochs)}`);
  }
  return Object.freeze({ from: a.from, epochs: a.epochs });
}

const RESOLVED = new WeakSet<object>();

/** True for the objects resolveSpec returns. */
export function isNetwork(x: unknown): x is Network {
  return typeof x === 'object' && x !== null && RESOLVED.has(x);
}

/** Validates a spec; `path` names it in messages about its keys (e.g. "network"). */
export function resolveSpec(spec: NetworkSpec | Network, path = 'network'): Network {
  if (isNetwork(spec)) return spec;
  if (!spec || typeof spec !== 'object') throw new SpecError(`network spec must be an object, got ${String(spec)}`);
  checkShape(spec, NETWORK_SHAPE, path);
  const { layers } = spec;
  if (!Array.isArray(layers) || layers.length < 2) {
    throw new SpecError(`layers must list at least two sizes [n_in, …, n_out], got ${JSON.stringify(layers)}`);
  }
  layers.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1) throw new SpecError(`layers[${i}] must be a positive integer, got ${n}`);
  });
  const L = layers.length;

  const act = spec.activation;
  if (act === undefined) throw new SpecError('activation is required');
  let activations: Activation[];
  if (Array.isArray(act)) {
    if (act.length !== L - 1) {
      throw new SpecError(`activation lists ${act.length} entries but the network has ${L - 1} non-input layers`);
    }
    activations = act.map((a, k) => resolveActivation(a, `layer ${k + 2}`));
  } else {
    const a = resolveActivation(act, 'all layers');
    activations = Array.from({ length: L - 1 }, () => a);
  }
  activations.forEach((a, k) => {
    if (a.name === 'softmax' && k !== L - 2) throw new SpecError(`softmax is allowed on the output layer only, found on layer ${k + 2}`);
  });

  const loss = spec.loss ?? 'squared';
  if (!(LOSSES as readonly string[]).includes(loss)) {
    throw new SpecError(`unknown loss ${JSON.stringify(loss)}; expected one of ${LOSSES.join(', ')}`);
  }
  const out = activations[L - 2]!.name;
  if (loss === 'softmax-cross-entropy' && out !== 'softmax') {
    throw new SpecError(`loss softmax-cross-entropy needs a softmax output layer, got ${out}`);
  }
  if (out === 'softmax' && loss !== 'softmax-cross-entropy') {
    throw new SpecError(`a softmax output layer needs loss softmax-cross-entropy, got ${loss}`);
  }
  if (loss === 'cross-entropy' && out !== 'sigmoid') {
    throw new SpecError(`loss cross-entropy (binary) needs a sigmoid output layer, got ${out}`);
  }

  if (spec.vae !== undefined && spec.autoencoder === false) throw new SpecError('a VAE is an autoencoder; drop "autoencoder": false');
  const autoencoder = spec.autoencoder ?? spec.vae !== undefined;
  if (autoencoder && layers[0] !== layers[L - 1]) {
    throw new SpecError(`an autoencoder needs as many outputs as inputs, got layers ${layers[0]} → ${layers[L - 1]}`);
  }

  const lambda = spec.lambda ?? 0;
  if (!Number.isFinite(lambda) || lambda < 0) throw new SpecError(`lambda (weight decay) must be ≥ 0, got ${lambda}`);

  let sparsity: Network['sparsity'] = null;
  if (spec.sparsity) {
    const { rho, beta } = spec.sparsity;
    if (!(rho > 0 && rho < 1)) throw new SpecError(`sparsity rho must lie in (0, 1), got ${rho}`);
    if (!Number.isFinite(beta) || beta < 0) throw new SpecError(`sparsity beta must be ≥ 0, got ${beta}`);
    const onLayer = hiddenMask(L, spec.sparsity.layers, 'sparsity');
    onLayer.forEach((on, k) => {
      const a = activations[k]!.name;
      if (on && a !== 'sigmoid') {
        // KL(ρ‖ρ̂) needs ρ̂ in (0, 1): only a sigmoid layer guarantees it.
        throw new SpecError(`KL sparsity needs activations in (0, 1); layer ${k + 2} is ${a} (use sigmoid)`);
      }
    });
    sparsity = Object.freeze({ rho, beta, onLayer: Object.freeze(onLayer) });
  }

  let l1: Network['l1'] = null;
  if (spec.l1) {
    const { weight } = spec.l1;
    if (!Number.isFinite(weight) || weight < 0) throw new SpecError(`l1 weight must be ≥ 0, got ${weight}`);
    l1 = Object.freeze({ weight, onLayer: Object.freeze(hiddenMask(L, spec.l1.layers, 'l1')) });
  }

  const tied = spec.tied ?? false;
  if (tied) {
    if (!autoencoder) throw new SpecError('tied weights need an autoencoder (autoencoder: true)');
    const mirror = layers.every((n, i) => n === layers[L - 1 - i]);
    if (!mirror || (L - 1) % 2 !== 0) {
      throw new SpecError(`tied weights need mirror-image layers with an even number of weight layers, like [n, h, n] or [n, h1, h2, h1, n]; got [${layers}]`);
    }
  }

  let corruption: Network['corruption'] = null;
  try {
    corruption = spec.corruption ? resolveCorruption(spec.corruption) : null;
  } catch (e) {
    throw new SpecError(`${path}.corruption: ${(e as Error).message}`);
  }

  let contractive: Network['contractive'] = null;
  if (spec.contractive) {
    const { weight } = spec.contractive;
    if (!Number.isFinite(weight) || weight < 0) throw new SpecError(`contractive weight must be ≥ 0, got ${weight}`);
    if (L < 3) throw new SpecError('the contractive penalty needs a hidden layer');
    if (activations[0]!.name !== 'sigmoid') throw new SpecError(`the contractive penalty needs a sigmoid first hidden layer, got ${activations[0]!.name}`);
    contractive = Object.freeze({ weight });
  }

  let kSparse: Network['kSparse'] = null;
  if (spec.kSparse) {
    const { k } = spec.kSparse;
    const onLayer = hiddenMask(L, spec.kSparse.layers, 'kSparse');
    onLayer.forEach((on, i) => {
      if (on && !(Number.isInteger(k) && k >= 1 && k <= layers[i + 1]!)) {
        throw new SpecError(`kSparse k must be an integer in 1 … ${layers[i + 1]} (the units of layer ${i + 2}), got ${k}`);
      }
    });
    if (contractive && onLayer[0]) throw new SpecError('kSparse and the contractive penalty cannot share the first hidden layer');
    onLayer.forEach((on, i) => {
      // A unit that is never among the k largest has ρ̂ = 0, where KL(ρ‖ρ̂) is infinite.
      if (on && sparsity?.onLayer[i]) throw new SpecError(`kSparse and KL sparsity cannot share layer ${i + 2} (a unit never among the k largest has ρ̂ = 0 and KL(ρ‖0) = ∞); k itself sets the sparsity`);
    });
    const anneal = spec.kSparse.anneal === undefined ? undefined : resolveAnneal(spec.kSparse.anneal, k, layers, onLayer);
    kSparse = Object.freeze(anneal ? { k, onLayer: Object.freeze(onLayer), anneal } : { k, onLayer: Object.freeze(onLayer) });
  }

  const vae = spec.vae !== undefined ? resolveVae(spec, layers, activations, loss) : null;

  const net: Network = Object.freeze({
    layers: Object.freeze([...layers]),
    activations: Object.freeze(activations),
    loss,
    autoencoder,
    lambda,
    sparsity,
    l1,
    tied,
    corruption,
    contractive,
    kSparse,
    vae,
  });
  RESOLVED.add(net);
  return net;
}

/** The spec a Network came from, as plain JSON (for saving next to θ). */
export function networkToSpec(net: Network): NetworkSpec {
  const spec: NetworkSpec = {
    layers: [...net.layers],
    activation: net.activations.map((a) => (a.alpha ? { name: a.name, alpha: a.alpha } : a.name)),
    loss: net.loss,
    autoencoder: net.autoencoder,
    lambda: net.lambda,
  };
  const hidden = (mask: readonly boolean[]): number[] => mask.flatMap((on, k) => (on ? [k + 2] : []));
  if (net.sparsity) spec.sparsity = { rho: net.sparsity.rho, beta: net.sparsity.beta, layers: hidden(net.sparsity.onLayer) };
  if (net.l1) spec.l1 = { weight: net.l1.weight, layers: hidden(net.l1.onLayer) };
  if (net.tied) spec.tied = true;
  if (net.corruption) spec.corruption = { ...net.corruption };
  if (net.contractive) spec.contractive = { weight: net.contractive.weight };
  if (net.kSparse) spec.kSparse = { k: net.kSparse.k, layers: hidden(net.kSparse.onLayer), ...(net.kSparse.anneal ? { anneal: { ...net.kSparse.anneal } } : {}) };
  if (net.vae) spec.vae = { beta: net.vae.beta, seed: net.vae.seed };
  return spec;
}

/** Training with the step function is impossible (its derivative is 0 almost everywhere). */
export function assertTrainable(net: Network): void {
  net.activations.forEach((a, k) => {
    if (a.name === 'step') {
      throw new SpecError(`layer ${k + 2} uses the step activation, which is for inference only (its derivative is zero almost everywhere)`);
    }
  });
}
