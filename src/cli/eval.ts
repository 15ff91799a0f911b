// `wgnn eval`: accuracy and confusion matrix of a trained classifier on a test
// set. Given a run folder it reads config.json to know the data source, its
// seeded split and (self-taught runs) the labeled classes, and writes eval.json
// there.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createModel } from '../model.js';
import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { decodeModel, type SavedModel } from '../io/model-file.js';
import { readJsonFile, writeJsonAtomic } from '../io/files.js';
import { applyWhitening, whiteningFromJSON } from '../data/whitening.js';
import { loadIdxDataset } from '../data/idx-node.js';
import { filterClasses, type LabeledSet } from '../data/labels.js';
import { accuracy, confusionMatrix, formatConfusionMatrix } from '../metrics.js';
import { adapterLabel } from '../gpu/device.js';
import type { GpuModel } from '../gpu/model.js';
import { checkConfig, type DataConfig, type TrainConfig } from '../train/config.js';
import { loadTrainingData } from '../train/data.js';
import { parseArgs, UsageError } from './args.js';
import { vaeTestNumbers, type VaeNumbers } from '../train/vae-run.js';
import type { CliIO } from './io.js';

export const evalUsage = `Usage: wgnn eval --model DIR|FILE [--data mnist|fashion-mnist|idx] [options]

Evaluates a trained classifier (softmax output) on a test set: prints the
accuracy and the confusion matrix (rows = true class, columns = predicted) and
writes eval.json beside the model. Given a run folder of wgnn train, the test
set is the one of its configuration (same data source, seeded split, classes).
A variational autoencoder: prints the test −ELBO and the importance-weighted
−log p(x) (nats per example; k samples, Burda et al. 2015), computed on the GPU
in chunks, with the run's vaeEval settings unless flags override them.

  --model DIR|FILE     a run folder (model.safetensors + config.json) or a model file
  --data SOURCE        mnist (the embedded digits' seeded test split), fashion-mnist
                       (its 10 000 test images) or idx (--images, --labels)
  --images FILE        idx: test images (IDX, gzip or not)
  --labels FILE        idx: test labels
  --seed N             mnist: the seed of the train/test split (default: the run's, or 1)
  --backend B          webgpu (default) or cpu
  --samples K          VAE: importance samples per example (default: the run's, or 1000)
  --eval-seed N        VAE: the evaluation's ε seed (default: the run's, or 1)
  --json               print eval.json to stdout instead of the table
`;

const OPTIONS = { model: 'value', data: 'value', images: 'value', labels: 'value', seed: 'value', backend: 'value', json: 'flag', samples: 'value', 'eval-seed': 'value' } as const;

interface Located {
  modelPath: string;
  dir: string;
  config: TrainConfig | null;
}

function locate(path: string): Located {
  if (!existsSync(path)) throw new UsageError(`--model ${path}: no such file or folder`);
  const folder = statSync(path).isDirectory();
  const modelPath = folder ? join(path, 'model.safetensors') : path;
  if (!existsSync(modelPath)) throw new UsageError(`--model ${path}: the folder holds no model.safetensors (not an output folder of wgnn train)`);
  const dir = dirname(resolve(modelPath));
  const cfgPath = join(dir, 'config.json');
  // A model file's own run folder: config.json beside it (the stage models in stages/<name>/ have none).
  const config = existsSync(cfgPath) ? readJsonFile(cfgPath, checkConfig) : null;
  return { modelPath, dir, config };
}

/** The test examples for `config` / flags, renumbered as the model's classes when the run was self-taught. */
async function testSet(a: ReturnType<typeof parseArgs>, config: TrainConfig | null): Promise<{ set: LabeledSet; source: string }> {
  const source = a.oneOf('data', ['mnist', 'fashion-mnist', 'idx'] as const);
  const seedFlag = a.int('seed', 0);
  if (source === 'idx') {
    const images = a.requireString('images', 'test-images.idx3-ubyte');
    const labels = a.requireString('labels', 'test-labels.idx1-ubyte');
    return { set: loadIdxDataset(images, labels), source: `idx ${basename(images)}` };
  }
  let d: DataConfig;
  if (source) d = { source };
  else if (config) d = config.data;
  else throw new UsageError('--model is a model file without a config.json beside it: name the test data with --data mnist|fashion-mnist|idx');
  if (d.source !== 'mnist' && d.source !== 'fashion-mnist' && d.source !== 'idx') throw new UsageError(`the run's data.source ${d.source} has no labeled test set; name one with --data`);
  const seed = seedFlag ?? config?.seed ?? 1;
  const data = await loadTrainingData(d, seed);
  if (!data.test?.labels || !data.classes) throw new UsageError(`data.source ${d.source} has no labeled test set here (idx needs testImages and testLabels); name one with --data`);
  let set: LabeledSet = { X: data.test.X, labels: data.test.labels, classes: data.classes };
  // Self-taught runs classify the labeled classes only, renumbered 0 … k−1 (the run's own data, not a --data override).
  const st = config?.selfTaught;
  if (st && !source) set = filterClasses(set, st.labeledClasses, { relabel: true });
  return { set, source: d.source === 'mnist' ? `mnist (seed ${seed})` : d.source };
}

export async function evalCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs('eval', argv, OPTIONS);
  if (a.flag('help')) {
    io.stdout(evalUsage);
    return 0;
  }
  const path = a.requireString('model', 'runs/mnist-softmax');
  const backend = a.oneOf('backend', ['webgpu', 'cpu'] as const) ?? 'webgpu';
  const where = locate(path);
  const saved = decodeModel(new Uint8Array(readFileSync(where.modelPath)), where.modelPath);

  const net = saved.network;
  const out = net.activations[net.activations.length - 1]!;
  const nL = net.layers[net.layers.length - 1]!;
  if (net.vae) return evalVae(a, io, where, saved, backend);
  if (out.name !== 'softmax') {
    throw new SpecError(`${where.modelPath} is not a classifier: its output layer is ${out.name}${net.autoencoder ? ' (an autoencoder)' : ''}, not softmax`);
  }
  const { set, source } = await testSet(a, where.config);
  let X: Matrix = set.X;
  const pre = saved.preprocessing as { whitening?: unknown } | null;
  if (pre?.whitening) X = applyWhitening(X, whiteningFromJSON(pre.whitening));
  if (X.cols !== net.layers[0]) throw new SpecError(`the test data have ${X.cols} features per example but the model's input layer has ${net.layers[0]} units`);
  if (set.classes > nL) throw new SpecError(`the test data have ${set.classes} classes but the model's output layer has ${nL} units`);

  const model = await createModel(net, { backend, parameters: saved.theta });
  let pred: Matrix;
  let adapter: string | null = null;
  try {
    pred = await model.predict(X);
    if (model.backend === 'webgpu') adapter = adapterLabel((model as GpuModel).adapter);
  } finally {
    model.dispose();
  }
  const acc = accuracy(pred, set.labels);
  const cm = confusionMatrix(pred, set.labels, nL);
  const result = {
    model: resolve(where.modelPath),
    data: source,
    examples: set.labels.length,
    correct: Math.round(acc * set.labels.length),
    accuracy: acc,
    confusionMatrix: cm,
    backend: model.backend,
    adapter,
    date: new Date().toISOString(),
  };
  // The accuracy is printed whether or not eval.json can be written; a failed write is reported after it (exit 1).
  const evalPath = join(where.dir, 'eval.json');
  let writeError: string | null = null;
  try {
    writeJsonAtomic(evalPath, result);
  } catch (e) {
    writeError = (e as Error).message;
  }
  if (a.flag('json')) {
    io.stdout(`${JSON.stringify(result)}\n`);
  } else {
    io.stdout(`accuracy ${(100 * acc).toFixed(2)}% (${result.correct} / ${result.examples}) on ${source} test examples\n`);
    io.stdout(`confusion matrix (rows: true class, columns: predicted)\n${formatConfusionMatrix(cm)}`);
    if (!writeError) io.stdout(`${evalPath}\n`);
  }
  if (writeError) {
    io.stderr(`wgnn: the accuracy above was not saved: ${writeError.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
  return 0;
}

/** A VAE: test −ELBO and importance-weighted NLL (the numbers of summary.json for a run folder). */
async function evalVae(a: ReturnType<typeof parseArgs>, io: CliIO, where: Located, saved: SavedModel, backend: 'webgpu' | 'cpu'): Promise<number> {
  const { network: net, theta, preprocessing } = saved;
  const { set, source } = await testSet(a, where.config);
  let X: Matrix = set.X;
  const pre = preprocessing as { whitening?: unknown } | null;
  if (pre?.whitening) X = applyWhitening(X, whiteningFromJSON(pre.whitening));
  if (X.cols !== net.layers[0]) throw new SpecError(`the test data have ${X.cols} features per example but the model's input layer has ${net.layers[0]} units`);
  const cfg = { samples: a.int('samples', 0) ?? where.config?.vaeEval?.samples, seed: a.int('eval-seed', 0) ?? where.config?.vaeEval?.seed };
  const model = await createModel(net, { backend, parameters: theta });
  let numbers: VaeNumbers;
  let adapter: string | null = null;
  const t0 = performance.now();
  try {
    numbers = await vaeTestNumbers(model, X, cfg);
    if (model.backend === 'webgpu') adapter = adapterLabel((model as unknown as GpuModel).adapter);
  } finally {
    model.dispose();
  }
  const result = { model: resolve(where.modelPath), data: source, examples: X.rows, ...numbers, seconds: (performance.now() - t0) / 1000, backend, adapter, date: new Date().toISOString() };
  writeJsonAtomic(join(where.dir, 'eval.json'), result);
  if (a.flag('json')) {
    io.stdout(`${JSON.stringify(result)}\n`);
  } else {
    io.stdout(`test −ELBO ${numbers.testNegElbo.toFixed(3)} nats per example on ${X.rows} ${source} test examples\n`);
    if (numbers.testNll !== null) io.stdout(`test −log p(x) ≈ ${numbers.testNll.toFixed(3)} nats per example (importance-weighted, k = ${numbers.importanceSamples})\n`);
    io.stdout(`${join(where.dir, 'eval.json')}\n`);
  }
  return 0;
}
