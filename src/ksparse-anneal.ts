// k-sparse annealing (Makhzani & Frey, k-Sparse Autoencoders, ICLR 2014,
// "scheduling of the sparsity level"): with a small k from the start, the
// units that win the first top-k slots keep winning and the rest never get a
// gradient (dead units). Training therefore starts with k = from and lowers k
// linearly to its target over the first `epochs` epochs:
//
//   k(e) = round(from + (k − from)·min(1, e / epochs)),
//
// e = epochs of training done before the evaluation (examples presented / m,
// fractional within an epoch). k(0) = from, k(e) = k for e ≥ epochs, and k(e)
// never increases. The optimizers report e through Objective.setProgress; both
// backends' objectives evaluate with k(e). Inference and export use k.

import { networkToSpec, resolveSpec, SpecError, type Network } from './spec.js';

/** The k of a training evaluation after `epochs` epochs of training (the final k without annealing). */
export function kSparseAt(ks: NonNullable<Network['kSparse']>, epochs: number): number {
  const a = ks.anneal;
  if (!a) return ks.k;
  if (!(typeof epochs === 'number' && epochs >= 0 && epochs < Infinity)) throw new SpecError(`training progress must be a finite number of epochs ≥ 0, got ${epochs}`);
  return Math.round(a.from + (ks.k - a.from) * Math.min(1, epochs / a.epochs));
}

/** The schedule in words (for errors and logs), or null when `net` does not anneal k. */
export function describeAnneal(net: Network): string | null {
  const ks = net.kSparse;
  return ks?.anneal ? `kSparse k annealed from ${ks.anneal.from} to ${ks.k} over ${ks.anneal.epochs} epoch${ks.anneal.epochs === 1 ? '' : 's'}` : null;
}

/**
 * `net` with a fixed k in place of its schedule (and final k): the network a
 * training evaluation at k computes, for the CPU reference. Cached per network and k.
 */
export function networkWithK(net: Network, k: number): Network {
  if (!net.kSparse) throw new SpecError('networkWithK needs a k-sparse network');
  if (!net.kSparse.anneal && k === net.kSparse.k) return net;
  let byK = CACHE.get(net);
  if (!byK) CACHE.set(net, (byK = new Map()));
  let out = byK.get(k);
  if (!out) {
    const spec = networkToSpec(net);
    out = resolveSpec({ ...spec, kSparse: { k, layers: spec.kSparse!.layers } });
    byK.set(k, out);
  }
  return out;
}

const CACHE = new WeakMap<Network, Map<number, Network>>();
