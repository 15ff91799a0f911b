// The model file: θ as safetensors, one tensor per W(l) and b(l) ("W1", "b1",
// "W2", …; W(l) has shape [n_{l+1}, n_l], row-major as in params.ts), with the
// network spec and any preprocessing (whitening, normalization) as JSON in the
// safetensors metadata. Browser-safe: bytes in, bytes out.

import { paramLayout, type LayerSlot } from '../params.js';
import { networkToSpec, resolveSpec, type Network, type NetworkSpec } from '../spec.js';
import { checkParameterCount } from '../limits.js';
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
 * Decodes a model file, refusing with a FormatError that names the file (and
 * the tensor) anything that is not exactly a model encodeModel writes: a
 * malformed safetensors container (decodeSafetensors), metadata other than
 * format, spec and preprocessing, a spec that is invalid or too large to
 * allocate (checked before θ is), tensors missing, extra, of the wrong shape
 * or of mixed dtypes, non-finite parameters, and any other difference from
 * encodeModel's bytes for the decoded model (header layout, key order,
 * number formatting). So a file either loads as the model it was written
 * from, or is refused. Also accepts a PyTorch state_dict (model.py's names,
 * see io/state-dict.ts) whose spec is in its metadata or `opts.spec`.
 */
export function decodeModel(bytes: Uint8Array, name = 'model file', opts: { spec?: NetworkSpec } = {}): SavedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata.format !== MODEL_FORMAT && isStateDict(tensors)) return stateDictToModel(tensors, metadata, name, opts.spec);
  if (metadata.format !== MODEL_FORMAT) throw new FormatError(`${name} is not a ${MODEL_FORMAT} model (format ${JSON.stringify(metadata.format)})`);
  const extra = Object.keys(metadata).find((k) => k !== 'format' && k !== 'spec' && k !== 'preprocessing');
  if (extra !== undefined) throw new FormatError(`${name}: unknown metadata key ${JSON.stringify(extra)} (expected format, spec, preprocessing)`);
  let spec: NetworkSpec;
  let preprocessing: unknown;
  try {
    spec = JSON.parse(metadata.spec ?? 'null');
    preprocessing = JSON.parse(metadata.preprocessing ?? 'null');
  } catch (e) {
    throw new FormatError(`${name}: metadata is not valid JSON (${(e as Error).message})`);
  }
  let network: Network;
  try {
    network = resolveSpec(spec, 'spec');
    checkParameterCount(network);
  } catch (e) {
    throw new FormatError(`${name}: the network spec in its metadata is invalid: ${(e as Error).message}`);
  }
  const layout = paramLayout(network);
  const expected = new Set<string>();
  const dtypes = new Set(Object.values(tensors).map((t) => t.dtype));
  if (dtypes.size > 1) throw new FormatError(`${name}: tensors mix dtypes ${[...dtypes].join(' and ')}`);
  const theta = new Float64Array(layout.size);
  layout.slots.forEach((s, k) => {
    for (const { name: key, offset, shape } of slotTensors(s, k)) {
      const t = Object.hasOwn(tensors, key) ? tensors[key] : undefined;
      if (!t || t.shape.join() !== shape.join()) {
        throw new FormatError(`${name}: tensor ${key} should have shape [${shape}], found ${t ? `[${t.shape}]` : 'none'}`);
      }
      expected.add(key);
      theta.set(t.data, offset);
    }
  });
  const unknown = Object.keys(tensors).find((k) => !expected.has(k));
  if (unknown !== undefined) throw new FormatError(`${name}: tensor ${JSON.stringify(unknown)} is not part of network [${network.layers.join(', ')}]`);
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i]!)) throw new FormatError(`${name}: parameter ${i} is ${theta[i]}`);
  }
  const dtype = dtypes.values().next().value ?? 'F32';
  const again = encodeModel(network, theta, preprocessing, dtype);
  if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
    throw new FormatError(`${name}: not laid out as a ${MODEL_FORMAT} file (its header or metadata differ from what encodeModel writes for this model; edited by hand?)`);
  }
  return { network, theta, preprocessing };
}
