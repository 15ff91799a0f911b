// `wgnn export`: a trained model as ONNX (inference graph) or as a PyTorch package
// (model.py with the exact objective, train_ddp.py for torch.distributed).

import { buildOnnx, buildVaeOnnx, codeLayer } from '../export/onnx.js';
import { exportPytorch } from '../export/pytorch.js';
import { writeFileAtomic } from '../io/files.js';
import { resolveSpec } from '../spec.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIO } from './io.js';
import { readModel } from './model-path.js';

export const exportUsage = `Usage: wgnn export --model RUN_OR_FILE --format onnx|pytorch --out PATH [options]

Exports a trained model (a run folder of wgnn train, or a model file).

  --format onnx      PATH is the .onnx file: the inference graph (opset 17, float32)
                     with the saved whitening folded in; outputs "output" and, for an
                     autoencoder, "code" (the middle layer). A variational autoencoder
                     writes two graphs beside PATH: NAME.encoder.onnx (input → mu,
                     logvar) and NAME.decoder.onnx (z → output), NAME = PATH less .onnx
  --format pytorch   PATH is a folder: model.py (nn.Module, the exact cost, load/save
                     of model files), train_ddp.py (torchrun, DistributedDataParallel),
                     model.safetensors and README.md
  --code-layer L     onnx: the autoencoder layer output as "code" (default ⌈L/2⌉)
  --outputs L,…      onnx: more layers to output, as "layer<L>"
  --no-preprocess    onnx: leave the whitening out (the graph then expects whitened inputs)
  --spec SPEC.json   the network spec, for a PyTorch state_dict without one in its metadata
`;

const OPTIONS = { model: 'value', format: 'value', out: 'value', 'code-layer': 'value', outputs: 'value', 'no-preprocess': 'flag', spec: 'value' } as const;

export async function exportCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs('export', argv, OPTIONS);
  if (a.flag('help')) {
    io.stdout(exportUsage);
    return 0;
  }
  const path = a.requireString('model', 'runs/mnist-softmax');
  const format = a.oneOf('format', ['onnx', 'pytorch'] as const);
  if (!format) throw new UsageError('export needs --format onnx or --format pytorch');
  const out = a.requireString('out', format === 'onnx' ? 'model.onnx' : 'exported/');
  const saved = readModel(path, a.string('spec'));
  const net = resolveSpec(saved.network);
  if (format === 'onnx' && net.vae) {
    if (a.has('code-layer') || a.has('outputs')) throw new UsageError("--code-layer and --outputs do not apply to a VAE: its graphs' outputs are mu, logvar (encoder) and output (decoder)");
    const { encoder, decoder } = buildVaeOnnx(saved, { foldPreprocessing: !a.flag('no-preprocess') });
    const base = out.replace(/\.onnx$/i, '');
    const files: [string, Uint8Array][] = [[`${base}.encoder.onnx`, encoder], [`${base}.decoder.onnx`, decoder]];
    for (const [p, bytes] of files) writeFileAtomic(p, bytes);
    const d = net.layers[net.vae.latent]!;
    io.stdout(`${files[0]![0]}: ONNX opset 17, VAE encoder [${net.layers[0]}] → mu, logvar [${d}], ${encoder.length} bytes\n${files[1]![0]}: ONNX opset 17, VAE decoder z [${d}] → output [${net.layers[net.layers.length - 1]}], ${decoder.length} bytes\n`);
  } else if (format === 'onnx') {
    const code = a.int('code-layer', 2);
    const bytes = buildOnnx(saved, { codeLayer: code, extraOutputs: a.intList('outputs', 2), foldPreprocessing: !a.flag('no-preprocess') });
    writeFileAtomic(out, bytes);
    const outputs = ['output'];
    if (net.autoencoder && net.layers.length > 2) outputs.push(`code (layer ${code ?? codeLayer(net)})`);
    io.stdout(`${out}: ONNX opset 17, layers [${net.layers}], outputs ${outputs.join(', ')}, ${bytes.length} bytes\n`);
  } else {
    if (a.has('code-layer') || a.has('outputs') || a.flag('no-preprocess')) throw new UsageError('--code-layer, --outputs and --no-preprocess apply to --format onnx only');
    const files = exportPytorch(saved, out);
    io.stdout(`${files.join('\n')}\n`);
  }
  return 0;
}
