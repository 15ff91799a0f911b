// ONNX export of a trained network's inference graph (opset 17), written with the
// `onnx-proto` schema (protobufjs), not by hand. Browser-safe: no node: imports.
//
// Graph (float32, batch dimension "batch"):
//   input [batch, n0]
//   → whitening saved with the model, if any:  x_w = (x − μ) Mᵀ   (Sub, MatMul;
//     M is the ZCA matrix U·diag(1/√(S+ε))·Uᵀ, or diag(1/√(S_j+ε))·U_kᵀ for PCA
//     whitening, as in data/whitening.ts)
//   → for every weight layer k: z = a Wᵀ + b (Gemm, transB = 1; a tied decoder's
//     W is the mirror encoder's matrix, so its initializer is written transposed
//     into the Gemm's B with transB = 0), then a = f(z) (see ACTIVATION_NODES),
//     then for k-sparse layers: keep the k largest of each row (TopK, ties to the
//     lower index as in cpu/network.ts keepTopK) and scatter them into zeros.
//   outputs: "output" (layer L) and, for autoencoders, "code" (the middle layer,
//     codeLayer below); `extraOutputs` adds "layer<l>" for other layers.
//
//
// A variational autoencoder (spec `vae`) exports two graphs (buildVaeOnnx / exportVaeOnnx):
//   encoder: input [batch, n0] → whitening as above → the trunk's layers → the head
//            pair as two Gemms from the trunk's last layer: outputs "mu" and "logvar"
//            [batch, d] (initializers W<l>_mu, W<l>_logvar, b<l>_mu, b<l>_logvar, the
//            model file's names);
//   decoder: "z" [batch, d] → the decoder's layers → "output" [batch, nL].
// The sampling z = μ + exp(½ log σ²)·ε is left to the caller (any ε ~ N(0, I)).
// buildOnnx / exportOnnx refuse a VAE with a message naming these.

import onnxProto from 'onnx-proto';
import { paramLayout, layerViews, type LayerSlot } from '../params.js';
import { resolveSpec, networkToSpec, SpecError, type Activation, type Network, type NetworkSpec } from '../spec.js';
import { whiteningFromJSON, zcaMatrix, type Whitening } from '../data/whitening.js';

const { onnx } = onnxProto;

export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (ONNX 1.12 and later). */
export const ONNX_IR_VERSION = 8;

/** A saved model (decodeModel's result) or anything with its network, θ and preprocessing. */
export interface ExportSource {
  network: Network | NetworkSpec;
  theta: ArrayLike<number>;
  /** The preprocessing saved with the model ({ whitening } from the trainer), or null. */
  preprocessing?: unknown;
}

/** A live model (the Model API): θ is read from it. */
export interface LiveModelSource {
  readonly network: Network;
  readParameters(): Promise<Float64Array>;
}

export interface OnnxExportOptions {
  /** Fold the saved whitening into the graph (default true); false: the graph expects whitened inputs. */
  foldPreprocessing?: boolean;
  /** Autoencoders: the layer whose activations are output as "code" (default codeLayer(net)). */
  codeLayer?: number;
  /** More layers (2 … L, notes' numbering) to expose as outputs "layer<l>". */
  extraOutputs?: number[];
  /** ModelProto.producer_version (default '0'). */
  producerVersion?: string;
}

/** The default code layer of an autoencoder: the middle layer ⌈L/2⌉ (layer 2 of [n, h, n], 3 of [n, h1, h2, h1, n]). */
export function codeLayer(net: Network): number {
  return Math.ceil(net.layers.length / 2);
}

/** Whitening folded as x_w = (x − μ)·Mᵀ: returns μ and M (k × n), or null when the model has none. */
export function whiteningAffine(preprocessing: unknown): { mean: Float64Array; M: Float64Array; k: number; n: number } | null {
  const w = (preprocessing as { whitening?: unknown } | null | undefined)?.whitening;
  if (!w) return null;
  const wh: Whitening = whiteningFromJSON(w);
  const { n, U, S, epsilon, mean } = wh.fit;
  if (wh.kind === 'zca') return { mean, M: zcaMatrix(wh.fit), k: n, n };
  // PCA whitening: z_j = u_jᵀ(x − μ) / √(S_j + ε), j < k   (whitening.ts pcaWhiten)
  const M = new Float64Array(wh.k * n);
  for (let j = 0; j < wh.k; j++) {
    const v = S[j]! + epsilon;
    if (!(v > 0)) throw new SpecError(`whitening: eigenvalue ${j} is ${S[j]} and ε = ${epsilon}; the PCA whitening divides by √(S + ε) = 0`);
    const s = 1 / Math.sqrt(v);
    for (let a = 0; a < n; a++) M[j * n + a] = U[a * n + j]! * s;
  }
  return { mean, M, k: wh.k, n };
}

type NodeInit = ConstructorParameters<typeof onnx.NodeProto>[0];

/** Builds the graph's node, initializer and output lists with unique names. */
class GraphBuilder {
  readonly nodes: NodeInit[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private count = 0;

  fresh(base: string): string {
    return `${base}_${this.count++}`;
  }

  /** A float32 initializer (values rounded to float32, little-endian raw data). */
  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`initializer ${name}: shape [${dims}] needs ${n} values, has ${values.length}`);
    const raw = new Uint8Array(4 * n);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) view.setFloat32(4 * i, values[i]!, true);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw }));
    return name;
  }

  ints(name: string, dims: number[], values: number[]): string {
    const raw = new Uint8Array(8 * values.length);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: raw }));
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[], attributes: InstanceType<typeof onnx.AttributeProto>[] = []): void {
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.fresh(opType), attribute: attributes });
  }

  /** One-output node; returns its output name. */
  op(opType: string, inputs: string[], base: string, attributes: InstanceType<typeof onnx.AttributeProto>[] = []): string {
    const out = this.fresh(base);
    this.node(opType, inputs, [out], attributes);
    return out;
  }
}

const A = onnx.AttributeProto.AttributeType;
const attrF = (name: string, f: number) => onnx.AttributeProto.create({ name, type: A.FLOAT, f });
const attrI = (name: string, i: number) => onnx.AttributeProto.create({ name, type: A.INT, i });

/**
 * a = f(z) as ONNX nodes, matching cpu/activations.ts exactly:
 * sigmoid → Sigmoid, tanh → Tanh, identity → Identity, relu → Relu,
 * prelu (z ≥ 0 ? z : αz) → LeakyRelu(α), elu (z ≥ 0 ? z : α(e^z − 1)) → Elu(α),
 * softplus → Softplus, softsign → Softsign, hardtanh → Clip(−1, 1),
 * softmax (row-wise) → Softmax(axis −1), step (z ≥ 0 ? 1 : 0) → Cast(GreaterOrEqual(z, 0)).
 */
function activationNodes(g: GraphBuilder, act: Activation, z: string, base: string): string {
  switch (act.name) {
    case 'sigmoid':
      return g.op('Sigmoid', [z], base);
    case 'tanh':
      return g.op('Tanh', [z], base);
    case 'identity':
      return g.op('Identity', [z], base);
    case 'relu':
      return g.op('Relu', [z], base);
    case 'prelu':
      return g.op('LeakyRelu', [z], base, [attrF('alpha', act.alpha)]);
    case 'elu':
      return g.op('Elu', [z], base, [attrF('alpha', act.alpha)]);
    case 'softplus':
      return g.op('Softplus', [z], base);
    case 'softsign':
      return g.op('Softsign', [z], base);
    case 'hardtanh': {
      const lo = g.floats(g.fresh('clip_min'), [], [-1]);
      const hi = g.floats(g.fresh('clip_max'), [], [1]);
      return g.op('Clip', [z, lo, hi], base);
    }
    case 'softmax':
      return g.op('Softmax', [z], base, [attrI('axis', -1)]);
    case 'step': {
      const zero = g.floats(g.fresh('zero'), [], [0]);
      const ge = g.op('GreaterOrEqual', [z, zero], `${base}_ge`);
      return g.op('Cast', [ge], base, [attrI('to', onnx.TensorProto.DataType.FLOAT)]);
    }
  }
}

/** k-sparse: the k largest entries of each row kept, the rest zero (TopK values scattered into zeros). */
function kSparseNodes(g: GraphBuilder, a: string, k: number, base: string): string {
  const kName = g.ints(g.fresh('k'), [1], [k]);
  const values = g.fresh(`${base}_topk_values`);
  const indices = g.fresh(`${base}_topk_indices`);
  // largest = 1, sorted = 1: ties go to the lower index (ONNX TopK), as in keepTopK.
  g.node('TopK', [a, kName], [values, indices], [attrI('axis', -1), attrI('largest', 1), attrI('sorted', 1)]);
  const shape = g.op('Shape', [a], `${base}_shape`);
  const zeros = g.op('ConstantOfShape', [shape], `${base}_zeros`, [
    onnx.AttributeProto.create({ name: 'value', type: A.TENSOR, t: onnx.TensorProto.create({ dims: [1], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(4) }) }),
  ]);
  return g.op('ScatterElements', [zeros, indices, values], base, [attrI('axis', 1)]);
}

function valueInfo(name: string, cols: number): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: [onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }), onnx.TensorShapeProto.Dimension.create({ dimValue: cols })] }),
      }),
    }),
  });
}

/**
 * Weight layer k (the notes' W(k+1)): z = a·W(k+1)ᵀ + b as a Gemm, a = f(z), then
 * the k-sparse mask where the layer has one. A tied decoder's W is its mirror
 * encoder's stored nIn × nOut matrix, which is exactly the Gemm's B with transB = 0.
 * A VAE's head pair is written by buildVaeOnnx instead.
 */
function layerNodes(g: GraphBuilder, net: Network, slot: LayerSlot, k: number, theta: Float64Array, W: Float64Array, bias: Float64Array, input: string): string {
  const l = k + 1;
  const b = g.floats(`b${l}`, [slot.nOut], bias);
  let z: string;
  if (slot.transposed) {
    const B = g.floats(`W${l}_tied_transposed`, [slot.nIn, slot.nOut], theta.subarray(slot.w, slot.w + slot.nIn * slot.nOut));
    z = g.op('Gemm', [input, B, b], `z${l + 1}`, [attrI('transB', 0)]);
  } else {
    z = g.op('Gemm', [input, g.floats(`W${l}`, [slot.nOut, slot.nIn], W), b], `z${l + 1}`, [attrI('transB', 1)]);
  }
  let a = activationNodes(g, net.activations[k]!, z, `a${l + 1}`);
  if (net.kSparse?.onLayer[k]) a = kSparseNodes(g, a, net.kSparse.k, `a${l + 1}_ksparse`);
  return a;
}

/** A ModelProto (opset 17) around the builder's nodes and initializers. */
function modelProto(
  g: GraphBuilder,
  inputs: InstanceType<typeof onnx.ValueInfoProto>[],
  outputs: InstanceType<typeof onnx.ValueInfoProto>[],
  doc: string,
  opts: OnnxExportOptions,
  metadata: [string, string][],
): InstanceType<typeof onnx.ModelProto> {
  const graph = onnx.GraphProto.create({
    name: 'webgpu_nn',
    node: g.nodes.map((n) => onnx.NodeProto.create(n)),
    initializer: g.initializers,
    input: inputs,
    output: outputs,
    docString: doc,
  });
  return onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET })],
    producerName: 'webgpu-nn',
    producerVersion: opts.producerVersion ?? '0',
    docString: 'Inference graph exported by webgpu-nn (float32).',
    graph,
    metadataProps: metadata.map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
  });
}

function isLive(m: ExportSource | LiveModelSource): m is LiveModelSource {
  return typeof (m as LiveModelSource).readParameters === 'function';
}

/**
 * The ONNX model (serialized ModelProto bytes) of a saved or live model. Live
 * models carry no preprocessing; pass `preprocessing` in a saved-model object to fold it.
 */
export async function exportOnnx(model: ExportSource | LiveModelSource, opts: OnnxExportOptions = {}): Promise<Uint8Array> {
  if (isLive(model)) return buildOnnx({ network: model.network, theta: await model.readParameters(), preprocessing: null }, opts);
  return buildOnnx(model, opts);
}

/** The network, layout, θ (finite, of the right length) and layer views of a model to export. */
function exportParts(model: ExportSource) {
  const net = resolveSpec(model.network);
  const layout = paramLayout(net);
  const theta = Float64Array.from(model.theta);
  const views = layerViews(layout, theta); // throws on a θ of the wrong length
  for (let i = 0; i < theta.length; i++) if (!Number.isFinite(theta[i]!)) throw new SpecError(`θ[${i}] is ${theta[i]}`);
  return { net, layout, theta, views };
}

/**
 * The graph's input with the saved whitening folded in as x_w = (x − μ)·Mᵀ (Sub, MatMul):
 * returns the whitened tensor's name, the graph input's width and the whitening (or null).
 */
function inputNodes(g: GraphBuilder, net: Network, preprocessing: unknown, opts: OnnxExportOptions): { a: string; nIn0: number; white: ReturnType<typeof whiteningAffine> } {
  const white = opts.foldPreprocessing === false ? null : whiteningAffine(preprocessing);
  if (!white) return { a: 'input', nIn0: net.layers[0]!, white };
  if (white.k !== net.layers[0]) throw new SpecError(`the saved whitening outputs ${white.k} features but the input layer has ${net.layers[0]} units`);
  const mu = g.floats('whitening_mean', [white.n], white.mean);
  // (x − μ)·Mᵀ: the k × n matrix M is written transposed, as the n × k MatMul operand.
  const MT = new Float64Array(white.n * white.k);
  for (let j = 0; j < white.k; j++) for (let c = 0; c < white.n; c++) MT[c * white.k + j] = white.M[j * white.n + c]!;
  const Mt = g.floats('whitening_matrix_transposed', [white.n, white.k], MT);
  const centered = g.op('Sub', ['input', mu], 'centered');
  return { a: g.op('MatMul', [centered, Mt], 'whitened'), nIn0: white.n, white };
}

function finish(proto: InstanceType<typeof onnx.ModelProto>): Uint8Array {
  const err = onnx.ModelProto.verify(proto);
  if (err) throw new Error(`exportOnnx built an invalid ModelProto: ${err}`);
  return onnx.ModelProto.encode(proto).finish();
}

/** Synchronous form of exportOnnx for a saved model (not a VAE: see buildVaeOnnx). */
export function buildOnnx(model: ExportSource, opts: OnnxExportOptions = {}): Uint8Array {
  const { net, layout, theta, views } = exportParts(model);
  if (net.vae) throw new SpecError('a variational autoencoder exports two graphs (encoder: input → mu, logvar; decoder: z → output): use buildVaeOnnx / exportVaeOnnx');
  const L = net.layers.length;
  const outputs: { layer: number; name: string }[] = [{ layer: L, name: 'output' }];
  if (net.autoencoder && L > 2) {
    const c = opts.codeLayer ?? codeLayer(net);
    if (!Number.isInteger(c) || c < 2 || c > L - 1) throw new SpecError(`codeLayer ${c} is not a hidden layer; hidden layers are 2 … ${L - 1}`);
    outputs.push({ layer: c, name: 'code' });
  }
  for (const l of opts.extraOutputs ?? []) {
    if (!Number.isInteger(l) || l < 2 || l > L) throw new SpecError(`extra output layer ${l} does not exist; layers are numbered 2 … ${L}`);
    if (!outputs.some((o) => o.layer === l && o.name === `layer${l}`)) outputs.push({ layer: l, name: `layer${l}` });
  }

  const g = new GraphBuilder();
  const { a: a0, nIn0, white } = inputNodes(g, net, model.preprocessing, opts);
  let a = a0;

  const layerOut: string[] = [];
  layout.slots.forEach((slot, k) => {
    a = layerNodes(g, net, slot, k, theta, views[k]!.W, views[k]!.b, a);
    layerOut.push(a);
  });
  for (const o of outputs) g.node('Identity', [layerOut[o.layer - 2]!], [o.name]);

  const proto = modelProto(g, [valueInfo('input', nIn0)], outputs.map((o) => valueInfo(o.name, net.layers[o.layer - 1]!)), `layers [${net.layers}]${white ? ', whitening folded in' : ''}`, opts, [
    ['webgpu-nn.spec', JSON.stringify(networkToSpec(net))],
    ['webgpu-nn.outputs', JSON.stringify(Object.fromEntries(outputs.map((o) => [o.name, o.layer])))],
    ['webgpu-nn.whitening-folded', String(!!white)],
  ]);
  return finish(proto);
}

/** A VAE's two ONNX models (serialized ModelProto bytes). */
export interface VaeOnnx {
  /** input [batch, n0] (raw, when whitening is folded in) → "mu", "logvar" [batch, d]. */
  encoder: Uint8Array;
  /** "z" [batch, d] → "output" [batch, nL]. */
  decoder: Uint8Array;
}

/** Options of a VAE's export: codeLayer and extraOutputs do not apply (the graphs' outputs are fixed). */
export type VaeOnnxExportOptions = Pick<OnnxExportOptions, 'foldPreprocessing' | 'producerVersion'>;

/** The ONNX encoder and decoder of a saved or live VAE (see the header). */
export async function exportVaeOnnx(model: ExportSource | LiveModelSource, opts: VaeOnnxExportOptions = {}): Promise<VaeOnnx> {
  if (isLive(model)) return buildVaeOnnx({ network: model.network, theta: await model.readParameters(), preprocessing: null }, opts);
  return buildVaeOnnx(model, opts);
}

/** Synchronous form of exportVaeOnnx for a saved model. */
export function buildVaeOnnx(model: ExportSource, opts: VaeOnnxExportOptions = {}): VaeOnnx {
  const { net, layout, theta, views } = exportParts(model);
  if (!net.vae) throw new SpecError('buildVaeOnnx needs a variational autoencoder (a spec with "vae"); use buildOnnx');
  const o = opts as OnnxExportOptions;
  if (o.codeLayer !== undefined || o.extraOutputs !== undefined) {
    throw new SpecError("a VAE's ONNX graphs have fixed outputs (mu, logvar; output): codeLayer and extraOutputs do not apply");
  }
  const c = net.vae.latent; // weight layer c − 1 is the head pair, layers c … L−2 the decoder
  const d = net.layers[c]!;
  const spec: [string, string] = ['webgpu-nn.spec', JSON.stringify(networkToSpec(net))];

  // Encoder: the trunk, then the heads as two Gemms (θ's head slot: W_mu, W_logvar, b_mu, b_logvar).
  const ge = new GraphBuilder();
  const { a: a0, nIn0, white } = inputNodes(ge, net, model.preprocessing, opts);
  let a = a0;
  for (let k = 0; k < c - 1; k++) a = layerNodes(ge, net, layout.slots[k]!, k, theta, views[k]!.W, views[k]!.b, a);
  const nIn = layout.slots[c - 1]!.nIn;
  const Wh = views[c - 1]!.W;
  const bh = views[c - 1]!.b;
  const head = (name: 'mu' | 'logvar', from: number) =>
    ge.op('Gemm', [a, ge.floats(`W${c}_${name}`, [d, nIn], Wh.subarray(from * nIn, (from + d) * nIn)), ge.floats(`b${c}_${name}`, [d], bh.subarray(from, from + d))], `${name}_gemm`, [attrI('transB', 1)]);
  ge.node('Identity', [head('mu', 0)], ['mu']);
  ge.node('Identity', [head('logvar', d)], ['logvar']);
  const encoder = modelProto(ge, [valueInfo('input', nIn0)], [valueInfo('mu', d), valueInfo('logvar', d)], `VAE encoder, layers [${net.layers.slice(0, c + 1)}] → mu, logvar${white ? ', whitening folded in' : ''}`, opts, [
    spec,
    ['webgpu-nn.vae-graph', 'encoder'],
    ['webgpu-nn.whitening-folded', String(!!white)],
  ]);

  // Decoder: z through weight layers c … L−2.
  const gd = new GraphBuilder();
  a = 'z';
  for (let k = c; k < layout.slots.length; k++) a = layerNodes(gd, net, layout.slots[k]!, k, theta, views[k]!.W, views[k]!.b, a);
  gd.node('Identity', [a], ['output']);
  const decoder = modelProto(gd, [valueInfo('z', d)], [valueInfo('output', net.layers[net.layers.length - 1]!)], `VAE decoder, layers [${net.layers.slice(c)}]`, opts, [
    spec,
    ['webgpu-nn.vae-graph', 'decoder'],
  ]);
  return { encoder: finish(encoder), decoder: finish(decoder) };
}
