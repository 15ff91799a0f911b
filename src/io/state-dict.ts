// Importing a PyTorch state_dict saved as safetensors with the parameter names of
// the exported model.py (src/export/python/model.py): "layers.K.weight" [n_{K+2},
// n_{K+1}] and "layers.K.bias" [n_{K+2}] for weight layer K = 0 … L−2 (the notes'
// W(K+1), b(K+1)); tied decoder layers have a bias only. A VAE's head pair (weight
// layer K = c−1 into the latent layer) is "mu.weight", "logvar.weight" [d, n_c] and
// "mu.bias", "logvar.bias" [d] instead of layers.K.*. The network spec comes
// from the file's metadata ("spec", as model.py's save and
// safetensors.torch.save_file(..., metadata={"spec": …}) write it) or from the
// caller. Browser-safe.

import { paramLayout } from '../params.js';
import { resolveSpec, type NetworkSpec } from '../spec.js';
import { FormatError, type Tensor } from './safetensors.js';

/** True when the tensors look like model.py's state_dict (layers.K.weight / layers.K.bias). */
export function isStateDict(tensors: Record<string, Tensor>): boolean {
  const keys = Object.keys(tensors);
  return keys.length > 0 && keys.every((k) => /^(module\.)?(layers\.\d+|mu|logvar)\.(weight|bias)$/.test(k));
}

/** θ (params.ts order) and the network of a state_dict; `spec` overrides the metadata's. */
export function stateDictToModel(tensors: Record<string, Tensor>, metadata: Record<string, string>, name: string, spec?: NetworkSpec): { network: ReturnType<typeof resolveSpec>; theta: Float64Array; preprocessing: unknown } {
  let s: NetworkSpec | undefined = spec;
  if (!s) {
    if (metadata.spec === undefined) throw new FormatError(`${name} is a state_dict without a "spec" in its metadata: give the network spec (wgnn import --spec SPEC.json)`);
    try {
      s = JSON.parse(metadata.spec);
    } catch (e) {
      throw new FormatError(`${name}: metadata spec is not valid JSON (${(e as Error).message})`);
    }
  }
  let preprocessing: unknown = null;
  if (metadata.preprocessing !== undefined) {
    try {
      preprocessing = JSON.parse(metadata.preprocessing);
    } catch (e) {
      throw new FormatError(`${name}: metadata preprocessing is not valid JSON (${(e as Error).message})`);
    }
  }
  const network = resolveSpec(s!);
  const layout = paramLayout(network);
  // DistributedDataParallel's state_dict prefixes every name with "module.".
  const get = (key: string): Tensor | undefined => tensors[key] ?? tensors[`module.${key}`];
  const expected = new Set<string>();
  const theta = new Float64Array(layout.size);
  layout.slots.forEach((slot, k) => {
    const entries: [string, number, number[]][] = [];
    if (slot.heads === 2) {
      // θ's head slot: W_mu, W_logvar (d × nIn each), then b_mu, b_logvar (params.ts).
      const d = slot.nOut / 2;
      entries.push(['mu.weight', slot.w, [d, slot.nIn]], ['logvar.weight', slot.w + d * slot.nIn, [d, slot.nIn]], ['mu.bias', slot.b, [d]], ['logvar.bias', slot.b + d, [d]]);
    } else if (!slot.transposed) entries.push([`layers.${k}.weight`, slot.w, [slot.nOut, slot.nIn]]);
    if (slot.heads === 1) entries.push([`layers.${k}.bias`, slot.b, [slot.nOut]]);
    for (const [key, off, shape] of entries) {
      expected.add(key);
      const t = get(key);
      if (!t || t.shape.join() !== shape.join()) {
        throw new FormatError(`${name}: tensor ${key} should have shape [${shape}] for layers [${network.layers}], found ${t ? `[${t.shape}]` : 'none'}`);
      }
      theta.set(t.data, off);
    }
  });
  for (const key of Object.keys(tensors)) {
    if (!expected.has(key.replace(/^module\./, ''))) throw new FormatError(`${name}: tensor ${key} does not belong to a network with layers [${network.layers}]${network.tied ? ' and tied weights (decoders store biases only)' : ''}`);
  }
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i]!)) throw new FormatError(`${name}: parameter ${i} is ${theta[i]}`);
  }
  return { network, theta, preprocessing };
}
