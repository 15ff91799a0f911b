// `wgnn import`: a PyTorch state_dict saved as safetensors (model.py's parameter
// names) or a model file, written as this engine's run folder (model.safetensors
// + model.json) for inspection, evaluation and fine-tuning.

import { join } from 'node:path';
import { encodeModel, modelJson } from '../io/model-file.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { resolveSpec } from '../spec.js';
import { parseArgs } from './args.js';
import type { CliIO } from './io.js';
import { readModel } from './model-path.js';

export const importUsage = `Usage: wgnn import --from FILE --out DIR [--spec SPEC.json] [--f32]

Reads a PyTorch state_dict saved as safetensors with the parameter names of the
exported model.py (layers.K.weight, layers.K.bias; "module." prefixes of
DistributedDataParallel accepted) or a webgpu-nn model file, and writes DIR/
model.safetensors and DIR/model.json, which wgnn eval, wgnn export and the
demo's Load read (fine-tune in the library: createModel(network, { parameters: theta })).

  --spec SPEC.json   the network spec, when the file's metadata has none
  --f32              store float32 (default float64, the values as read)
`;

const OPTIONS = { from: 'value', out: 'value', spec: 'value', f32: 'flag' } as const;

export async function importCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs('import', argv, OPTIONS);
  if (a.flag('help')) {
    io.stdout(importUsage);
    return 0;
  }
  const from = a.requireString('from', 'state_dict.safetensors');
  const out = a.requireString('out', 'runs/imported');
  const saved = readModel(from, a.string('spec'), '--from');
  const net = resolveSpec(saved.network);
  writeFileAtomic(join(out, 'model.safetensors'), encodeModel(net, saved.theta, saved.preprocessing, a.flag('f32') ? 'F32' : 'F64'));
  writeJsonAtomic(join(out, 'model.json'), modelJson(net, saved.preprocessing));
  io.stdout(`${join(out, 'model.safetensors')}: layers [${net.layers}], ${saved.theta.length} parameters\n`);
  return 0;
}
