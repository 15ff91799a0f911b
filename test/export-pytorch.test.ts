// PyTorch export: the exported model.py's cost and autograd gradient equal the
// engine's float64 CPU reference to 1e-10 for every loss, regularizer and option;
// model files and state_dicts round-trip between the two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuCost, cpuPredict } from '../src/cpu/network.js';
import { corruptMatrix, normalMatrix } from '../src/noise.js';
import { cpuVaeDecode, cpuVaeEncode } from '../src/cpu/vae.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { oneHot } from '../src/data/labels.js';
import { parseCsv } from '../src/data/csv.js';
import { gzipSync } from 'node:zlib';
import { encodeIdx, imagesToMatrix } from '../src/data/idx.js';
import { loadIdxImages } from '../src/data/idx-node.js';
import { applyWhitening, fitPCA, whiteningFromJSON, whiteningToJSON } from '../src/data/whitening.js';
import { main } from '../src/cli/main.js';
import { float64Bytes } from '../src/cli/io.js';
import { runPython, torchPython } from './helpers/torch.js';

const HERE = new URL('.', import.meta.url).pathname;

interface Case {
  name: string;
  spec: NetworkSpec;
  /** Corrupt the input with this noise seed (denoising specs). */
  corruptSeed?: number;
}

const CASES: Case[] = [
  { name: 'squared loss, sigmoid, weight decay', spec: { layers: [5, 4, 3], activation: 'sigmoid', lambda: 0.01 } },
  { name: 'cross-entropy (sigmoid output), tanh hidden', spec: { layers: [5, 6, 3], activation: ['tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 0.003 } },
  { name: 'softmax cross-entropy, relu hidden', spec: { layers: [5, 6, 4], activation: ['relu', 'softmax'], loss: 'softmax-cross-entropy', lambda: 0.02 } },
  { name: 'sparse autoencoder (KL on ρ̂ of the batch)', spec: { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, sparsity: { rho: 0.1, beta: 3 }, lambda: 1e-3 } },
  { name: 'L1 activation penalty, softplus hidden', spec: { layers: [6, 5, 6], activation: ['softplus', 'identity'], autoencoder: true, l1: { weight: 0.05 } } },
  { name: 'contractive autoencoder', spec: { layers: [6, 4, 6], activation: ['sigmoid', 'identity'], autoencoder: true, contractive: { weight: 0.2 }, lambda: 1e-3 } },
  { name: 'tied weights', spec: { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, tied: true, lambda: 0.01 } },
  { name: 'k-sparse, tied', spec: { layers: [8, 6, 8], activation: ['relu', 'identity'], autoencoder: true, tied: true, kSparse: { k: 3 } } },
  { name: 'denoising: mask', spec: { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, corruption: { kind: 'mask', level: 0.3 } }, corruptSeed: 12345 },
  { name: 'denoising: gaussian', spec: { layers: [6, 4, 6], activation: ['elu', 'identity'], autoencoder: true, corruption: { kind: 'gaussian', level: 0.4 } }, corruptSeed: 777 },
  { name: 'denoising: salt-pepper, cross-entropy', spec: { layers: [6, 4, 6], activation: 'sigmoid', loss: 'cross-entropy', autoencoder: true, corruption: { kind: 'salt-pepper', level: 0.25, low: -0.5, high: 1.5 } }, corruptSeed: 99 },
  {
    name: 'deeper tied stack: elu, prelu, hardtanh, softsign; sparsity, L1, k-sparse on separate layers',
    spec: {
      layers: [6, 5, 3, 5, 6],
      activation: ['sigmoid', { name: 'prelu', alpha: 0.2 }, { name: 'elu', alpha: 0.7 }, 'softsign'],
      autoencoder: true,
      tied: true,
      lambda: 0.004,
      sparsity: { rho: 0.2, beta: 0.5, layers: [2] },
      l1: { weight: 0.03, layers: [4] },
      kSparse: { k: 2, layers: [3] },
    },
  },
  { name: 'hardtanh and tanh, 3 weight layers, targets', spec: { layers: [4, 7, 5, 3], activation: ['hardtanh', 'tanh', 'identity'], lambda: 0.001 } },
];

const M = 12;

function randomMatrix(rng: Rng, rows: number, cols: number, lo: number, hi: number): Matrix {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => rng.range(lo, hi)) };
}

function targets(rng: Rng, spec: NetworkSpec): Matrix | undefined {
  const net = resolveSpec(spec);
  if (net.autoencoder) return undefined;
  const nL = net.layers[net.layers.length - 1]!;
  if (net.loss === 'softmax-cross-entropy') return oneHot(Uint8Array.from({ length: M }, () => rng.int(nL)), nL);
  return randomMatrix(rng, M, nL, net.loss === 'cross-entropy' ? 0 : -1, 1);
}

function expectClose(got: number, want: number, tol: number, what: string): void {
  const err = Math.abs(got - want) / Math.max(1, Math.abs(want));
  expect(err, `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(tol);
}

let work: string;
let pkg: string;

beforeAll(async () => {
  torchPython(); // fails loudly, with the fix, when python3-torch is missing
  work = mkdtempSync(join(tmpdir(), 'wgnn-torch-'));
  pkg = join(work, 'pkg');
  // The package comes from the CLI, as a user gets it.
  const first = join(work, 'first.safetensors');
  const net = resolveSpec(CASES[0]!.spec);
  writeFileSync(first, encodeModel(net, initParameters(net, { seed: 1 }), null, 'F64'));
  const out: string[] = [];
  const status = await main(['export', '--model', first, '--format', 'pytorch', '--out', pkg], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
  expect(status, out.join('')).toBe(0);
  for (const f of ['model.py', 'train_ddp.py', 'model.safetensors', 'README.md']) expect(existsSync(join(pkg, f)), f).toBe(true);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('PyTorch export: exact objective', () => {
  it('cost, parts, ρ̂ and ∇J equal the CPU float64 reference to 1e-10 for every loss, regularizer and option', async () => {
    const rng = new Rng(2026);
    const manifest: { dir: string; m: number; targets: boolean; corruptSeed: number | null }[] = [];
    const expected = CASES.map((c, i) => {
      const net = resolveSpec(c.spec);
      const theta = initParameters(net, { seed: 10 + i, init: 'glorot' }).map((v) => 1.5 * v);
      for (const s of paramLayout(net).slots) for (let j = 0; j < s.nOut; j++) theta[s.b + j] = rng.range(-0.5, 0.5);
      const X = randomMatrix(rng, M, net.layers[0]!, 0, 1);
      const Y = targets(rng, c.spec);
      const input = c.corruptSeed !== undefined ? { rows: M, cols: X.cols, data: corruptMatrix(X, c.spec.corruption!, c.corruptSeed) } : undefined;
      const report = cpuCost(net, theta, X, Y, { gradient: true, input });
      // One folder per case: the model file and X (and Y) as raw float64, as the driver reads them.
      const dir = join(work, `case${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.safetensors'), encodeModel(net, theta, null, 'F64'));
      writeFileSync(join(dir, 'X.bin'), float64Bytes(X.data));
      if (Y) writeFileSync(join(dir, 'Y.bin'), float64Bytes(Y.data));
      manifest.push({ dir, m: M, targets: !!Y, corruptSeed: c.corruptSeed ?? null });
      return { c, theta, report, input, pred: cpuPredict(net, theta, X) };
    });
    writeFileSync(join(work, 'cases.json'), JSON.stringify(manifest));
    await runPython([join(HERE, 'helpers', 'torch_cost.py'), pkg, join(work, 'cases.json'), join(work, 'torch.json')]);
    const got = JSON.parse(readFileSync(join(work, 'torch.json'), 'utf8')) as {
      cost: number;
      parts: Record<string, number>;
      rhoHat: number[][];
      grad: number[];
      theta: number[];
      predict: number[];
      input: number[] | null;
    }[];
    expect(got.length).toBe(CASES.length);
    expected.forEach(({ c, theta, report, input, pred }, i) => {
      const t = got[i]!;
      // θ read through load() is the engine's θ, in the same order.
      expect(t.theta, c.name).toEqual(Array.from(theta));
      // The corruption is the engine's noise: the same elements picked, bit for bit; Gaussian
      // noise to 1e-14 (√, ln and cos of two libms may differ in the last bit).
      if (input && c.spec.corruption!.kind === 'gaussian') input.data.forEach((v, j) => expect(Math.abs(t.input![j]! - v)).toBeLessThan(1e-14));
      else if (input) expect(t.input, `${c.name}: corrupted input`).toEqual(Array.from(input.data));
      expectClose(t.cost, report.cost, 1e-10, `${c.name}: J`);
      for (const [k, v] of Object.entries(report.parts)) expectClose(t.parts[k]!, v, 1e-10, `${c.name}: ${k}`);
      expect(t.rhoHat.length).toBe(report.rhoHat.length);
      report.rhoHat.forEach((r, k) => r.forEach((v, j) => expectClose(t.rhoHat[k]![j]!, v, 1e-10, `${c.name}: ρ̂[${k}][${j}]`)));
      // The module's forward (clean input) is the engine's predict.
      pred.data.forEach((v, j) => expectClose(t.predict[j]!, v, 1e-12, `${c.name}: predict[${j}]`));
      expect(t.grad.length, c.name).toBe(report.grad!.length);
      report.grad!.forEach((g, j) => expectClose(t.grad[j]!, g, 1e-10, `${c.name}: ∂J/∂θ[${j}]`));
      // Every option must actually contribute, or the case tests nothing.
      const parts = report.parts;
      if (c.spec.sparsity) expect(parts.sparsity).toBeGreaterThan(0);
      if (c.spec.l1) expect(parts.l1).toBeGreaterThan(0);
      if (c.spec.contractive) expect(parts.contractive).toBeGreaterThan(0);
      if (c.spec.lambda) expect(parts.weightDecay).toBeGreaterThan(0);
    });
  });
});

/** A .npy file (format 1.0) of a float64 rows × cols matrix, C order. */
const VAE_CASES: Case[] = [
  { name: 'Bernoulli VAE, β = 1', spec: { layers: [6, 4, 2, 4, 6], activation: ['tanh', 'identity', 'softplus', 'sigmoid'], loss: 'cross-entropy', vae: {} } },
  { name: 'Gaussian VAE, β = 0.7, weight decay, deeper encoder and decoder', spec: { layers: [5, 6, 4, 3, 4, 6, 5], activation: ['elu', 'sigmoid', 'identity', 'tanh', 'relu', 'identity'], loss: 'squared', lambda: 0.01, vae: { beta: 0.7, seed: 5 } } },
  { name: 'denoising Bernoulli VAE (mask corruption), weight decay, β = 2', spec: { layers: [6, 5, 2, 5, 6], activation: ['sigmoid', 'identity', 'sigmoid', 'sigmoid'], loss: 'cross-entropy', lambda: 0.003, corruption: { kind: 'mask', level: 0.3 }, vae: { beta: 2 } }, corruptSeed: 4242 },
  { name: 'denoising Gaussian VAE [4, 2, 4] (gaussian corruption)', spec: { layers: [4, 2, 4], activation: ['identity', 'identity'], loss: 'squared', corruption: { kind: 'gaussian', level: 0.3 }, vae: {} }, corruptSeed: 31 },
];

describe('PyTorch export: the VAE', () => {
  it('ε, μ, log σ², output, cost, parts (data, kl, weight decay), ρ̂ and ∇J equal the CPU float64 reference to 1e-10 with the same noise seed; the state_dict imports', async () => {
    const rng = new Rng(77);
    const manifest: { dir: string; m: number; noiseSeed: number; corruptSeed: number | null }[] = [];
    const expected = VAE_CASES.map((c, i) => {
      const net = resolveSpec(c.spec);
      const theta = initParameters(net, { seed: 40 + i, init: 'glorot' }).map((v) => 1.3 * v);
      for (const s of paramLayout(net).slots) for (let j = 0; j < s.nOut; j++) theta[s.b + j] = rng.range(-0.5, 0.5);
      const X = randomMatrix(rng, M, net.layers[0]!, 0, 1);
      const noiseSeed = 1000 + 17 * i;
      const input = c.corruptSeed !== undefined ? { rows: M, cols: X.cols, data: corruptMatrix(X, c.spec.corruption!, c.corruptSeed) } : undefined;
      const report = cpuCost(net, theta, X, undefined, { gradient: true, input, noiseSeed });
      const dir = join(work, `vae${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.safetensors'), encodeModel(net, theta, null, 'F64'));
      writeFileSync(join(dir, 'X.bin'), float64Bytes(X.data));
      manifest.push({ dir, m: M, noiseSeed, corruptSeed: c.corruptSeed ?? null });
      const d = net.layers[net.vae!.latent]!;
      const eps = normalMatrix(noiseSeed, M, d);
      const enc = cpuVaeEncode(net, theta, X);
      const z = enc.mu.data.map((m, j) => m + Math.exp(0.5 * enc.logvar.data[j]!) * eps[j]!);
      const out = cpuVaeDecode(net, theta, { rows: M, cols: d, data: z });
      return { c, dir, theta, report, eps, enc, out };
    });
    writeFileSync(join(work, 'vae-cases.json'), JSON.stringify(manifest));
    await runPython([join(HERE, 'helpers', 'torch_cost.py'), pkg, join(work, 'vae-cases.json'), join(work, 'vae-torch.json')]);
    const got = JSON.parse(readFileSync(join(work, 'vae-torch.json'), 'utf8')) as {
      cost: number; parts: Record<string, number>; rhoHat: number[][]; grad: number[]; theta: number[];
      eps: number[]; mu: number[]; logvar: number[]; output: number[]; stateDictKeys: string[];
    }[];
    expect(got.length).toBe(VAE_CASES.length);
    expected.forEach(({ c, dir, theta, report, eps, enc, out }, i) => {
      const t = got[i]!;
      expect(t.theta, c.name).toEqual(Array.from(theta));
      // ε: the same uniforms bit for bit; √, ln and cos of two libms may differ in the last bit.
      eps.forEach((v, j) => expect(Math.abs(t.eps[j]! - v), `${c.name}: ε[${j}]`).toBeLessThan(1e-14));
      enc.mu.data.forEach((v, j) => expectClose(t.mu[j]!, v, 1e-12, `${c.name}: μ[${j}]`));
      enc.logvar.data.forEach((v, j) => expectClose(t.logvar[j]!, v, 1e-12, `${c.name}: log σ²[${j}]`));
      out.data.forEach((v, j) => expectClose(t.output[j]!, v, 1e-12, `${c.name}: output[${j}]`));
      expectClose(t.cost, report.cost, 1e-10, `${c.name}: J`);
      for (const [k, v] of Object.entries(report.parts)) expectClose(t.parts[k]!, v, 1e-10, `${c.name}: ${k}`);
      expect(t.rhoHat.length).toBe(report.rhoHat.length);
      report.rhoHat.forEach((r, k) => r.forEach((v, j) => expectClose(t.rhoHat[k]![j]!, v, 1e-10, `${c.name}: ρ̂[${k}][${j}]`)));
      expect(t.grad.length, c.name).toBe(report.grad!.length);
      report.grad!.forEach((g, j) => expectClose(t.grad[j]!, g, 1e-10, `${c.name}: ∂J/∂θ[${j}]`));
      // Every term contributes, or the case tests nothing.
      expect(report.parts.kl).toBeGreaterThan(0);
      if (c.spec.lambda) expect(report.parts.weightDecay).toBeGreaterThan(0);
      // The module's state_dict (mu.*, logvar.*, layers.K.*) imports as the same model.
      const c0 = resolveSpec(c.spec).vae!.latent - 1;
      expect(t.stateDictKeys).toEqual(expect.arrayContaining(['mu.weight', 'mu.bias', 'logvar.weight', 'logvar.bias']));
      expect(t.stateDictKeys.some((k) => k.startsWith(`layers.${c0}.`))).toBe(false);
      const sd = decodeModel(fileBytes(join(dir, 'state_dict.safetensors')), 'state_dict');
      expect(Array.from(sd.theta), `${c.name}: state_dict θ`).toEqual(Array.from(theta));
    });
  });
});

function npyBytes(m: Matrix): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + 8 * m.data.length);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(float64Bytes(m.data), 10 + header.length);
  return out;
}

/** A file's bytes as a plain Uint8Array (decodeSafetensors reads Buffer.slice as a view of the whole pool). */
function fileBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

async function cli(args: string[]): Promise<{ status: number; out: string }> {
  const out: string[] = [];
  const status = await main(args, { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
  return { status, out: out.join('') };
}

/** torchrun --standalone with 2 CPU processes (gloo over the loopback interface). */
interface Report {
  cost: number;
  parts: Record<string, number>;
  processes: number;
  backend: string;
  steps: number;
}

const ENV = { GLOO_SOCKET_IFNAME: 'lo', OMP_NUM_THREADS: '1', CUDA_VISIBLE_DEVICES: '' };

/**
 * train_ddp.py under torchrun --standalone with `procs` CPU processes (gloo on the
 * loopback), or as a plain script for one process. --redirects/--tee 1: Debian's
 * torch 1.13 under Python 3.11 cannot parse their default "0".
 */
async function trainDdp(procs: number, args: string[], report: string, packageDir = pkg): Promise<Report> {
  const launcher = procs > 1 ? ['-m', 'torch.distributed.run', '--standalone', '--nnodes=1', `--nproc_per_node=${procs}`, '--monitor_interval=1', '--redirects=1', '--tee=1'] : [];
  await runPython([...launcher, join(packageDir, 'train_ddp.py'), ...args, '--report', report], { env: ENV, timeoutMs: 180_000 });
  return JSON.parse(readFileSync(report, 'utf8'));
}

describe('PyTorch export: model files, state_dicts and torch.distributed', () => {
  it('save() writes the engine format (θ layout, spec, preprocessing kept); state_dicts import with and without a spec', async () => {
    const rng = new Rng(5);
    const raw = randomMatrix(rng, 30, 6, 0, 1);
    const whitening = whiteningToJSON(fitPCA(raw, { epsilon: 0.01 }), { kind: 'zca' });
    const spec: NetworkSpec = { layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, tied: true, lambda: 0.01 };
    const net = resolveSpec(spec);
    const theta = initParameters(net, { seed: 3 });
    for (const s of paramLayout(net).slots) for (let j = 0; j < s.nOut; j++) theta[s.b + j] = rng.range(-1, 1);
    const dir = join(work, 'roundtrip');
    mkdirSync(dir);
    writeFileSync(join(dir, 'start.safetensors'), encodeModel(net, theta, { whitening }, 'F64'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    await runPython(['-c', [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(pkg)})`,
      'import model as wg',
      `d = ${JSON.stringify(dir)}`,
      'assert wg.SPEC["layers"] == [5, 4, 3] and wg.build().net["lambda"] == 0.01, wg.SPEC  # the exported network, written into model.py',
      'net = wg.load(d + "/start.safetensors")',
      'assert list(net.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.bias"], list(net.state_dict())',
      'wg.save(net, d + "/saved.safetensors")',
      'wg.write_safetensors(d + "/sd.safetensors", net.state_dict(), {"spec": json.dumps(net.spec)})',
      'wg.write_safetensors(d + "/ddp.safetensors", {"module." + k: v.to(__import__("torch").float32) for k, v in net.state_dict().items()})',
    ].join('\n')]);
    // train_ddp.py's readers give the engine's matrices: CSV (header, quotes, blank lines, label column), .npy, gzipped IDX.
    const csv = 'a,b,label,c\n\n1.5,"2",2,-3e-2\n4,5,0,6\n';
    writeFileSync(join(dir, 'data.csv'), csv);
    writeFileSync(join(dir, 'data.npy'), npyBytes(raw));
    const pixels = Uint8Array.from({ length: 3 * 4 }, (_, i) => (i * 37) % 256);
    writeFileSync(join(dir, 'images.idx3-ubyte.gz'), gzipSync(encodeIdx([3, 2, 2], pixels)));
    const readers = JSON.parse(await runPython(['-c', [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(pkg)})`,
      'import train_ddp as t',
      `d = ${JSON.stringify(dir)}`,
      'X, y = t.read_examples(d + "/data.csv", header=True, label_column=-2)',
      'N, _ = t.read_examples(d + "/data.npy")',
      'I, _ = t.read_examples(d + "/images.idx3-ubyte.gz")',
      'print(json.dumps({"csv": X.reshape(-1).tolist(), "labels": y.tolist(), "npy": N.reshape(-1).tolist(), "idx": I.reshape(-1).tolist()}))',
    ].join('\n')]));
    const parsed = parseCsv(csv, { header: true, labelColumn: -2 });
    expect(readers.csv).toEqual(Array.from(parsed.X.data));
    expect(readers.labels).toEqual(Array.from(parsed.labels!));
    expect(readers.npy).toEqual(Array.from(raw.data));
    expect(readers.idx).toEqual(Array.from(imagesToMatrix(loadIdxImages(join(dir, 'images.idx3-ubyte.gz'))).data));

    const saved = decodeModel(fileBytes(join(dir, 'saved.safetensors')));
    expect(Array.from(saved.theta)).toEqual(Array.from(theta));
    expect(saved.preprocessing).toEqual({ whitening });
    expect(saved.network.tied).toBe(true);
    const sd = decodeModel(fileBytes(join(dir, 'sd.safetensors')), 'sd.safetensors');
    expect(Array.from(sd.theta)).toEqual(Array.from(theta));
    // A DDP state_dict (module. prefixes, float32) without a spec: wgnn import needs --spec.
    const noSpec = await cli(['import', '--from', join(dir, 'ddp.safetensors'), '--out', join(dir, 'imported')]);
    expect(noSpec.status).toBe(1);
    expect(noSpec.out).toMatch(/state_dict without a "spec".*--spec/);
    const ok = await cli(['import', '--from', join(dir, 'ddp.safetensors'), '--spec', join(dir, 'spec.json'), '--out', join(dir, 'imported')]);
    expect(ok.status, ok.out).toBe(0);
    const imported = decodeModel(fileBytes(join(dir, 'imported', 'model.safetensors')));
    imported.theta.forEach((v, i) => expect(v).toBe(Math.fround(theta[i]!)));
    expect(JSON.parse(readFileSync(join(dir, 'imported', 'model.json'), 'utf8')).spec.tied).toBe(true);
    // A state_dict for another network is refused, naming the tensor.
    const wrong = await cli(['import', '--from', join(dir, 'sd.safetensors'), '--spec', join(dir, 'spec.json'), '--out', join(dir, 'x')]);
    expect(wrong.status).toBe(0); // the file's own spec wins over nothing; --spec overrides below
    writeFileSync(join(dir, 'spec5.json'), JSON.stringify({ ...spec, layers: [6, 5, 6] }));
    const bad = await cli(['import', '--from', join(dir, 'ddp.safetensors'), '--spec', join(dir, 'spec5.json'), '--out', join(dir, 'y')]);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/tensor layers\.0\.weight should have shape \[5,6\]/);
  });

  it('a 2-process gloo run of train_ddp.py (torchrun) trains a classifier from IDX files; the model loads back with the cost PyTorch reported (1e-6), wgnn eval reads it, and it equals the 1-process run', async () => {
    const rng = new Rng(8);
    const m = 48;
    const pixels = Uint8Array.from({ length: m * 16 }, () => rng.int(256));
    const labels = Uint8Array.from({ length: m }, (_, i) => {
      let s = 0;
      for (let j = 0; j < 8; j++) s += pixels[i * 16 + j]!;
      return s < 900 ? 0 : s < 1140 ? 1 : 2;
    });
    const dir = join(work, 'ddp-classifier');
    mkdirSync(dir);
    const images = join(dir, 'images.idx3-ubyte');
    const labelFile = join(dir, 'labels.idx1-ubyte');
    writeFileSync(images, encodeIdx([m, 4, 4], pixels));
    writeFileSync(labelFile, encodeIdx([m], labels));
    // 1. Train here (a few L-BFGS iterations on the CPU backend), 2. export the run as a PyTorch package.
    const spec: NetworkSpec = { layers: [16, 8, 3], activation: ['sigmoid', 'softmax'], loss: 'softmax-cross-entropy', lambda: 1e-4 };
    const config = { name: 'tiny-classifier', network: spec, init: 'ufldl', seed: 1, data: { source: 'idx', images, labels: labelFile }, optimizer: { method: 'lbfgs', maxIterations: 3 }, backend: 'cpu', checkpointEvery: 0 };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const run = join(dir, 'run');
    const trained = await cli(['train', '--config', join(dir, 'config.json'), '--out', run, '--quiet']);
    expect(trained.status, trained.out).toBe(0);
    const exported = join(dir, 'exported');
    const ex = await cli(['export', '--model', run, '--format', 'pytorch', '--out', exported]);
    expect(ex.status, ex.out).toBe(0);
    const start = decodeModel(fileBytes(join(run, 'model.safetensors')));
    const net = start.network;
    const theta0 = start.theta;
    // 3. torchrun train_ddp.py (its default --model: the exported model.safetensors beside it).
    const common = ['--data', images, '--labels', labelFile, '--epochs', '5', '--lr', '0.3'];
    const out = join(dir, 'trained.safetensors');
    const report = await trainDdp(2, [...common, '--batch-size', '24', '--out', out], join(dir, 'report2.json'), exported);
    expect(report.processes).toBe(2);
    expect(report.backend).toBe('gloo');
    expect(report.steps).toBe(5);
    const saved = decodeModel(fileBytes(out), out);
    const X = imagesToMatrix(loadIdxImages(images));
    const Y = oneHot(labels, 3);
    const J = cpuCost(saved.network, saved.theta, X, Y, { gradient: false });
    expectClose(report.cost, J.cost, 1e-6, 'J after training');
    expect(J.cost).toBeLessThan(cpuCost(net, theta0, X, Y, { gradient: false }).cost);
    // 4. Load back: wgnn eval reads the model torch wrote.
    const ev = await cli(['eval', '--model', out, '--data', 'idx', '--images', images, '--labels', labelFile, '--backend', 'cpu', '--json']);
    expect(ev.status, ev.out).toBe(0);
    expect(JSON.parse(ev.out.trim()).examples).toBe(m);
    // Averaging the two halves' gradients is the full-batch gradient: one process with batch m takes the same steps.
    const single = await trainDdp(1, [...common, '--batch-size', '48', '--out', join(dir, 'single.safetensors')], join(dir, 'report1.json'), exported);
    expect(single.processes).toBe(1);
    expectClose(single.cost, report.cost, 1e-12, '1 process vs 2');
  });

  it('train_ddp.py trains a tied denoising sparse autoencoder on whitened .npy data (mini-batches, Adam); loads back with the reported cost', async () => {
    const rng = new Rng(9);
    const raw = randomMatrix(rng, 32, 6, 0, 1);
    for (let i = 0; i < 32; i++) raw.data[i * 6 + 1] = 0.7 * raw.data[i * 6]! + 0.3 * raw.data[i * 6 + 1]!;
    const whitening = whiteningToJSON(fitPCA(raw, { epsilon: 0.05 }), { kind: 'zca' });
    const dir = join(work, 'ddp-autoencoder');
    mkdirSync(dir);
    writeFileSync(join(dir, 'data.npy'), npyBytes(raw));
    const net = resolveSpec({ layers: [6, 4, 6], activation: ['sigmoid', 'identity'], autoencoder: true, tied: true, lambda: 1e-3, sparsity: { rho: 0.2, beta: 0.1 }, corruption: { kind: 'mask', level: 0.2, seed: 3 } });
    const theta0 = initParameters(net, { seed: 6 });
    writeFileSync(join(dir, 'start.safetensors'), encodeModel(net, theta0, { whitening }, 'F64'));
    const out = join(dir, 'trained.safetensors');
    const report = await trainDdp(1, ['--model', join(dir, 'start.safetensors'), '--data', join(dir, 'data.npy'), '--epochs', '4', '--batch-size', '4', '--lr', '0.05', '--optimizer', 'adam', '--out', out], join(dir, 'report.json'));
    expect(report.steps).toBe(32);
    const saved = decodeModel(fileBytes(out), out);
    expect(saved.preprocessing).toEqual({ whitening });
    const X = applyWhitening(raw, whiteningFromJSON(whitening));
    const J = cpuCost(saved.network, saved.theta, X, undefined, { gradient: false });
    expectClose(report.cost, J.cost, 1e-6, 'J after training');
    for (const [k, v] of Object.entries(J.parts)) expectClose(report.parts[k]!, v, 1e-6, k);
    expect(J.cost).toBeLessThan(cpuCost(net, theta0, X, undefined, { gradient: false }).cost);
  });

  it('a 2-process gloo run of train_ddp.py trains a denoising Gaussian VAE (per-step ε, distinct per process); the model loads back with the cost PyTorch reported (1e-6)', async () => {
    const rng = new Rng(10);
    const raw = randomMatrix(rng, 24, 5, -1, 1);
    const dir = join(work, 'ddp-vae');
    mkdirSync(dir);
    writeFileSync(join(dir, 'data.npy'), npyBytes(raw));
    const net = resolveSpec({ layers: [5, 4, 2, 4, 5], activation: ['tanh', 'identity', 'tanh', 'identity'], loss: 'squared', lambda: 1e-3, corruption: { kind: 'gaussian', level: 0.1, seed: 2 }, vae: { beta: 0.5, seed: 3 } });
    const theta0 = initParameters(net, { seed: 7 });
    writeFileSync(join(dir, 'start.safetensors'), encodeModel(net, theta0, null, 'F64'));
    const out = join(dir, 'trained.safetensors');
    const report = await trainDdp(2, ['--model', join(dir, 'start.safetensors'), '--data', join(dir, 'data.npy'), '--epochs', '3', '--batch-size', '4', '--lr', '0.02', '--optimizer', 'adam', '--backend', 'gloo', '--out', out], join(dir, 'report.json'));
    expect(report.processes).toBe(2);
    expect(report.steps).toBe(9); // 24 examples / 2 processes / 4 per batch, 3 epochs
    const saved = decodeModel(fileBytes(out), out);
    expect(saved.network.vae).toEqual(net.vae);
    const J = cpuCost(saved.network, saved.theta, raw, undefined, { gradient: false });
    expectClose(report.cost, J.cost, 1e-6, 'J after training');
    for (const [k, v] of Object.entries(J.parts)) expectClose(report.parts[k]!, v, 1e-6, k);
    expect(J.parts.kl).toBeGreaterThan(0);
    expect(J.cost).toBeLessThan(cpuCost(net, theta0, raw, undefined, { gradient: false }).cost);
  });
});
