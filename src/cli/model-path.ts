// Reading a model for export/import: a run folder (its model.safetensors) or a
// model file, in the engine's format or a PyTorch state_dict (io/state-dict.ts).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, type SavedModel } from '../io/model-file.js';
import type { NetworkSpec } from '../spec.js';
import { UsageError } from './args.js';
import { readJsonFile } from './io.js';

/** The model file of `path`: the path itself, or model.safetensors inside a run folder. */
export function modelFilePath(path: string, option = '--model'): string {
  if (!existsSync(path)) throw new UsageError(`${option} ${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return path;
  const file = join(path, 'model.safetensors');
  if (!existsSync(file)) throw new UsageError(`${option} ${path}: the folder holds no model.safetensors (not an output folder of wgnn train)`);
  return file;
}

/** Decodes the model at `path`; `specPath` names a NetworkSpec JSON for a state_dict without one. */
export function readModel(path: string, specPath?: string, option = '--model'): SavedModel {
  const file = modelFilePath(path, option);
  const spec = specPath === undefined ? undefined : (readJsonFile(specPath, 'spec') as NetworkSpec);
  return decodeModel(new Uint8Array(readFileSync(file)), file, { spec });
}
