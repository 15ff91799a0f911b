// Size limits checked from the spec alone, before θ or any buffer is
// allocated: a network too large to hold is refused at once, naming its
// largest layer and the limit, instead of failing (or swapping) part-way
// through an allocation.

import { paramLayout } from './params.js';
import { SpecError, type Network } from './spec.js';

/**
 * Most parameters a model may have: 2²⁸ (θ alone is 2 GiB in float64; ∇θ and
 * an optimizer's vectors are as large again each).
 */
export const MAX_PARAMETERS = 2 ** 28;

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** The weight layer with the most weights: "W1 (layers 1 → 2, 200000 × 784 = 156,800,000 weights)". */
export function largestLayer(net: Network): string {
  const slots = paramLayout(net).slots;
  let k = 0;
  slots.forEach((s, i) => {
    if (s.nOut * s.nIn > slots[k]!.nOut * slots[k]!.nIn) k = i;
  });
  const s = slots[k]!;
  return `W${k + 1} (layer ${k + 1} → ${k + 2}, ${s.nOut} × ${s.nIn} = ${fmt(s.nOut * s.nIn)} weights)`;
}

/** Throws SpecError when θ would exceed MAX_PARAMETERS (paramLayout allocates nothing of θ's size). */
export function checkParameterCount(net: Network): number {
  const size = paramLayout(net).size;
  if (size > MAX_PARAMETERS) {
    throw new SpecError(`network [${net.layers.join(', ')}] has ${fmt(size)} parameters, over the limit of ${fmt(MAX_PARAMETERS)} (2²⁸); the largest layer is ${largestLayer(net)}`);
  }
  return size;
}

/** The device limits a model's buffers must respect. */
export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/**
 * The WebGPU backend keeps θ, ∇θ, each weight matrix's slice and one example's
 * activations of every layer in f32 storage bindings: each must fit one
 * binding (data sets are split into chunks of rows, so one row is the least a
 * plan needs). Throws SpecError naming the buffer, the layer and the limit.
 */
export function checkGpuLimits(net: Network, limits: BufferLimits): void {
  const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const thetaBytes = paramLayout(net).size * 4;
  const over = (what: string, bytes: number): SpecError =>
    new SpecError(`${what} needs ${fmt(bytes)} bytes (f32), over this device's storage binding limit of ${fmt(max)} bytes`);
  net.layers.forEach((n, l) => {
    if (n * 4 > max) throw over(`one example's activations of layer ${l + 1} (${fmt(n)} units)`, n * 4);
  });
  if (thetaBytes > max) throw over(`θ of network [${net.layers.join(', ')}] (largest layer ${largestLayer(net)})`, thetaBytes);
}
