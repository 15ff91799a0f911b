// `wgnn cost`: J(θ; X, Y), its parts and optionally ∇J, from files, on either backend.

import { createModel } from '../model.js';
import type { CostParts } from '../model-contract.js';
import { resolveSpec, type NetworkSpec } from '../spec.js';
import { parseArgs } from './args.js';
import { readFloat64File, readJsonFile, readMatrixFile, writeFloat64File, type CliIO } from './io.js';

export const costUsage = `Usage: wgnn cost --spec SPEC.json --theta THETA.bin --x X.bin [--y Y.bin] [options]

Evaluates J(θ; X, Y). SPEC.json is a NetworkSpec; the .bin files are raw
little-endian float64: θ in the order of params.ts, X (and Y) examples ×
features, row-major (the number of examples is inferred from the file size).

  --backend cpu|webgpu   (default cpu)
  --y Y.bin              targets, examples × nL (not for an autoencoder)
  --grad-out GRAD.bin    also compute ∇J and write it as float64 (atomically)
  --json                 print one JSON object
`;

const OPTIONS = {
  spec: 'value',
  theta: 'value',
  x: 'value',
  y: 'value',
  backend: 'value',
  'grad-out': 'value',
  json: 'flag',
} as const;

export interface CostCommandReport {
  backend: 'cpu' | 'webgpu';
  cost: number;
  parts: CostParts;
  /** Number of examples. */
  m: number;
  /** Length of θ. */
  params: number;
  /** Mean of ρ̂ over the units of each hidden layer (absent without hidden layers). */
  rhoHatMean?: number[];
}

export async function costCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseArgs('cost', argv, OPTIONS);
  if (args.flag('help')) {
    io.stdout(costUsage);
    return 0;
  }
  const backend = args.oneOf('backend', ['cpu', 'webgpu'] as const) ?? 'cpu';
  const net = resolveSpec(readJsonFile(args.requireString('spec', 'net.json'), 'spec') as NetworkSpec);
  const theta = readFloat64File(args.requireString('theta', 'theta.bin'), 'θ');
  const X = readMatrixFile(args.requireString('x', 'x.bin'), net.layers[0]!, 'X');
  const yPath = args.string('y');
  const Y = yPath === undefined ? undefined : readMatrixFile(yPath, net.layers[net.layers.length - 1]!, 'Y');
  const gradOut = args.string('grad-out');

  const model = await createModel(net, { backend, parameters: theta });
  let report: CostCommandReport;
  try {
    const r = await model.cost(X, Y, { gradient: gradOut !== undefined });
    report = { backend, cost: r.cost, parts: r.parts, m: X.rows, params: theta.length };
    if (r.rhoHat.length > 0) report.rhoHatMean = r.rhoHat.map((h) => h.reduce((s, v) => s + v, 0) / h.length);
    if (gradOut !== undefined) writeFloat64File(gradOut, r.grad!);
  } finally {
    model.dispose();
  }

  if (args.flag('json')) {
    io.stdout(JSON.stringify(report) + '\n');
  } else {
    const p = report.parts;
    io.stdout(
      [
        `cost ${report.cost} over ${report.m} examples (${report.params} parameters, ${backend})`,
        `  data ${p.data}, weight decay ${p.weightDecay}, sparsity ${p.sparsity}, l1 ${p.l1}`,
        ...(report.rhoHatMean ? [`  mean ρ̂ per hidden layer: ${report.rhoHatMean.join(', ')}`] : []),
        ...(gradOut !== undefined ? [`  ∇J written to ${gradOut}`] : []),
      ].join('\n') + '\n',
    );
  }
  return 0;
}
