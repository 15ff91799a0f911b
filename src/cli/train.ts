// `wgnn train`: a training run from a JSON configuration and/or flags, with a
// live progress line on a terminal, checkpoints and --resume.

import { readJsonFile, type CliIO } from './io.js';
import { parseArgs, UsageError, type Args } from './args.js';
import { ACTIVATIONS, LOSSES, type NetworkSpec } from '../spec.js';
import { INITIALIZERS } from '../params.js';
import { METHODS, type OptimizerOptions } from '../optim/optimize.js';
import { checkConfig, type DataConfig, type TrainConfig } from '../train/config.js';
import { MAIN_JOB, MAIN_JOB_FULL } from '../train/defaults.js';
import { readRunConfig, train, type Progress } from '../train/run.js';

export const trainUsage = `Usage: wgnn train [--config FILE.json] [options]
       wgnn train --resume DIR

Trains a network and writes the output folder (model.safetensors, model.json,
features.png, reconstructions.png, loss.svg, summary.json, checkpoint/).
Without --config it runs the main job: a 784-196-784 sparse autoencoder on the
embedded MNIST digits (ρ 0.1, λ 3e-3, β 3); --full runs its full-size version.
Flags override the configuration.

  --config FILE        JSON configuration (see README "Training configuration")
  --resume DIR         continue the run in DIR from its last checkpoint
  --full               the full-size main job (for a real GPU)
  --out DIR            output folder (default runs/<name>)
  --name NAME          run name
  --backend B          webgpu (default) or cpu
  --seed N             seed for initialization, data sampling and shuffling
  network:  --layers 784,196,784 --activation A --loss L --lambda λ --beta β --rho ρ
            --init ${INITIALIZERS.join('|')}  --autoencoder
  data:     --data mnist|fashion-mnist|natural --limit N --patches N --patch-size P
  optimizer: --optimizer ${METHODS.join('|')} --iterations N --epochs N
            --batch-size N --lr α --momentum μ
  --checkpoint-every N write a checkpoint every N iterations and at the last planned
                       one (0: only at the last planned iteration and on Ctrl-C)
  --max-binding-bytes N  WebGPU: cap one storage binding at N bytes (maxBindingBytes)
  --max-data-bytes N   WebGPU: a training set over N bytes streams from host memory (maxDataBytes)
  --data-precision P   f32 (default) or f16: store the training set as half floats (dataPrecision)
  --json               print summary.json to stdout at the end
  --quiet              no progress output
`;

const OPTIONS = {
  config: 'value', resume: 'value', full: 'flag', out: 'value', name: 'value', backend: 'value', seed: 'value',
  layers: 'value', activation: 'value', loss: 'value', lambda: 'value', beta: 'value', rho: 'value', init: 'value', autoencoder: 'flag',
  data: 'value', limit: 'value', patches: 'value', 'patch-size': 'value',
  optimizer: 'value', iterations: 'value', epochs: 'value', 'batch-size': 'value', lr: 'value', momentum: 'value',
  'checkpoint-every': 'value', 'max-binding-bytes': 'value', 'max-data-bytes': 'value', 'data-precision': 'value', json: 'flag', quiet: 'flag',
} as const;

/** Optimizer flags and the methods they apply to (any other method refuses them). */
const FLAG_METHODS: Record<string, readonly string[]> = {
  epochs: ['sgd', 'momentum', 'adam'],
  'batch-size': ['sgd', 'momentum', 'adam'],
  momentum: ['sgd', 'momentum'],
  lr: ['gd', 'sgd', 'momentum', 'adam'],
};

/** Applies command-line overrides to a configuration. */
function applyFlags(base: TrainConfig, a: Args): TrainConfig {
  const c: TrainConfig = structuredClone(base);
  if (c.stacked || c.selfTaught) {
    const stageFlags = ['layers', 'activation', 'loss', 'lambda', 'beta', 'rho', 'init', 'autoencoder', 'optimizer', 'iterations', 'epochs', 'batch-size', 'lr', 'momentum', 'patches', 'patch-size'];
    const bad = stageFlags.find((f) => a.has(f));
    if (bad) throw new UsageError(`--${bad} does not apply to a ${c.stacked ? 'stacked' : 'self-taught'} pipeline: set it per stage in the configuration file`);
    return applyRunFlags(c, a);
  }
  const net: NetworkSpec = c.network!;
  const layers = a.intList('layers', 1);
  if (layers) net.layers = layers;
  const act = a.oneOf('activation', ACTIVATIONS);
  if (act) net.activation = act;
  const loss = a.oneOf('loss', LOSSES);
  if (loss) net.loss = loss;
  if (a.flag('autoencoder')) net.autoencoder = true;
  const lambda = a.number('lambda');
  if (lambda !== undefined) net.lambda = lambda;
  const rho = a.number('rho');
  const beta = a.number('beta');
  if (rho !== undefined || beta !== undefined) {
    if (rho === undefined && !net.sparsity) throw new UsageError('--beta needs --rho (the target activation of the sparsity term)');
    net.sparsity = { ...(net.sparsity ?? { rho: rho!, beta: 3 }), ...(rho !== undefined ? { rho } : {}), ...(beta !== undefined ? { beta } : {}) };
  }
  const init = a.oneOf('init', INITIALIZERS);
  if (init) c.init = init;
  applyRunFlags(c, a);
  const patches = a.int('patches', 1);
  const patchSize = a.int('patch-size', 1);
  const source = a.oneOf('data', ['mnist', 'fashion-mnist', 'natural'] as const);
  if (source === 'natural') c.data = { source, patches: { count: patches ?? 10000, size: patchSize ?? 8 } };
  else if (!source && (patches !== undefined || patchSize !== undefined)) {
    const d = c.data as DataConfig;
    if (d.source !== 'natural' && d.source !== 'images') throw new UsageError('--patches and --patch-size apply to --data natural');
    d.patches = { ...d.patches, ...(patches ? { count: patches } : {}), ...(patchSize ? { size: patchSize } : {}) };
  }
  const opt = c.optimizer!;
  const method = a.oneOf('optimizer', METHODS);
  if (method && method !== opt.method) c.optimizer = { method } as OptimizerOptions;
  const chosen = c.optimizer!.method;
  for (const [flag, methods] of Object.entries(FLAG_METHODS)) {
    if (a.has(flag) && !methods.includes(chosen)) {
      throw new UsageError(`--${flag} does not apply to ${method ? '--optimizer' : 'optimizer.method'} ${chosen} (only to ${methods.join(', ')})`);
    }
  }
  const o = c.optimizer as unknown as Record<string, unknown>;
  const iterations = a.int('iterations', 1);
  if (iterations !== undefined) o[c.optimizer!.method === 'lbfgs' || c.optimizer!.method === 'cg' ? 'maxIterations' : 'iterations'] = iterations;
  const epochs = a.int('epochs', 1);
  if (epochs !== undefined) o.epochs = epochs;
  const batch = a.int('batch-size', 1);
  if (batch !== undefined) o.batchSize = batch;
  const lr = a.number('lr');
  if (lr !== undefined) o.learningRate = lr;
  const momentum = a.number('momentum');
  if (momentum !== undefined) o.momentum = momentum;
  return c;
}

/** Flags that apply to every run: seed, backend, name, output, data source (mnist / fashion-mnist), limit, checkpoints, data placement. */
function applyRunFlags(c: TrainConfig, a: Args): TrainConfig {
  const seed = a.int('seed', 0);
  if (seed !== undefined) c.seed = seed;
  const backend = a.oneOf('backend', ['webgpu', 'cpu'] as const);
  if (backend) c.backend = backend;
  const name = a.string('name');
  if (name) c.name = name;
  const out = a.string('out');
  if (out) c.output = out;
  const source = a.oneOf('data', ['mnist', 'fashion-mnist', 'natural'] as const);
  if (source && source !== 'natural') c.data = { source };
  const limit = a.int('limit', 1);
  if (limit !== undefined) (c.data as { limit?: number }).limit = limit;
  const every = a.int('checkpoint-every', 0);
  if (every !== undefined) c.checkpointEvery = every;
  const binding = a.int('max-binding-bytes', 16);
  if (binding !== undefined) c.maxBindingBytes = binding;
  const dataBytes = a.int('max-data-bytes', 1);
  if (dataBytes !== undefined) c.maxDataBytes = dataBytes;
  const precision = a.oneOf('data-precision', ['f32', 'f16'] as const);
  if (precision) c.dataPrecision = precision;
  return c;
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

function progressLine(p: Progress, width: number): string {
  const frac = p.total ? Math.min(1, p.iteration / p.total) : 0;
  const barWidth = Math.max(10, Math.min(30, width - 70));
  const filled = Math.round(frac * barWidth);
  const bar = p.total ? `[${'='.repeat(filled)}${' '.repeat(barWidth - filled)}] ` : '';
  const r = p.report;
  // A VAE's parts: reconstruction NLL and KL(q(z|x) ‖ N(0, I)) (its `kl`); otherwise kl is the sparsity term.
  const klPart = r?.parts.kl !== undefined ? ` rec ${r.parts.data.toPrecision(4)} KL ${r.parts.kl.toPrecision(3)}` : '';
  const parts = r && p.cost !== null && klPart ? ` (${klPart.trim()} wd ${r.parts.weightDecay.toPrecision(3)})` : r && p.cost !== null ? ` (data ${r.parts.data.toPrecision(3)} wd ${r.parts.weightDecay.toPrecision(3)} kl ${r.parts.sparsity.toPrecision(3)}${r.parts.l1 ? ` l1 ${r.parts.l1.toPrecision(3)}` : ''}${r.parts.contractive ? ` cae ${r.parts.contractive.toPrecision(3)}` : ''})` : '';
  const rho = r?.rhoHatMean != null ? ` ρ̂ ${r.rhoHatMean.toPrecision(3)}` : '';
  const cost = p.cost === null ? '' : ` J ${p.cost.toPrecision(5)}${parts}${rho}`;
  return `${p.stage ? `[${p.stage}] ` : ''}${bar}it ${p.iteration}${p.total ? `/${p.total}` : ''} ep ${p.epoch}${cost}  ${Math.round(p.samplesPerSecond)} samples/s  ${clock(p.seconds)} ETA ${clock(p.etaSeconds ?? NaN)}`;
}

export async function trainCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs('train', argv, OPTIONS);
  if (a.flag('help')) {
    io.stdout(trainUsage);
    return 0;
  }
  const resumeDir = a.string('resume');
  let config: TrainConfig;
  if (resumeDir) {
    if (argv.some((t) => t.startsWith('--') && !['--resume', '--json', '--quiet'].includes(t.split('=')[0]!) && t !== resumeDir)) {
      throw new UsageError('--resume continues a run with its saved configuration; it takes no other options but --json and --quiet');
    }
    config = readRunConfig(resumeDir);
  } else {
    const path = a.string('config');
    const base = path ? (readJsonFile(path, 'configuration') as TrainConfig) : a.flag('full') ? MAIN_JOB_FULL : MAIN_JOB;
    config = checkConfig(applyFlags(checkConfig(base), a));
  }

  const quiet = a.flag('quiet');
  const tty = !!(process.stderr as { isTTY?: boolean }).isTTY && !quiet;
  const width = (process.stderr as { columns?: number }).columns ?? 100;
  let lastPrint = 0;
  const onProgress = (p: Progress): void => {
    if (quiet) return;
    const now = performance.now();
    if (tty) {
      if (now - lastPrint < 100 && p.iteration !== p.total) return;
      io.stderr(`\r${progressLine(p, width).padEnd(width - 1).slice(0, width - 1)}`);
    } else if (now - lastPrint > 5000 || p.iteration === 1 || p.iteration === p.total) {
      io.stderr(`${progressLine(p, 80)}\n`);
    } else return;
    lastPrint = now;
  };
  const log = (line: string): void => {
    if (quiet) return;
    io.stderr(`${tty ? '\r\x1b[K' : ''}${line}\n`);
  };

  // Ctrl-C: finish the current iteration, write a checkpoint, then stop. A second Ctrl-C exits at once.
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    log('interrupted: writing a checkpoint (Ctrl-C again to quit at once)…');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const { summary, outputDir } = await train(config, { onProgress, log, signal: abort.signal, resume: !!resumeDir });
    if (tty) io.stderr('\n');
    const parts = summary.costParts;
    log(
      `done: ${summary.iterations} iterations (${summary.stopReason}) in ${summary.seconds.toFixed(1)} s, ` +
        `J = ${summary.finalCost.toPrecision(6)} (data ${parts.data.toPrecision(4)}, weight decay ${parts.weightDecay.toPrecision(4)}, sparsity ${parts.sparsity.toPrecision(4)}${parts.l1 ? `, L1 ${parts.l1.toPrecision(4)}` : ''}${parts.contractive ? `, contractive ${parts.contractive.toPrecision(4)}` : ''})` +
        (summary.rhoHatMean !== null ? `, mean ρ̂ ${summary.rhoHatMean.toPrecision(3)}` : '') +
        (summary.testAccuracyBeforeFineTuning !== undefined ? `, test accuracy before fine-tuning ${(100 * summary.testAccuracyBeforeFineTuning).toFixed(2)}%` : '') +
        (summary.testAccuracy !== undefined ? `, test accuracy ${(100 * summary.testAccuracy).toFixed(2)}%` : '') +
        (summary.rawPixelTestAccuracy !== undefined ? ` (raw-pixel softmax ${(100 * summary.rawPixelTestAccuracy).toFixed(2)}%)` : '') +
        (summary.adapter ? ` on ${summary.adapter}` : ''),
    );
    if (summary.stopReason === 'interrupted') log(`resume with: wgnn train --resume ${outputDir}`);
    if (a.flag('json')) io.stdout(`${JSON.stringify(summary)}\n`);
    io.stdout(`${outputDir}\n`);
    return summary.stopReason === 'interrupted' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
