// decodeModel / stateDictToModel: a PyTorch state_dict (model.py's names) as safetensors.
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../src/io/model-file.js';
import { encodeSafetensors, type Tensor } from '../src/io/safetensors.js';
import { isStateDict } from '../src/io/state-dict.js';
import { initParameters, layerViews, paramLayout } from '../src/params.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';

const SPEC: NetworkSpec = { layers: [5, 3, 2, 3, 5], activation: 'sigmoid', autoencoder: true, tied: true };

function stateDict(prefix = ''): Record<string, Tensor> {
  const net = resolveSpec(SPEC);
  const layout = paramLayout(net);
  const theta = initParameters(net, { seed: 4 });
  const views = layerViews(layout, theta);
  const t: Record<string, Tensor> = {};
  layout.slots.forEach((s, k) => {
    if (!s.transposed) t[`${prefix}layers.${k}.weight`] = { dtype: 'F64', shape: [s.nOut, s.nIn], data: Float64Array.from(views[k]!.W) };
    t[`${prefix}layers.${k}.bias`] = { dtype: 'F64', shape: [s.nOut], data: Float64Array.from(views[k]!.b).map((_, j) => j + k / 10) };
  });
  return t;
}

describe('state_dict import', () => {
  it('reads θ in params.ts order from layers.K.weight / layers.K.bias, tied decoders with biases only', () => {
    const t = stateDict();
    expect(isStateDict(t)).toBe(true);
    expect(Object.keys(t)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.bias', 'layers.3.bias']);
    const saved = decodeModel(encodeSafetensors(t, { spec: JSON.stringify(SPEC), preprocessing: '{"x":1}' }), 'sd');
    const layout = paramLayout(saved.network);
    const views = layerViews(layout, saved.theta);
    expect(Array.from(views[0]!.W)).toEqual(Array.from(t['layers.0.weight']!.data));
    expect(Array.from(views[3]!.b)).toEqual(Array.from(t['layers.3.bias']!.data));
    expect(Array.from(views[3]!.W)).toEqual(Array.from(views[0]!.W.map((_, i) => views[0]!.W[(i % 3) * 5 + Math.floor(i / 3)]!)));
    expect(saved.preprocessing).toEqual({ x: 1 });
  });

  it('accepts DDP "module." prefixes and a spec from the caller', () => {
    const t = stateDict('module.');
    const a = decodeModel(encodeSafetensors(t), 'ddp', { spec: SPEC });
    const b = decodeModel(encodeSafetensors(stateDict(), { spec: JSON.stringify(SPEC) }), 'sd');
    expect(Array.from(a.theta)).toEqual(Array.from(b.theta));
  });

  it('names what is wrong: no spec, a missing or misshapen tensor, a tensor that does not belong', () => {
    expect(() => decodeModel(encodeSafetensors(stateDict()), 'sd.safetensors')).toThrow(/sd\.safetensors is a state_dict without a "spec".*--spec/);
    const missing = stateDict();
    delete missing['layers.2.bias'];
    expect(() => decodeModel(encodeSafetensors(missing), 'sd', { spec: SPEC })).toThrow(/tensor layers\.2\.bias should have shape \[3\].*found none/);
    const extra = { ...stateDict(), 'layers.2.weight': { dtype: 'F64', shape: [3, 2], data: new Float64Array(6) } as Tensor };
    expect(() => decodeModel(encodeSafetensors(extra), 'sd', { spec: SPEC })).toThrow(/tensor layers\.2\.weight does not belong.*tied weights/);
    expect(() => decodeModel(encodeSafetensors(stateDict()), 'sd', { spec: { ...SPEC, layers: [5, 4, 2, 4, 5] } })).toThrow(/layers\.0\.weight should have shape \[4,5\]/);
    const nan = stateDict();
    nan['layers.0.bias']!.data[1] = NaN;
    expect(() => decodeModel(encodeSafetensors(nan), 'sd', { spec: SPEC })).toThrow(/parameter \d+ is NaN/);
    // Not a state_dict and not a model file: the model-file error.
    expect(() => decodeModel(encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), 'other')).toThrow(/other is not a webgpu-nn\/1 model/);
  });

  it('a VAE: the heads as mu.weight, logvar.weight [d, n], mu.bias, logvar.bias [d] in θ order W_mu, W_logvar, b_mu, b_logvar', () => {
    const spec: NetworkSpec = { layers: [5, 4, 2, 4, 5], activation: ['tanh', 'identity', 'tanh', 'sigmoid'], loss: 'cross-entropy', vae: { beta: 0.5 } };
    const net = resolveSpec(spec);
    const layout = paramLayout(net);
    const theta = initParameters(net, { seed: 9 }).map((v, i) => v + i / 1000);
    const views = layerViews(layout, theta);
    const W = (k: number, r0: number, r1: number) => ({ dtype: 'F64', shape: [r1 - r0, layout.slots[k]!.nIn], data: views[k]!.W.slice(r0 * layout.slots[k]!.nIn, r1 * layout.slots[k]!.nIn) }) as Tensor;
    const b = (k: number, r0: number, r1: number) => ({ dtype: 'F64', shape: [r1 - r0], data: views[k]!.b.slice(r0, r1) }) as Tensor;
    const t: Record<string, Tensor> = {
      'layers.0.weight': W(0, 0, 4), 'layers.0.bias': b(0, 0, 4),
      'mu.weight': W(1, 0, 2), 'mu.bias': b(1, 0, 2), 'logvar.weight': W(1, 2, 4), 'logvar.bias': b(1, 2, 4),
      'layers.2.weight': W(2, 0, 4), 'layers.2.bias': b(2, 0, 4), 'layers.3.weight': W(3, 0, 5), 'layers.3.bias': b(3, 0, 5),
    };
    expect(isStateDict(t)).toBe(true);
    const saved = decodeModel(encodeSafetensors(t, { spec: JSON.stringify(spec) }), 'vae');
    expect(saved.network.vae).toEqual({ beta: 0.5, seed: 1, latent: 2 });
    expect(Array.from(saved.theta)).toEqual(Array.from(theta));
    // DDP prefixes, and the names of what is wrong.
    const ddp = Object.fromEntries(Object.entries(t).map(([k, v]) => [`module.${k}`, v]));
    expect(Array.from(decodeModel(encodeSafetensors(ddp), 'ddp', { spec }).theta)).toEqual(Array.from(theta));
    const { ['logvar.bias']: _, ...missing } = t;
    expect(() => decodeModel(encodeSafetensors(missing), 'sd', { spec })).toThrow(/tensor logvar\.bias should have shape \[2\].*found none/);
    expect(() => decodeModel(encodeSafetensors({ ...t, 'layers.1.weight': W(1, 0, 4) }), 'sd', { spec })).toThrow(/tensor layers\.1\.weight does not belong/);
    expect(() => decodeModel(encodeSafetensors({ ...t, 'mu.weight': W(1, 0, 4) }), 'sd', { spec })).toThrow(/tensor mu\.weight should have shape \[2,4\].*found \[4,4\]/);
  });
});
