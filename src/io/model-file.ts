// The model file: θ as safetensors, one tensor per W(l) and b(l) ("W1", "b1",
// "W2", …; W(l) has shape [n_{l+1}, n_l], row-major as in params.ts), with the
// network spec and any preprocessing (whitening, normalization) as JSON in the
// safetensors metadata. Browser-safe: bytes in, bytes out.

import { paramLayout, type LayerSlot } from '../params.js';
import { networkToSpec, resolveSpec, type Network, type NetworkSpec } from '../spec.js';
import { decodeSafetensors, encodeSafetensors, FormatError, type Tensor } from './safetensors.js';
import { isStateDict, stateDictToModel } from './state-dict.js';

export const MODEL_FORMAT = 'webgpu-nn/1';

export interface SavedModel {
  network: Network;
  theta: Float64Array;
  /** Anything JSON the trainer needs to apply the model to new data (e.g. whitening). */
  preprocessing: unknown;
}

export function encodeModel(net: Network, theta: ArrayLike<number>, preprocessing: unknown = null, dtype: 'F32' | 'F64' = 'F32'): Uint8Array {
  const layout = paramLayout(net);
  if (theta.length !== layout.size) throw new FormatError(`θ has ${theta.length} values but the network needs ${layout.size}`);
  const Arr = dtype === 'F32' ? Float32Array : Float64Array;
  const tensors: Record<string, Tensor> = {};
  layout.slots.forEach((s, k) => {
    const slice = (off: number, n: number): Float32Array | Float64Array => {
      const out = new Arr(n);
      for (let i = 0; i < n; i++) out[i] = theta[off + i]!;
      return out;
    };
    // A VAE's encoder head is two tensors each: W<l>_mu, W<l>_logvar [d, n], b<l>_mu, b<l>_logvar [d].
    for (const t of slotTensors(s, k)) tensors[t.name] = { dtype, shape: t.shape, data: slice(t.offset, t.shape.reduce((a, b) => a * b, 1)) };
  });
  return encodeSafetensors(tensors, {
    format: MODEL_FORMAT,
    spec: JSON.stringify(networkToSpec(net)),
    preprocessing: JSON.stringify(preprocessing ?? null),
  });
}

/**
 * The tensors of one θ slot: W<l> [nOut, nIn] (absent for a tied decoder, whose W(l)
 * is a mirror encoder W transposed) and b<l> [nOut]; a VAE head (heads = 2, d = nOut/2)
 * is W<l>_mu, W<l>_logvar [d, nIn], b<l>_mu, b<l>_logvar [d], at θ offsets w, w + d·nIn, b, b + d.
 */
export function slotTensors(s: LayerSlot, k: number): { name: string; offset: number; shape: number[] }[] {
  const l = k + 1;
  if (s.heads === 2) {
    const d = s.nOut / 2;
    return [
      { name: `W${l}_mu`, offset: s.w, shape: [d, s.nIn] },
      { name: `W${l}_logvar`, offset: s.w + d * s.nIn, shape: [d, s.nIn] },
      { name: `b${l}_mu`, offset: s.b, shape: [d] },
      { name: `b${l}_logvar`, offset: s.b + d, shape: [d] },
    ];
  }
  const b = { name: `b${l}`, offset: s.b, shape: [s.nOut] };
  return s.transposed ? [b] : [{ name: `W${l}`, offset: s.w, shape: [s.nOut, s.nIn] }, b];
}

/** model.json: the format, the spec, θ's layout in words (tied decoders store biases only) and any preprocessing. */
export function modelJson(net: Network, preprocessing: unknown = null): Record<string, unknown> {
  const parts = paramLayout(net).slots.map((s, k) =>
    s.transposed ? `b${k + 1} [${s.nOut}] (W${k + 1} = W${net.layers.length - 1 - k}ᵀ)` : slotTensors(s, k).map((t) => `${t.name} [${t.shape.join('×')}]`).join(', '),
  );
  return { format: MODEL_FORMAT, spec: networkToSpec(net), layout: `${parts.join(', ')}; row-major`, preprocessing: preprocessing ?? null };
}

/**
 * θ, network and preprocessing of a model file; also accepts a PyTorch state_dict
 * (model.py's names, see io/state-dict.ts) whose spec is in its metadata or `opts.spec`.
 */
export function decodeModel(bytes: Uint8Array, name = 'model file', opts: { spec?: NetworkSpec } = {}): SavedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata.format !== MODEL_FORMAT && isStateDict(tensors)) return stateDictToModel(tensors, metadata, name, opts.spec);
  if (metadata.format !== MODEL_FORMAT) throw new FormatError(`${name} is not a ${MODEL_FORMAT} model (format ${JSON.stringify(metadata.format)})`);
  let spec: NetworkSpec;
  let preprocessing: unknown;
  try {
    spec = JSON.parse(metadata.spec ?? 'null');
    preprocessing = JSON.parse(metadata.preprocessing ?? 'null');
  } catch (e) {
    throw new FormatError(`${name}: metadata is not valid JSON (${(e as Error).message})`);
  }
  const network = resolveSpec(spec);
  const layout = paramLayout(network);
  const theta = new Float64Array(layout.size);
  layout.slots.forEach((s, k) => {
    for (const { name: key, offset, shape } of slotTensors(s, k)) {
      const t = tensors[key];
      if (!t || t.shape.join() !== shape.join()) {
        throw new FormatError(`${name}: tensor ${key} should have shape [${shape}], found ${t ? `[${t.shape}]` : 'none'}`);
      }
      theta.set(t.data, offset);
    }
  });
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i]!)) throw new FormatError(`${name}: parameter ${i} is ${theta[i]}`);
  }
  return { network, theta, preprocessing };
}
