import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, modelJson } from '../src/io/model-file.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { initParameters } from '../src/params.js';
import { resolveSpec } from '../src/spec.js';

describe('safetensors', () => {
  it('round-trips F32 and F64 tensors with metadata, data 8-byte aligned', () => {
    const bytes = encodeSafetensors(
      { a: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, b: { dtype: 'F64', shape: [1], data: Float64Array.from([Math.PI]) } },
      { note: 'x' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.a!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensors.a!.shape).toEqual([2, 3]);
    expect(tensors.b!.data[0]).toBe(Math.PI);
    expect(metadata).toEqual({ note: 'x' });
  });

  it('rejects truncated and corrupt files with a message naming the file', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 3), 'm.safetensors')).toThrow(/m\.safetensors: tensor a/);
    expect(() => decodeSafetensors(bytes.subarray(0, 5), 'm.safetensors')).toThrow(/too short/);
    const bad = bytes.slice();
    bad[8] = 0x7b + 1;
    expect(() => decodeSafetensors(bad, 'm.safetensors')).toThrow(/not valid JSON/);
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => decodeSafetensors(huge, 'm.safetensors')).toThrow(/does not fit/);
  });
});

describe('model file', () => {
  it('round-trips the spec, θ and preprocessing', () => {
    const net = resolveSpec({ layers: [5, 3, 5], activation: ['sigmoid', { name: 'prelu', alpha: 0.1 }], autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.05, beta: 3 } });
    const theta = initParameters(net, { seed: 3 });
    const back = decodeModel(encodeModel(net, theta, { whitening: 'none' }, 'F64'));
    expect(Array.from(back.theta)).toEqual(Array.from(theta));
    expect(back.network.layers).toEqual([5, 3, 5]);
    expect(back.network.activations[1]).toEqual({ name: 'prelu', alpha: 0.1 });
    expect(back.network.sparsity).toEqual({ rho: 0.05, beta: 3, onLayer: [true, false] });
    expect(back.preprocessing).toEqual({ whitening: 'none' });
    const f32 = decodeModel(encodeModel(net, theta));
    expect(f32.theta[0]).toBe(Math.fround(theta[0]!));
  });

  it('rejects a file whose tensors do not match its spec', () => {
    const net = resolveSpec({ layers: [4, 2], activation: 'sigmoid' });
    const bytes = encodeSafetensors({ W1: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) }, b1: { dtype: 'F32', shape: [2], data: new Float32Array(2) } }, {
      format: 'webgpu-nn/1',
      spec: JSON.stringify({ layers: [4, 2], activation: 'sigmoid' }),
    });
    void net;
    expect(() => decodeModel(bytes, 'x.safetensors')).toThrow(/W1 should have shape \[2,4\], found \[2,3\]/);
    expect(() => decodeModel(encodeSafetensors({}, { format: 'other' }), 'x.safetensors')).toThrow(/not a webgpu-nn\/1 model/);
  });
});

describe('model file of the autoencoder options', () => {
  it('a tied autoencoder stores W1, b1, b2 (no W2); the options survive the round trip', () => {
    const net = resolveSpec({
      layers: [6, 3, 6], activation: 'sigmoid', autoencoder: true, tied: true,
      corruption: { kind: 'salt-pepper', level: 0.2, low: -1, high: 2, seed: 5 }, contractive: { weight: 0.1 },
    });
    const theta = initParameters(net, { seed: 4 });
    const bytes = encodeModel(net, theta, null, 'F64');
    expect(Object.keys(decodeSafetensors(bytes).tensors).sort()).toEqual(['W1', 'b1', 'b2']);
    const back = decodeModel(bytes);
    expect(Array.from(back.theta)).toEqual(Array.from(theta));
    expect(back.network.tied).toBe(true);
    expect(back.network.corruption).toEqual({ kind: 'salt-pepper', level: 0.2, low: -1, high: 2, seed: 5 });
    expect(back.network.contractive).toEqual({ weight: 0.1 });
    expect(modelJson(net).layout).toBe('W1 [3×6], b1 [3], b2 [6] (W2 = W1ᵀ); row-major');
    const ks = resolveSpec({ layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, kSparse: { k: 2 } });
    expect(decodeModel(encodeModel(ks, initParameters(ks))).network.kSparse).toEqual({ k: 2, onLayer: [true, false] });
  });
});
