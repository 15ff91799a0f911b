// `wgnn gradcheck`: checks ∇J of a network on random data.
//   --backend cpu:    the CPU analytic gradient against central differences (notes §2.2).
//   --backend webgpu: the GPU gradient against the CPU analytic gradient.

import { readFileSync } from 'node:fs';
import { cpuCost } from '../cpu/network.js';
import { compareGradients, numericGradient, sampleIndices, toyCheck, type GradientMismatch } from '../gradcheck.js';
import { createModel } from '../model.js';
import type { BackendName } from '../model-contract.js';
import { INITIALIZERS, initParameters } from '../params.js';
import { Rng } from '../prng.js';
import { LOSSES, resolveSpec, type ActivationName, type ActivationSpec, type Network, type NetworkSpec } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { parseArgs, UsageError, type Args } from './args.js';
import type { CliIO } from './io.js';

export const gradcheckUsage = `Usage: wgnn gradcheck --layers N1,N2,…,NL [options]
       wgnn gradcheck --spec FILE.json [options]

Checks the gradient of J on --batch random examples (uniform in [0, 1) from
Rng(--seed)) at θ from --init with --seed. A VAE's ε is held fixed (the first
draw of its ε stream), as the gradient check of a stochastic objective needs.

  --backend cpu|webgpu     cpu: analytic vs central differences; webgpu: GPU vs
                           CPU analytic gradient (default cpu)
  --spec FILE              any network spec as JSON (a NetworkSpec, or a training
                           configuration's "network"); replaces the network flags below
  --layers LIST            units per layer, input first, e.g. 64,25,64
  --activation A[,A…]      one for all layers or one per non-input layer; prelu
                           and elu take a parameter as prelu:0.1 (default sigmoid)
  --loss L                 squared | cross-entropy | softmax-cross-entropy (default squared)
  --autoencoder            y = x (the default when n1 = nL and the loss is not
                           softmax-cross-entropy)
  --lambda X               weight decay λ (default 0)
  --rho X --beta X         KL sparsity target ρ and weight β (both or neither)
  --sparse-layers LIST     hidden layers with the sparsity penalty (default all)
  --l1 X                   L1 activation penalty weight
  --l1-layers LIST         hidden layers with the L1 penalty (default all)
  --batch M                examples (default 10)
  --seed S                 data, initialisation and sampling seed (default 1)
  --init I                 ${INITIALIZERS.join(' | ')} (default ufldl)
  --epsilon E              central-difference step (default 1e-4)
  --sample N               check a seeded random subset of N coordinates
  --json                   print one JSON object
`;

const OPTIONS = {
  spec: 'value',
  backend: 'value',
  layers: 'value',
  activation: 'value',
  loss: 'value',
  autoencoder: 'flag',
  lambda: 'value',
  rho: 'value',
  beta: 'value',
  'sparse-layers': 'value',
  l1: 'value',
  'l1-layers': 'value',
  batch: 'value',
  seed: 'value',
  init: 'value',
  epsilon: 'value',
  sample: 'value',
  json: 'flag',
} as const;

function parseActivations(s: string): NetworkSpec['activation'] {
  const list: ActivationSpec[] = s.split(',').map((part) => {
    const [name, alpha, extra] = part.split(':');
    if (extra !== undefined || !name) throw new UsageError(`--activation entry ${JSON.stringify(part)} is not NAME or NAME:ALPHA`);
    if (alpha === undefined) return { name: name as ActivationName };
    const a = alpha.trim() === '' ? NaN : Number(alpha);
    if (!Number.isFinite(a)) throw new UsageError(`--activation ${name}: alpha must be a number, got ${JSON.stringify(alpha)}`);
    return { name: name as ActivationName, alpha: a };
  });
  return list.length === 1 ? list[0]! : list;
}

const NETWORK_FLAGS = ['layers', 'activation', 'loss', 'autoencoder', 'lambda', 'rho', 'beta', 'sparse-layers', 'l1', 'l1-layers'] as const;

/** The NetworkSpec of --spec FILE: the JSON itself, or its "network" when it is a training configuration. */
export function specFromFile(path: string): NetworkSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--spec ${path}: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`--spec ${path}: expected a JSON object (a network spec), got ${JSON.stringify(raw)}`);
  const o = raw as { network?: unknown; layers?: unknown };
  const spec = o.layers === undefined && o.network && typeof o.network === 'object' ? o.network : raw;
  return spec as NetworkSpec;
}

/** The NetworkSpec the command line describes (resolveSpec validates the rest). */
export function specFromArgs(args: Args): NetworkSpec {
  const file = args.string('spec');
  if (file !== undefined) {
    const clash = NETWORK_FLAGS.filter((f) => args.has(f));
    if (clash.length) throw new UsageError(`--spec gives the whole network; drop ${clash.map((f) => `--${f}`).join(', ')}`);
    return specFromFile(file);
  }
  const layers = args.intList('layers', 1);
  if (!layers) throw new UsageError('gradcheck needs --layers (e.g. --layers 64,25,64)');
  const loss = args.oneOf('loss', LOSSES) ?? 'squared';
  const spec: NetworkSpec = {
    layers,
    activation: parseActivations(args.string('activation') ?? 'sigmoid'),
    loss,
    autoencoder: args.flag('autoencoder') || (layers[0] === layers[layers.length - 1] && loss !== 'softmax-cross-entropy'),
    lambda: args.number('lambda') ?? 0,
  };
  const rho = args.number('rho');
  const beta = args.number('beta');
  if (beta !== undefined && rho === undefined) throw new UsageError('--beta needs --rho (the sparsity target)');
  if (rho !== undefined && beta === undefined) throw new UsageError('--rho needs --beta (the sparsity weight)');
  const sparseLayers = args.intList('sparse-layers', 1);
  if (rho !== undefined && beta !== undefined) spec.sparsity = { rho, beta, ...(sparseLayers && { layers: sparseLayers }) };
  else if (sparseLayers) throw new UsageError('--sparse-layers needs --rho and --beta');
  const l1 = args.number('l1');
  const l1Layers = args.intList('l1-layers', 1);
  if (l1 !== undefined) spec.l1 = { weight: l1, ...(l1Layers && { layers: l1Layers }) };
  else if (l1Layers) throw new UsageError('--l1-layers needs --l1');
  return spec;
}

/** m examples uniform in [0, 1) and, for a network that is not an autoencoder, targets (one-hot for softmax). */
export function randomData(net: Network, m: number, seed: number): { X: Matrix; Y: Matrix | undefined } {
  const rng = new Rng(seed);
  const n1 = net.layers[0]!;
  const nL = net.layers[net.layers.length - 1]!;
  const X: Matrix = { rows: m, cols: n1, data: new Float64Array(m * n1) };
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.uniform();
  if (net.autoencoder) return { X, Y: undefined };
  const Y: Matrix = { rows: m, cols: nL, data: new Float64Array(m * nL) };
  if (net.loss === 'softmax-cross-entropy') for (let i = 0; i < m; i++) Y.data[i * nL + rng.int(nL)] = 1;
  else for (let i = 0; i < Y.data.length; i++) Y.data[i] = rng.uniform();
  return { X, Y };
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
}

export interface BackendGradient {
  cost: number;
  grad: Float64Array;
  adapter?: AdapterInfo;
}

/** J and ∇J at θ on the given backend: the only backend-specific step of the command. */
export async function analyticGradient(backend: BackendName, net: Network, theta: Float64Array, X: Matrix, Y: Matrix | undefined): Promise<BackendGradient> {
  if (backend === 'cpu') {
    const r = cpuCost(net, theta, X, Y, { gradient: true });
    return { cost: r.cost, grad: r.grad! };
  }
  const model = await createModel(net, { backend, parameters: theta });
  try {
    const r = await model.cost(X, Y);
    const out: BackendGradient = { cost: r.cost, grad: Float64Array.from(r.grad!) };
    if ('adapter' in model && model.adapter && typeof model.adapter === 'object') {
      const a = model.adapter as Partial<AdapterInfo>;
      out.adapter = { vendor: a.vendor ?? '', architecture: a.architecture ?? '', description: a.description ?? '' };
    }
    return out;
  } finally {
    model.dispose();
  }
}

export interface GradcheckReport {
  backend: BackendName;
  layers: number[];
  params: number;
  cost: number;
  /** ‖g − r‖ / ‖g + r‖ over the checked coordinates (r: numeric, or the CPU gradient for webgpu). */
  maxRelDiff: number;
  maxAbsDiff: number;
  /** Central-difference step; null for webgpu (compared with the CPU analytic gradient). */
  epsilon: number | null;
  checked: number;
  worst: GradientMismatch[];
  toyRelDiff: number;
  seconds: number;
  adapter?: AdapterInfo;
}

const roundF32 = (a: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(a));

export async function runGradcheck(args: Args): Promise<GradcheckReport> {
  const start = performance.now();
  const backend = args.oneOf('backend', ['cpu', 'webgpu'] as const) ?? 'cpu';
  const net = resolveSpec(specFromArgs(args));
  const m = args.int('batch', 1) ?? 10;
  const seed = args.int('seed', 0) ?? 1;
  const init = args.oneOf('init', INITIALIZERS) ?? 'ufldl';
  const epsilon = args.number('epsilon') ?? 1e-4;
  if (!(epsilon > 0)) throw new UsageError(`--epsilon must be > 0, got ${args.string('epsilon')}`);
  const sample = args.int('sample', 1);

  let theta = initParameters(net, { init, seed });
  let { X, Y } = randomData(net, m, seed);
  if (backend === 'webgpu') {
    // The GPU holds float32: give the CPU reference the same rounded inputs.
    theta = roundF32(theta);
    X = { ...X, data: roundF32(X.data) };
    if (Y) Y = { ...Y, data: roundF32(Y.data) };
  }
  const indices = sample !== undefined && sample < theta.length ? sampleIndices(theta.length, sample, seed) : undefined;

  const got = await analyticGradient(backend, net, theta, X, Y);
  const reference =
    backend === 'cpu'
      ? numericGradient((t) => cpuCost(net, t, X, Y, { gradient: false }).cost, theta, { epsilon, indices })
      : cpuCost(net, theta, X, Y, { gradient: true }).grad!;
  const cmp = compareGradients(got.grad, reference, indices);
  const report: GradcheckReport = {
    backend,
    layers: [...net.layers],
    params: theta.length,
    cost: got.cost,
    maxRelDiff: cmp.relDiff,
    maxAbsDiff: cmp.maxAbsDiff,
    epsilon: backend === 'cpu' ? epsilon : null,
    checked: indices ? indices.length : theta.length,
    worst: cmp.worst,
    toyRelDiff: toyCheck(),
    seconds: 0,
  };
  if (got.adapter) report.adapter = got.adapter;
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

function describe(r: GradcheckReport): string {
  const against = r.backend === 'cpu' ? `central differences (ε = ${r.epsilon})` : 'the CPU analytic gradient';
  const lines = [
    `gradcheck ${r.backend} ${r.layers.join('-')}: ${r.params} parameters, cost ${r.cost}`,
    ...(r.adapter ? [`adapter: ${[r.adapter.vendor, r.adapter.architecture, r.adapter.description].filter(Boolean).join(' / ')}`] : []),
    `relDiff ‖g − r‖/‖g + r‖ = ${r.maxRelDiff.toExponential(3)} over ${r.checked} coordinates against ${against}`,
    `max |g − r| = ${r.maxAbsDiff.toExponential(3)}`,
    ...r.worst.map((w) => `  θ[${w.index}]: analytic ${w.analytic}, reference ${w.numeric}, |diff| ${w.absDiff.toExponential(2)}`),
    `toy check (x1² + 3·x1·x2 at (4, 10)): relDiff ${r.toyRelDiff.toExponential(3)}`,
    `${r.seconds.toFixed(2)} s`,
  ];
  return lines.join('\n') + '\n';
}

export async function gradcheckCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseArgs('gradcheck', argv, OPTIONS);
  if (args.flag('help')) {
    io.stdout(gradcheckUsage);
    return 0;
  }
  const report = await runGradcheck(args);
  io.stdout(args.flag('json') ? JSON.stringify(report) + '\n' : describe(report));
  return 0;
}
