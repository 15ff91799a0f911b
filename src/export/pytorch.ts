// PyTorch export: writes a small Python package (model.py, train_ddp.py, the model
// file and a README) for a saved model. Node only (reads the Python templates
// beside this module and writes files). The templates live in src/export/python/
// and are copied to dist/export/python/ by scripts/copy-python.mjs at build time.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel, type SavedModel } from '../io/model-file.js';
import { writeFileAtomic } from '../io/files.js';
import { networkToSpec, resolveSpec } from '../spec.js';

/** The folder holding model.py and train_ddp.py (src/export/python or dist/export/python). */
export function pythonTemplateDir(): string {
  return fileURLToPath(new URL('./python/', import.meta.url));
}

function template(name: string): string {
  const path = join(pythonTemplateDir(), name);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`the PyTorch template ${path} is missing (${(e as Error).message}); rebuild with npm run build`);
  }
}

const SPEC_MARKER = 'SPEC = None  # @SPEC@';

/** model.py with the network's spec written in (SPEC = the spec as JSON). */
export function modelPy(saved: Pick<SavedModel, 'network'>): string {
  const text = template('model.py');
  if (!text.includes(SPEC_MARKER)) throw new Error(`model.py template lacks the line ${JSON.stringify(SPEC_MARKER)}`);
  // One line per field of the spec: readable, and still JSON.
  const fields = Object.entries(networkToSpec(resolveSpec(saved.network))).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const json = `{\n${fields.join(',\n')}\n}`;
  return text.replace(SPEC_MARKER, `SPEC = json.loads(r"""\n${json}\n""")`);
}

export function trainDdpPy(): string {
  return template('train_ddp.py');
}

function readme(saved: SavedModel): string {
  const net = saved.network;
  return `# webgpu-nn network, exported for PyTorch

Layers [${net.layers.join(', ')}], loss ${net.loss}${net.vae ? `, variational autoencoder (β = ${net.vae.beta})` : net.autoencoder ? ', autoencoder' : ''}${net.tied ? ', tied weights' : ''}.

- model.py: the nn.Module (Net), the engine's exact objective cost(module, X, Y=None, input=None),
  load(path) / save(module, path) for webgpu-nn model files, corrupt() for denoising, whiten().${net.vae ? `
  VAE: net(x) gives (mu, logvar, z, output), z = mu + exp(logvar / 2) * eps with eps the
  engine's normals (normal_matrix(noise_seed, ...)); cost(net, X, noise_seed=...) is the ELBO cost.` : ''}
- model.safetensors: the exported weights (float64, the engine's format).
- train_ddp.py: data-parallel training with DistributedDataParallel:

      torchrun --nproc_per_node=8 train_ddp.py --data DATA --labels LABELS --epochs 10 --out trained.safetensors

  then load trained.safetensors back into webgpu-nn (wgnn eval --model trained.safetensors, the demo's Load).

Requires torch (any recent version; tested with Debian's python3-torch).
`;
}

/** Writes model.py, train_ddp.py, model.safetensors (F64) and README.md into `dir`; returns the paths. */
export function exportPytorch(saved: SavedModel, dir: string): string[] {
  const files: [string, string | Uint8Array][] = [
    ['model.py', modelPy(saved)],
    ['train_ddp.py', trainDdpPy()],
    ['model.safetensors', encodeModel(saved.network, saved.theta, saved.preprocessing, 'F64')],
    ['README.md', readme(saved)],
  ];
  return files.map(([name, data]) => {
    const path = join(dir, name);
    writeFileAtomic(path, data);
    return path;
  });
}
