// Seeded fuzzing of the inputs a user hands in: model files, training
// configurations and IDX files. Each mutated input must either be refused with
// the format's own error class (FormatError / SpecError), or load as something
// consistent (a model file re-encodes to the very same bytes).
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { FormatError } from '../src/io/safetensors.js';
import { encodeIdx, parseIdx } from '../src/data/idx.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, SpecError } from '../src/spec.js';
import { checkConfig } from '../src/train/config.js';

function headerOf(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

function withHeader(json: string, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, head.length + lengthDelta)), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

const WEIRD: unknown[] = [-1, -8, 0.5, 1e300, '8', null, true, [], {}, [1], [1, 2, 3], 2 ** 53, -0, 'F32'];

function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.int(a.length)]!;
}

/** One mutation of a valid model file; `kind` says which family it came from. */
function mutate(base: Uint8Array, rng: Rng): { kind: string; bytes: Uint8Array } {
  const r = rng.int(10);
  const b = base.slice();
  const { header, data } = headerOf(base);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const headerLen = base.length - data.length;
  switch (r) {
    case 0:
    case 1: {
      // Bit flips anywhere (1–3).
      for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
        const i = rng.int(b.length);
        b[i] = b[i]! ^ (1 << rng.int(8));
      }
      return { kind: 'bitflip', bytes: b };
    }
    case 2: {
      // Bit flip inside the 8-byte length or the JSON header.
      const i = rng.int(headerLen);
      b[i] = b[i]! ^ (1 << rng.int(8));
      return { kind: 'header bitflip', bytes: b };
    }
    case 3:
      return { kind: 'truncation', bytes: base.slice(0, rng.int(base.length)) };
    case 4: {
      // Header length field edits, or bytes appended / inserted.
      const v = rng.int(3);
      if (v === 0) {
        new DataView(b.buffer).setBigUint64(0, BigInt(rng.int(2 ** 31)) * BigInt(1 + rng.int(1000)), true);
        return { kind: 'length', bytes: b };
      }
      if (v === 1) {
        const extra = new Uint8Array(1 + rng.int(16));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        return { kind: 'trailing bytes', bytes: out };
      }
      return { kind: 'length', bytes: withHeader(new TextDecoder().decode(base.subarray(8, headerLen)), data, pick(rng, [-3, -1, 1, 2, 8])) };
    }
    case 5: {
      // Offsets: random values, shifts, swaps, wrong arity.
      const t = header[pick(rng, names)];
      const v = rng.int(5);
      if (v === 0) t.data_offsets[rng.int(2)] = pick(rng, WEIRD);
      else if (v === 1) t.data_offsets = t.data_offsets.map((o: number) => o + pick(rng, [-8, -4, -1, 1, 4, 8]));
      else if (v === 2) t.data_offsets[rng.int(2)] += pick(rng, [-8, -4, 4, 8, 1000]);
      else if (v === 3) t.data_offsets = pick(rng, [[0], [0, 4, 8], 'x', null, { a: 1 }]);
      else {
        const o = header[pick(rng, names)];
        [t.data_offsets, o.data_offsets] = [o.data_offsets, t.data_offsets];
      }
      return { kind: 'offsets', bytes: withHeader(JSON.stringify(header), data) };
    }
    case 6: {
      // Shapes.
      const t = header[pick(rng, names)];
      const v = rng.int(4);
      if (v === 0) t.shape[rng.int(t.shape.length)] += pick(rng, [-1, 1, 2]);
      else if (v === 1) t.shape.push(pick(rng, [1, 2]));
      else if (v === 2) t.shape = t.shape.slice(1);
      else t.shape[rng.int(t.shape.length)] = pick(rng, WEIRD);
      return { kind: 'shape', bytes: withHeader(JSON.stringify(header), data) };
    }
    case 7: {
      // Dtypes, and entries that are not objects.
      const name = pick(rng, names);
      if (rng.int(3) === 0) header[name] = pick(rng, WEIRD);
      else header[name].dtype = pick(rng, ['F64', 'F32', 'F16', 'I32', 'f32', 7, null]);
      return { kind: 'dtype', bytes: withHeader(JSON.stringify(header), data) };
    }
    case 8: {
      // Metadata.
      const md = header.__metadata__ as Record<string, unknown>;
      const v = rng.int(7);
      if (v === 0) header.__metadata__ = pick(rng, WEIRD);
      else if (v === 1) delete md[pick(rng, Object.keys(md))];
      else if (v === 2) md[pick(rng, Object.keys(md))] = pick(rng, WEIRD);
      else if (v === 3) md.extra = 'x';
      else {
        const spec = JSON.parse(md.spec as string);
        const edits: (() => void)[] = [
          () => (spec.lamda = 0.1),
          () => (spec.tied = 'no'),
          () => (spec.layers = [100000, 100000, 100000]),
          () => (spec.layers = [spec.layers[0], spec.layers[1] + 1, spec.layers[2]]),
          () => (spec.activation = 'sigmod'),
          () => (spec.lambda = -1),
          () => (spec.sparsity = { rho: '0.1', beta: 3 }),
          () => (spec.autoencoder = !spec.autoencoder),
          () => (spec.loss = 'cross-entropy'),
        ];
        pick(rng, edits)();
        md.spec = v === 6 ? JSON.stringify(spec, null, 1) : JSON.stringify(spec);
      }
      return { kind: 'metadata', bytes: withHeader(JSON.stringify(header), data) };
    }
    default: {
      // Extra or missing tensors, key order.
      const v = rng.int(3);
      if (v === 0) delete header[pick(rng, names)];
      else if (v === 1) header.W9 = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
      else {
        const entries = Object.entries(header).reverse();
        return { kind: 'tensors', bytes: withHeader(JSON.stringify(Object.fromEntries(entries)), data) };
      }
      return { kind: 'tensors', bytes: withHeader(JSON.stringify(header), data) };
    }
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe('model file fuzzing', () => {
  it('2400 seeded mutations: each is refused with a FormatError or re-encodes to the same bytes', () => {
    const aeNet = resolveSpec({ layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, lambda: 0.001, sparsity: { rho: 0.05, beta: 3 } });
    const tiedNet = resolveSpec({ layers: [5, 3, 5], activation: ['tanh', 'sigmoid'], autoencoder: true, tied: true, corruption: { kind: 'mask', level: 0.25 } });
    const clsNet = resolveSpec({ layers: [4, 3, 2], activation: ['relu', 'softmax'], loss: 'softmax-cross-entropy' });
    const bases = [
      encodeModel(aeNet, initParameters(aeNet, { seed: 1 }), { whiten: { kind: 'zca', epsilon: 0.1 } }, 'F32'),
      encodeModel(tiedNet, initParameters(tiedNet, { seed: 2 }), null, 'F64'),
      encodeModel(clsNet, initParameters(clsNet, { seed: 3 }), null, 'F32'),
    ];
    for (const base of bases) expect(decodeModel(base).theta.length).toBeGreaterThan(0);
    const rng = new Rng(20261202);
    const outcome: Record<string, { loaded: number; refused: number }> = {};
    const t0 = performance.now();
    for (let i = 0; i < 2400; i++) {
      const base = bases[i % bases.length]!;
      const { kind, bytes } = mutate(base, rng);
      const o = (outcome[kind] ??= { loaded: 0, refused: 0 });
      let saved;
      try {
        saved = decodeModel(bytes, 'fuzz.safetensors');
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`mutation ${i} (${kind}) threw ${(e as Error).name}: ${(e as Error).message}`);
        expect((e as Error).message).toMatch(/^fuzz\.safetensors/);
        o.refused++;
        continue;
      }
      const again = [encodeModel(saved.network, saved.theta, saved.preprocessing, 'F32'), encodeModel(saved.network, saved.theta, saved.preprocessing, 'F64')];
      if (!again.some((a) => same(a, bytes))) throw new Error(`mutation ${i} (${kind}) loaded but does not re-encode to the same bytes`);
      o.loaded++;
    }
    // Both outcomes happen (the test can fail both ways), and structural edits are never loaded.
    const total = Object.values(outcome).reduce((a, o) => ({ loaded: a.loaded + o.loaded, refused: a.refused + o.refused }), { loaded: 0, refused: 0 });
    expect(total.loaded).toBeGreaterThan(40);
    expect(total.refused).toBeGreaterThan(1000);
    for (const k of ['truncation', 'offsets', 'shape', 'dtype', 'tensors', 'trailing bytes']) expect(outcome[k]!.loaded, k).toBe(0);
    if (process.env.FUZZ_REPORT) console.log(outcome);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('configuration fuzzing', () => {
  const valid = {
    name: 'fuzz',
    network: { layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true, lambda: 0.001, tied: false, sparsity: { rho: 0.1, beta: 3, layers: [2] }, corruption: { kind: 'mask', level: 0.1 } },
    data: { source: 'mnist', limit: 10, testFraction: 0.1 },
    optimizer: { method: 'adam', epochs: 2, batchSize: 5, learningRate: { type: 'step', lr: 0.01, gamma: 0.5, every: 1 } },
    seed: 3,
    backend: 'cpu',
    checkpointEvery: 5,
    denoisingTest: { kind: 'gaussian', level: 0.2 },
    whiten: { kind: 'zca', epsilon: 0.1 },
  };

  /** Every path to an object in the configuration. */
  function objects(v: unknown, path: string[] = []): string[][] {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
    return [path, ...Object.entries(v).flatMap(([k, x]) => objects(x, [...path, k]))];
  }
  function leaves(v: unknown, path: string[] = []): string[][] {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return [path];
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  }
  const at = (o: any, p: string[]): any => p.reduce((x, k) => x[k], o);

  it('an unknown key or a value of the wrong type at any level is refused, naming its path', () => {
    expect(() => checkConfig(structuredClone(valid))).not.toThrow();
    const rng = new Rng(7);
    const typos = (k: string): string[] => [`${k}x`, k.slice(1), k.toLowerCase() === k ? `${k[0]!.toUpperCase()}${k.slice(1)}` : k.toLowerCase(), `${k.slice(0, -1)}`];
    let n = 0;
    for (const p of objects(valid)) {
      for (const key of [...Object.keys(at(valid, p)), 'foo']) {
        for (const typo of key === 'foo' ? ['foo'] : typos(key)) {
          if (Object.hasOwn(at(valid, p), typo)) continue;
          const c = structuredClone(valid) as any;
          at(c, p)[typo] = at(c, p)[key] ?? 1;
          const where = [...p, typo].join('.');
          expect(() => checkConfig(c), where).toThrow(SpecError);
          expect(() => checkConfig(c), where).toThrow(new RegExp(`${where.replace(/[.[\]]/g, '\\$&')} (is not a known key|does not apply)`));
          n++;
        }
      }
    }
    const wrong = (v: unknown): unknown[] => (typeof v === 'number' ? [String(v), true, null, [v]] : typeof v === 'boolean' ? ['no', 'yes', 0, 1] : typeof v === 'string' ? [1, true, [v]] : ['x', 3]);
    for (const p of leaves(valid)) {
      const v = at(valid, p);
      for (const w of wrong(v)) {
        const c = structuredClone(valid) as any;
        at(c, p.slice(0, -1))[p[p.length - 1]!] = w;
        expect(() => checkConfig(c), `${p.join('.')} = ${JSON.stringify(w)}`).toThrow(SpecError);
        n++;
      }
    }
    // Random JSON-ish values at random places: refused with a SpecError or accepted, never anything else.
    for (let i = 0; i < 300; i++) {
      const c = structuredClone(valid) as any;
      const p = pick(rng, leaves(valid));
      at(c, p.slice(0, -1))[p[p.length - 1]!] = pick(rng, [...WEIRD, 'sigmoid', 'lbfgs', 'cpu', 1, 2, 0.1]);
      try {
        checkConfig(c);
      } catch (e) {
        expect(e, p.join('.')).toBeInstanceOf(SpecError);
      }
      n++;
    }
    expect(n).toBeGreaterThan(400);
  });
});

describe('IDX fuzzing', () => {
  it('2000 mutations of an IDX file: refused with a SpecError naming the file, or parsed consistently', () => {
    const base = encodeIdx([3, 4, 5], Array.from({ length: 60 }, (_, i) => i));
    const rng = new Rng(11);
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      let b = base.slice();
      const r = rng.int(3);
      if (r === 0) b[rng.int(b.length)] ^= 1 << rng.int(8);
      else if (r === 1) b = b.slice(0, rng.int(b.length));
      else new DataView(b.buffer).setUint32(4 + 4 * rng.int(3), rng.nextU32(), false);
      try {
        const idx = parseIdx(b, 'fuzz-idx');
        expect(idx.data.length).toBe(idx.dims.reduce((a, d) => a * d, 1));
        parsed++;
      } catch (e) {
        expect(e).toBeInstanceOf(SpecError);
        expect((e as Error).message).toMatch(/^fuzz-idx/);
      }
    }
    expect(parsed).toBeGreaterThan(100);
  });
});
