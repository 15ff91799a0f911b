// ONNX export: the graph, run by onnxruntime-node (which applies ONNX's structural
// checks when it loads a model), gives the CPU reference's predict / encode to 1e-5
// on random inputs, for every activation and autoencoder option.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { buildOnnx, buildVaeOnnx, codeLayer, exportOnnx, exportVaeOnnx, ONNX_OPSET } from '../src/export/onnx.js';
import { createModel } from '../src/model.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { ACTIVATIONS, resolveSpec, type ActivationName, type ActivationSpec, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { applyWhitening, fitPCA, whiteningFromJSON, whiteningToJSON } from '../src/data/whitening.js';
import { encodeModel } from '../src/io/model-file.js';
import { main } from '../src/cli/main.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 2): Matrix {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => scale * rng.range(-1, 1)) };
}

async function runOnnx(bytes: Uint8Array, X: Matrix, inputName = 'input'): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ [inputName]: new ort.Tensor('float32', Float32Array.from(X.data), [X.rows, X.cols]) });
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) {
    expect(v.dims[0]).toBe(X.rows);
    res[k] = v.data as Float32Array;
  }
  return res;
}

function expectClose(got: Float32Array, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  expect(worst, `${what}: largest error`).toBeLessThanOrEqual(1e-5);
}

/** Exports `spec` with random θ (scaled so pre-activations reach past ±1) and compares with the CPU reference. */
async function check(spec: NetworkSpec, opts: { scale?: number; seed?: number; preprocessing?: unknown; raw?: Matrix; X?: Matrix } = {}): Promise<Record<string, Float32Array>> {
  const net = resolveSpec(spec);
  const rng = new Rng(opts.seed ?? 7);
  const theta = initParameters(net, { seed: opts.seed ?? 3, init: 'glorot' }).map((v) => v * (opts.scale ?? 2));
  for (const slot of paramLayout(net).slots) for (let i = 0; i < slot.nOut; i++) theta[slot.b + i] = rng.range(-0.5, 0.5);
  const model = await createModel(net, { backend: 'cpu', parameters: theta });
  const th = await model.readParameters();
  const X = opts.X ?? randomMatrix(rng, 13, net.layers[0]!);
  const raw = opts.raw ?? X;
  const bytes = await exportOnnx({ network: net, theta: th, preprocessing: opts.preprocessing ?? null });
  const out = await runOnnx(bytes, raw);
  expectClose(out.output!, (await model.predict(X)).data, 'output');
  if (net.autoencoder) expectClose(out.code!, (await model.encode(X, codeLayer(net))).data, 'code');
  else expect(out.code).toBeUndefined();
  return out;
}

const ELEMENTWISE: ActivationSpec[] = ACTIVATIONS.filter((a) => a !== 'softmax').map((name) => ({ name }));
ELEMENTWISE.push({ name: 'prelu', alpha: 0.1 }, { name: 'elu', alpha: 0.6 });

describe('exportOnnx', () => {
  it('writes opset 17 with the spec in the metadata, built with onnx-proto', () => {
    const bytes = buildOnnx({ network: { layers: [3, 2], activation: 'sigmoid' }, theta: new Float64Array(8) });
    const m = onnxProto.onnx.ModelProto.decode(bytes);
    expect(Number(m.opsetImport![0]!.version)).toBe(ONNX_OPSET);
    expect(m.graph!.output!.map((o) => o.name)).toEqual(['output']);
    expect(JSON.parse(m.metadataProps.find((p) => p.key === 'webgpu-nn.spec')!.value!).layers).toEqual([3, 2]);
  });

  for (const act of ELEMENTWISE) {
    it(`${act.name}${act.alpha !== undefined ? ` α=${act.alpha}` : ''}: output equals predict to 1e-5`, async () => {
      await check({ layers: [5, 7, 4], activation: act as ActivationSpec });
    });
  }

  it('mixed activations per layer, 4 weight layers', async () => {
    const acts: ActivationName[] = ['tanh', 'relu', 'softplus', 'identity'];
    await check({ layers: [6, 9, 5, 7, 3], activation: acts });
  });

  it('softmax classifier', async () => {
    const out = await check({ layers: [6, 8, 4], activation: ['sigmoid', 'softmax'], loss: 'softmax-cross-entropy' });
    for (let i = 0; i < 13; i++) expect(out.output!.subarray(4 * i, 4 * i + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('sparse autoencoder: output and code', async () => {
    await check({ layers: [8, 5, 8], activation: 'sigmoid', autoencoder: true, sparsity: { rho: 0.1, beta: 3 }, lambda: 1e-3 });
  });

  it('tied autoencoder: decoder W is the transposed initializer', async () => {
    const spec: NetworkSpec = { layers: [7, 4, 7], activation: ['sigmoid', 'identity'], autoencoder: true, tied: true };
    await check(spec);
    const bytes = buildOnnx({ network: spec, theta: initParameters(resolveSpec(spec), { seed: 1 }) });
    const inits = onnxProto.onnx.ModelProto.decode(bytes).graph!.initializer!.map((t) => `${t.name}:${t.dims!.join('x')}`);
    expect(inits).toContain('W1:4x7');
    expect(inits).toContain('W2_tied_transposed:4x7');
  });

  it('k-sparse autoencoder: TopK masking with ties to the lower index', async () => {
    await check({ layers: [9, 6, 9], activation: ['relu', 'identity'], autoencoder: true, kSparse: { k: 2 } });
    // An annealed k exports its final k (the schedule is training's only).
    await check({ layers: [9, 6, 9], activation: ['relu', 'identity'], autoencoder: true, kSparse: { k: 2, anneal: { from: 5, epochs: 3 } } });
    // Ties: a θ that gives every hidden unit the same activation keeps units 0 … k−1, as keepTopK does.
    const net = resolveSpec({ layers: [3, 4, 3], activation: 'identity', autoencoder: true, kSparse: { k: 2 } });
    const theta = new Float64Array(net.layers[0]! * 4 + 4 + 4 * 3 + 3).fill(0);
    for (let j = 0; j < 4; j++) theta[12 + j] = 1; // b1 = 1 for every unit, W1 = 0
    const X = { rows: 2, cols: 3, data: Float64Array.from([1, 2, 3, 4, 5, 6]) };
    const model = await createModel(net, { backend: 'cpu', parameters: theta });
    const out = await runOnnx(await exportOnnx(model), X);
    expect(Array.from(out.code!)).toEqual(Array.from((await model.encode(X)).data));
    expect(Array.from(out.code!.subarray(0, 4))).toEqual([1, 1, 0, 0]);
  });

  it('deeper tied stack with k-sparse code layer and denoising/contractive options (training-only options do not change the graph)', async () => {
    await check({
      layers: [8, 6, 4, 6, 8],
      activation: ['sigmoid', 'relu', 'tanh', 'sigmoid'],
      autoencoder: true,
      tied: true,
      kSparse: { k: 2, layers: [3] },
      corruption: { kind: 'mask', level: 0.3 },
      contractive: { weight: 0.1 },
      l1: { weight: 0.01, layers: [3] },
    });
  });

  it('ZCA and PCA whitening saved with the model are folded in as the first nodes', async () => {
    const rng = new Rng(11);
    const raw = randomMatrix(rng, 40, 6, 1);
    for (let i = 0; i < 40; i++) raw.data[i * 6 + 1] = raw.data[i * 6]! * 0.8 + 0.1 * raw.data[i * 6 + 1]!; // correlated features
    const fit = fitPCA(raw, { epsilon: 1e-3 });
    for (const [kind, k] of [['zca', 6], ['pca', 4]] as const) {
      const whitening = whiteningToJSON(fit, { kind, k });
      const X = applyWhitening(raw, whiteningFromJSON(whitening));
      const out = await check({ layers: [k, 5, k], activation: 'sigmoid', autoencoder: true }, { preprocessing: { whitening }, raw, X });
      expect(out.output!.length).toBe(40 * k);
    }
  });

  it('rejects a θ of the wrong length and a bad code layer, naming them', async () => {
    await expect(exportOnnx({ network: { layers: [3, 2], activation: 'sigmoid' }, theta: new Float64Array(5) })).rejects.toThrow(/θ has 5 values but the network needs 8/);
    expect(() => buildOnnx({ network: { layers: [3, 2, 3], activation: 'sigmoid', autoencoder: true }, theta: new Float64Array(17) }, { codeLayer: 3 })).toThrow(/codeLayer 3/);
  });

  it('wgnn export --format onnx reads a run folder (whitening folded) and a file; bad options are named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgnn-onnx-'));
    const run = join(dir, 'run');
    mkdirSync(run);
    const rng = new Rng(21);
    const raw = randomMatrix(rng, 25, 5, 1);
    const whitening = whiteningToJSON(fitPCA(raw, { epsilon: 0.01 }), { kind: 'pca', k: 3 });
    const net = resolveSpec({ layers: [3, 6, 3], activation: ['softplus', 'identity'], autoencoder: true, kSparse: { k: 2 } });
    const theta = initParameters(net, { seed: 2 });
    writeFileSync(join(run, 'model.safetensors'), encodeModel(net, theta, { whitening }, 'F64'));
    const io = { out: [] as string[] };
    const cli = (args: string[]) => main(args, { stdout: (t) => io.out.push(t), stderr: (t) => io.out.push(t) });
    const file = join(dir, 'model.onnx');
    expect(await cli(['export', '--model', run, '--format', 'onnx', '--out', file, '--outputs', '2'])).toBe(0);
    expect(io.out.join('')).toMatch(/outputs output, code \(layer 2\)/);
    const model = await createModel(net, { backend: 'cpu', parameters: theta });
    const X = applyWhitening(raw, whiteningFromJSON(whitening));
    const out = await runOnnx(new Uint8Array(readFileSync(file)), raw);
    expectClose(out.output!, (await model.predict(X)).data, 'output');
    expectClose(out.layer2!, (await model.encode(X, 2)).data, 'layer2');
    // --no-preprocess: the graph takes whitened inputs.
    expect(await cli(['export', '--model', join(run, 'model.safetensors'), '--format', 'onnx', '--out', file, '--no-preprocess'])).toBe(0);
    expectClose((await runOnnx(new Uint8Array(readFileSync(file)), X)).code!, (await model.encode(X, 2)).data, 'code');
    io.out.length = 0;
    expect(await cli(['export', '--model', run, '--out', file])).toBe(1);
    expect(io.out.join('')).toMatch(/--format onnx or --format pytorch/);
    io.out.length = 0;
    expect(await cli(['export', '--model', run, '--format', 'tflite', '--out', file])).toBe(1);
    expect(io.out.join('')).toMatch(/--format must be one of onnx, pytorch, got "tflite"/);
    io.out.length = 0;
    expect(await cli(['export', '--model', join(dir, 'nope'), '--format', 'onnx', '--out', file])).toBe(1);
    expect(io.out.join('')).toMatch(/--model .*nope: no such file or folder/);
    io.out.length = 0;
    expect(await cli(['export', '--model', run, '--format', 'pytorch', '--out', join(dir, 'py'), '--code-layer', '2'])).toBe(1);
    expect(io.out.join('')).toMatch(/apply to --format onnx only/);
    rmSync(dir, { recursive: true, force: true });
  });
});

/** Random θ for a VAE (glorot × scale, biases in ±½) and the CPU model holding it. */
async function vaeModel(spec: NetworkSpec, seed: number, scale = 1.5) {
  const net = resolveSpec(spec);
  const rng = new Rng(seed + 100);
  const theta = initParameters(net, { seed, init: 'glorot' }).map((v) => v * scale);
  for (const slot of paramLayout(net).slots) for (let i = 0; i < slot.nOut; i++) theta[slot.b + i] = rng.range(-0.5, 0.5);
  return { net, theta, rng, model: await createModel(net, { backend: 'cpu', parameters: theta }) };
}

/** The encoder's mu, logvar equal model.encode's μ, log σ², and the decoder's output model.decode's, to 1e-5. */
async function checkVae(spec: NetworkSpec, opts: { seed?: number; preprocessing?: unknown; raw?: Matrix; X?: Matrix } = {}): Promise<void> {
  const { net, model, rng } = await vaeModel(spec, opts.seed ?? 5);
  const d = net.layers[net.vae!.latent]!;
  const X = opts.X ?? randomMatrix(rng, 11, net.layers[0]!, 1);
  const { encoder, decoder } = await exportVaeOnnx(opts.preprocessing ? { network: net, theta: await model.readParameters(), preprocessing: opts.preprocessing } : model);
  const enc = await runOnnx(encoder, opts.raw ?? X);
  expect(Object.keys(enc).sort()).toEqual(['logvar', 'mu']);
  const want = await model.encode(X);
  expectClose(enc.mu!, want.data, 'mu');
  expectClose(enc.logvar!, want.logvar!.data, 'logvar');
  const Z = randomMatrix(rng, 9, d, 2);
  const dec = await runOnnx(decoder, Z, 'z');
  expect(Object.keys(dec)).toEqual(['output']);
  expectClose(dec.output!, (await model.decode(Z)).data, 'decoder output');
}

describe('exportVaeOnnx: encoder (input → mu, logvar) and decoder (z → output)', () => {
  it('Bernoulli VAE [7, 5, 3, 5, 7]: mu, logvar equal model.encode and output equals model.decode to 1e-5', async () => {
    await checkVae({ layers: [7, 5, 3, 5, 7], activation: ['tanh', 'identity', 'relu', 'sigmoid'], loss: 'cross-entropy', vae: { beta: 1 } });
  });

  it('Gaussian VAE with a deeper encoder and decoder [6, 8, 5, 2, 5, 8, 6], weight decay and corruption (training-only)', async () => {
    await checkVae(
      { layers: [6, 8, 5, 2, 5, 8, 6], activation: ['softplus', 'elu', 'identity', 'tanh', 'sigmoid', 'identity'], loss: 'squared', lambda: 1e-3, corruption: { kind: 'gaussian', level: 0.2 }, vae: { beta: 0.5, seed: 9 } },
      { seed: 8 },
    );
  });

  it('shallowest VAE [4, 2, 4]: the heads read the input directly; the decoder is one layer', async () => {
    await checkVae({ layers: [4, 2, 4], activation: ['identity', 'sigmoid'], loss: 'cross-entropy', vae: {} }, { seed: 3 });
  });

  it('the saved whitening is folded into the encoder only; initializers carry the model file names', async () => {
    const rng = new Rng(12);
    const raw = randomMatrix(rng, 30, 6, 1);
    const whitening = whiteningToJSON(fitPCA(raw, { epsilon: 1e-3 }), { kind: 'pca', k: 4 });
    const X = applyWhitening(raw, whiteningFromJSON(whitening));
    const spec: NetworkSpec = { layers: [4, 5, 2, 5, 4], activation: ['sigmoid', 'identity', 'tanh', 'identity'], loss: 'squared', vae: {} };
    await checkVae(spec, { preprocessing: { whitening }, raw, X });
    const { net, theta } = await vaeModel(spec, 5);
    const { encoder, decoder } = buildVaeOnnx({ network: net, theta, preprocessing: { whitening } });
    const e = onnxProto.onnx.ModelProto.decode(encoder);
    const dm = onnxProto.onnx.ModelProto.decode(decoder);
    expect(e.graph!.initializer!.map((t) => `${t.name}:${t.dims!.join('x')}`)).toEqual(expect.arrayContaining(['whitening_mean:6', 'W1:5x4', 'W2_mu:2x5', 'W2_logvar:2x5', 'b2_mu:2', 'b2_logvar:2']));
    expect(dm.graph!.initializer!.map((t) => t.name)).toEqual(['b3', 'W3', 'b4', 'W4']);
    expect(dm.graph!.input!.map((i) => i.name)).toEqual(['z']);
    expect(e.metadataProps.find((p) => p.key === 'webgpu-nn.vae-graph')!.value).toBe('encoder');
    expect(JSON.parse(dm.metadataProps.find((p) => p.key === 'webgpu-nn.spec')!.value!).vae).toEqual({ beta: 1, seed: 1 });
  });

  it('buildOnnx refuses a VAE and buildVaeOnnx anything else, naming the other; codeLayer does not apply', async () => {
    const { net, theta } = await vaeModel({ layers: [4, 2, 4], activation: ['identity', 'sigmoid'], loss: 'cross-entropy', vae: {} }, 1);
    expect(() => buildOnnx({ network: net, theta })).toThrow(/two graphs .*buildVaeOnnx/);
    expect(() => buildVaeOnnx({ network: { layers: [3, 2], activation: 'sigmoid' }, theta: new Float64Array(8) })).toThrow(/needs a variational autoencoder/);
    expect(() => buildVaeOnnx({ network: net, theta }, { codeLayer: 2 } as never)).toThrow(/codeLayer and extraOutputs do not apply/);
    expect(() => buildVaeOnnx({ network: net, theta: theta.subarray(1) })).toThrow(/θ has/);
  });

  it('wgnn export --format onnx writes NAME.encoder.onnx and NAME.decoder.onnx for a VAE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgnn-onnx-vae-'));
    const { net, theta, model, rng } = await vaeModel({ layers: [5, 4, 2, 4, 5], activation: ['relu', 'identity', 'softplus', 'sigmoid'], loss: 'cross-entropy', vae: { beta: 2 } }, 6);
    writeFileSync(join(dir, 'vae.safetensors'), encodeModel(net, theta, null, 'F64'));
    const io = { out: [] as string[] };
    const cli = (args: string[]) => main(args, { stdout: (t) => io.out.push(t), stderr: (t) => io.out.push(t) });
    expect(await cli(['export', '--model', join(dir, 'vae.safetensors'), '--format', 'onnx', '--out', join(dir, 'model.onnx')])).toBe(0);
    expect(io.out.join('')).toMatch(/model\.encoder\.onnx: ONNX opset 17, VAE encoder \[5\] → mu, logvar \[2\].*\n.*model\.decoder\.onnx: ONNX opset 17, VAE decoder z \[2\] → output \[5\]/);
    const X = randomMatrix(rng, 6, 5, 1);
    const enc = await runOnnx(new Uint8Array(readFileSync(join(dir, 'model.encoder.onnx'))), X);
    expectClose(enc.mu!, (await model.encode(X)).data, 'mu');
    const Z = randomMatrix(rng, 6, 2);
    expectClose((await runOnnx(new Uint8Array(readFileSync(join(dir, 'model.decoder.onnx'))), Z, 'z')).output!, (await model.decode(Z)).data, 'output');
    io.out.length = 0;
    expect(await cli(['export', '--model', join(dir, 'vae.safetensors'), '--format', 'onnx', '--out', join(dir, 'm.onnx'), '--code-layer', '2'])).toBe(1);
    expect(io.out.join('')).toMatch(/do not apply to a VAE/);
    rmSync(dir, { recursive: true, force: true });
  });
});
