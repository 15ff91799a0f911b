// The demo's controls: what each one means (its tooltip), how it is validated
// where it is typed, which ones apply live and which need a rebuild, the
// data-source presets, and the URL that mirrors the settings (shareable; read
// back with the same presets as the controls).

import type { NetworkSpec } from '../src/spec.js';
import type { TrainSettings } from '../src/worker/protocol.js';

export interface Controls {
  /** 'mnist-vae': the digits with a variational autoencoder (784-hidden-latent-hidden-784). */
  data: 'mnist' | 'mnist-vae' | 'natural' | 'dropped';
  patch: number;
  whiten: boolean;
  hidden: number;
  /** VAE: units of the latent code z (2: the manifold and the codes are drawn). */
  latent: number;
  activation: string;
  lambda: number;
  beta: number;
  rho: number;
  corruption: 'none' | 'mask' | 'gaussian' | 'salt-pepper';
  level: number;
  tied: boolean;
  contractive: number;
  kSparse: number;
  optimizer: 'adam' | 'sgd' | 'momentum' | 'lbfgs';
  batch: number;
  lr: number;
  costEvery: number;
}

/** How a control takes effect: 'rebuild' (architecture, data: Reset), 'spec' (penalties: live, θ kept), 'optimizer' (live). */
export type Effect = 'rebuild' | 'spec' | 'optimizer';

interface ControlDef {
  id: string;
  key: keyof Controls;
  effect: Effect;
  /** The tooltip: what the control does, in the notes' words. */
  help: string;
  /** For numbers: the rule a typed value must follow (returns the message, or null). */
  check?: (v: number, c: Controls) => string | null;
  default: string;
}

const int = (lo: number, hi: number, what: string) => (v: number): string | null =>
  Number.isInteger(v) && v >= lo && v <= hi ? null : `${what} must be a whole number from ${lo} to ${hi}`;
const nonneg = (what: string) => (v: number): string | null => (Number.isFinite(v) && v >= 0 ? null : `${what} must be a number ≥ 0`);

export const CONTROLS: ControlDef[] = [
  { id: 'data', key: 'data', effect: 'rebuild', default: 'mnist', help: 'What the autoencoder learns to reconstruct: handwritten digits, patches of natural photographs, or patches of your own images; or the digits with a variational autoencoder, which learns a distribution it can draw new digits from.' },
  { id: 'patch', key: 'patch', effect: 'rebuild', default: '8', help: 'Side of the square patches sampled from the images, in pixels (the input layer has side² units).', check: int(4, 28, 'Patch size') },
  { id: 'whiten', key: 'whiten', effect: 'rebuild', default: '1', help: 'Whiten your images first (as UFLDL’s IMAGES.mat): flattens their spectrum so the features are edges rather than smooth blobs.' },
  { id: 'hidden', key: 'hidden', effect: 'rebuild', default: '64', help: 'Number of hidden units s₂: one feature (tile) each.', check: int(1, 2048, 'Hidden units') },
  { id: 'latent', key: 'latent', effect: 'rebuild', default: '2', help: 'VAE: units of the latent code z (the network is 784-h-z-h-784). With 2, the page draws the decoder over a grid of z and the held-out codes.', check: int(1, 64, 'Latent units') },
  { id: 'activation', key: 'activation', effect: 'rebuild', default: 'sigmoid', help: 'The hidden units’ activation f; the outputs are always sigmoid. The KL sparsity and contractive penalties need sigmoid hidden units.' },
  { id: 'lambda', key: 'lambda', effect: 'spec', default: '0.003', help: 'Weight decay λ: adds (λ/2)·ΣW² to J, keeping the weights small. Applies live.', check: nonneg('λ') },
  { id: 'beta', key: 'beta', effect: 'spec', default: '3', help: 'Sparsity weight β: multiplies Σⱼ KL(ρ‖ρ̂ⱼ) in J. 0 turns the sparsity penalty off. Applies live.', check: nonneg('β') },
  {
    id: 'rho', key: 'rho', effect: 'spec', default: '0.1', help: 'Sparsity target ρ: the average activation ρ̂ⱼ each hidden unit is pushed towards (e.g. 0.05). Applies live.',
    check: (v) => (v > 0 && v < 1 ? null : 'ρ must lie strictly between 0 and 1'),
  },
  { id: 'corruption', key: 'corruption', effect: 'spec', default: 'none', help: 'Denoising: corrupt each input before the network sees it and train it to reconstruct the clean input. Applies live.' },
  {
    id: 'level', key: 'level', effect: 'spec', default: '0.3', help: 'Corruption level: the fraction of pixels masked or flipped, or the noise’s standard deviation σ. Applies live.',
    check: (v, c) => (!(Number.isFinite(v) && v >= 0) ? 'The level must be a number ≥ 0' : c.corruption !== 'gaussian' && v > 1 ? 'A mask or salt-and-pepper level is a fraction: at most 1' : null),
  },
  { id: 'tied', key: 'tied', effect: 'rebuild', default: '0', help: 'Tied weights: the decoder uses the encoder’s weights transposed, W⁽²⁾ = W⁽¹⁾ᵀ.' },
  { id: 'contractive', key: 'contractive', effect: 'spec', default: '0', help: 'Contractive weight λc: adds λc·‖∂h/∂x‖²_F, making the code insensitive to small input changes. 0 = off. Applies live.', check: nonneg('λc') },
  {
    id: 'ksparse', key: 'kSparse', effect: 'spec', default: '0', help: 'k-sparse: keep only the k largest hidden activations of each example (0 = keep all); replaces the KL penalty. Applies live.',
    check: (v, c) => (!(Number.isInteger(v) && v >= 0) ? 'k must be a whole number ≥ 0' : v > c.hidden ? `k must not exceed the ${c.hidden} hidden units` : null),
  },
  { id: 'optimizer', key: 'optimizer', effect: 'optimizer', default: 'adam', help: 'How θ moves: SGD steps against ∇J on mini-batches; momentum adds a velocity; Adam scales each step by running moments of the gradient; L-BFGS takes all examples at once and picks each step by a line search (as UFLDL’s exercise, with minFunc). Applies live.' },
  { id: 'batch', key: 'batch', effect: 'optimizer', default: '100', help: 'Examples per step (mini-batch size): 1 is stochastic, all examples is batch gradient descent. Applies live.', check: int(1, 100000, 'Batch size') },
  {
    id: 'lr', key: 'lr', effect: 'optimizer', default: '0.01', help: 'Learning rate α: the size of each step. Too large and J blows up (the page stops and says so). Applies live.',
    check: (v) => (Number.isFinite(v) && v > 0 ? null : 'The learning rate must be a number > 0'),
  },
  { id: 'cost-every', key: 'costEvery', effect: 'optimizer', default: '5', help: 'Read the mini-batch cost J every this many steps (each reading waits for the GPU).', check: int(1, 100000, 'Cost every') },
];

const byId = new Map(CONTROLS.map((c) => [c.id, c]));
export const controlDef = (id: string): ControlDef => byId.get(id)!;

/** Settings that suit each kind of data (the UFLDL exercises' λ; a larger ρ than UFLDL's 0.01 for patches, which Adam gets going from much sooner). */
export const PRESETS: Record<Controls['data'], Record<string, string>> = {
  mnist: { hidden: '64', activation: 'sigmoid', lambda: '0.003', rho: '0.1', beta: '3', optimizer: 'adam', lr: '0.01' },
  // A small VAE that trains visibly on a software GPU: 784-128-2-128-784, ReLU, Bernoulli outputs, Adam.
  'mnist-vae': { hidden: '128', latent: '2', activation: 'relu', lambda: '0', optimizer: 'adam', lr: '0.003' },
  // UFLDL's sparse autoencoder exercise: 64-25-64, λ 1e-4, β 3, ρ 0.01, L-BFGS over all patches.
  natural: { hidden: '25', activation: 'sigmoid', lambda: '0.0001', rho: '0.01', beta: '3', optimizer: 'lbfgs', lr: '0.01' },
  dropped: { hidden: '25', activation: 'sigmoid', lambda: '0.0001', rho: '0.05', beta: '3', optimizer: 'adam', lr: '0.01' },
};

const el = (id: string): HTMLInputElement | HTMLSelectElement => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e as HTMLInputElement;
};
const isCheckbox = (e: Element): e is HTMLInputElement => e instanceof HTMLInputElement && e.type === 'checkbox';

export function getValue(id: string): string {
  const e = el(id);
  return isCheckbox(e) ? (e.checked ? '1' : '0') : e.value;
}

export function setValue(id: string, v: string): void {
  const e = el(id);
  if (isCheckbox(e)) e.checked = v === '1' || v === 'true';
  else e.value = v;
}

export function applyPreset(data: string): void {
  for (const [id, v] of Object.entries(PRESETS[data as Controls['data']] ?? {})) setValue(id, v);
}

export function readControls(): Controls {
  const num = (id: string): number => (getValue(id).trim() === '' ? NaN : Number(getValue(id)));
  return {
    data: getValue('data') as Controls['data'],
    patch: num('patch'),
    whiten: getValue('whiten') === '1',
    hidden: num('hidden'),
    latent: num('latent'),
    activation: getValue('activation'),
    lambda: num('lambda'),
    beta: num('beta'),
    rho: num('rho'),
    corruption: getValue('corruption') as Controls['corruption'],
    level: num('level'),
    tied: getValue('tied') === '1',
    contractive: num('contractive'),
    kSparse: num('ksparse'),
    optimizer: getValue('optimizer') as Controls['optimizer'],
    batch: num('batch'),
    lr: num('lr'),
    costEvery: num('cost-every'),
  };
}

/** Checks every numeric control and writes the message beside it; returns the messages of the invalid ones. */
export function validate(c: Controls): Map<string, string> {
  const bad = new Map<string, string>();
  for (const d of CONTROLS) {
    if (!d.check) continue;
    const input = el(d.id);
    const msg = input.disabled ? null : d.check(c[d.key] as number, c);
    const out = document.getElementById(`${d.id}-msg`);
    if (out) {
      out.textContent = msg ?? '';
      out.hidden = !msg;
    }
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    if (msg) bad.set(d.id, msg);
  }
  return bad;
}

/** Disables the controls that do nothing with the current settings, saying why. */
export function updateEnabled(c: Controls, naturalAvailable: boolean): void {
  const sigmoid = c.activation === 'sigmoid';
  const vae = c.data === 'mnist-vae';
  const vaeWhy = 'a VAE’s code is regularized by its own KL term to N(0, I), not by this penalty';
  const why: Record<string, string | null> = {
    patch: c.data === 'mnist' || vae ? 'digits are whole 28 × 28 images' : null,
    whiten: c.data !== 'dropped' ? 'only your own images are whitened here (the photographs already are)' : null,
    latent: !vae ? 'only the variational autoencoder has a latent code z' : null,
    tied: vae ? 'the VAE’s encoder and decoder have their own weights' : null,
    beta: vae ? vaeWhy : !sigmoid ? 'the KL penalty needs sigmoid hidden units' : c.kSparse > 0 ? 'k-sparse replaces the KL penalty' : null,
    rho: vae ? vaeWhy : !sigmoid ? 'the KL penalty needs sigmoid hidden units' : c.kSparse > 0 ? 'k-sparse replaces the KL penalty' : !(c.beta > 0) ? 'β = 0: no sparsity penalty' : null,
    ksparse: vae ? vaeWhy : null,
    level: c.corruption === 'none' ? 'no corruption chosen' : null,
    contractive: vae ? vaeWhy : !sigmoid ? 'the contractive penalty needs sigmoid hidden units' : null,
    batch: c.optimizer === 'lbfgs' ? 'L-BFGS uses all examples in every step' : null,
    lr: c.optimizer === 'lbfgs' ? 'L-BFGS picks each step by a line search' : null,
    'cost-every': c.optimizer === 'lbfgs' ? 'L-BFGS computes J at every iteration' : null,
  };
  for (const [id, reason] of Object.entries(why)) {
    const input = el(id);
    input.disabled = reason !== null;
    const label = input.closest('label');
    if (label) label.title = reason ? `${controlDef(id).help}\nDisabled: ${reason}.` : controlDef(id).help;
  }
  const natural = document.querySelector<HTMLOptionElement>('#data option[value="natural"]');
  if (natural) {
    natural.disabled = !naturalAvailable;
    natural.textContent = naturalAvailable ? 'Natural image patches' : 'Natural image patches (not in this build)';
  }
}

/** Tooltips on every control's label. */
export function addTooltips(): void {
  for (const d of CONTROLS) {
    const label = el(d.id).closest('label');
    if (label) label.title = d.help;
  }
}

/** Reads the URL: the data source's preset first, then every control named in the query (`data` overrides the query's source). */
export function readUrl(search: string, dataOverride?: string): { gemm: string | null } {
  const q = new URLSearchParams(search);
  const data = dataOverride ?? q.get('data');
  if (data && data in PRESETS) {
    setValue('data', data);
    applyPreset(data);
  }
  for (const d of CONTROLS) {
    const v = q.get(d.id);
    if (v !== null && d.id !== 'data') setValue(d.id, v);
  }
  return { gemm: q.get('gemm') };
}

/** Writes the settings that differ from the data source's defaults into the URL (replaceState: no history entries). */
export function writeUrl(extra: Record<string, string | null> = {}): void {
  const q = new URLSearchParams();
  const data = getValue('data');
  const preset = PRESETS[data as Controls['data']] ?? {};
  if (data !== 'mnist') q.set('data', data);
  for (const d of CONTROLS) {
    if (d.id === 'data') continue;
    const v = getValue(d.id);
    if (v !== (preset[d.id] ?? d.default)) q.set(d.id, v);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== null) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', s ? `?${s}` : location.pathname);
}

/** The network the controls describe, for `inputs` input units. */
export function specFor(c: Controls, inputs: number): NetworkSpec {
  if (c.data === 'mnist-vae') {
    // Kingma & Welling's VAE: encoder to (μ, log σ²), decoder from z = μ + σ ⊙ ε, Bernoulli outputs; J = −ELBO.
    const act = c.activation as 'relu';
    const vae: NetworkSpec = {
      layers: [inputs, c.hidden, c.latent, c.hidden, inputs],
      activation: [act, 'identity', act, 'sigmoid'],
      loss: 'cross-entropy',
      lambda: c.lambda,
      vae: { beta: 1, seed: 1 },
    };
    if (c.corruption !== 'none' && c.level > 0) vae.corruption = { kind: c.corruption, level: c.level, seed: 1 };
    return vae;
  }
  const spec: NetworkSpec = {
    layers: [inputs, c.hidden, inputs],
    activation: [c.activation as 'sigmoid', 'sigmoid'],
    loss: 'squared',
    autoencoder: true,
    lambda: c.lambda,
  };
  // k-sparse sets the sparsity itself (KL would be infinite for a unit that never wins).
  if (c.beta > 0 && c.activation === 'sigmoid' && !(c.kSparse > 0)) spec.sparsity = { rho: c.rho, beta: c.beta };
  if (c.corruption !== 'none' && c.level > 0) spec.corruption = { kind: c.corruption, level: c.level, seed: 1 };
  if (c.tied) spec.tied = true;
  if (c.contractive > 0 && c.activation === 'sigmoid') spec.contractive = { weight: c.contractive };
  if (c.kSparse > 0) spec.kSparse = { k: c.kSparse };
  return spec;
}

export function settingsFor(c: Controls): TrainSettings {
  return { method: c.optimizer, learningRate: c.lr, batchSize: c.batch, costEvery: c.costEvery, heldOutEveryMs: 1000 };
}
