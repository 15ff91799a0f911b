// Writes a data set exactly as `wgnn train` sees it (same source, seeded split,
// preprocessing) as raw little-endian files, for peer scripts in other frameworks:
//   npx vite-node bench/peers/export-split.ts --config examples/mnist-vae.json --out /tmp/split
// → X_train.f32 (m × n float32), y_train.u8, X_test.f32, y_test.u8, meta.json { train, test, features, … }.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { checkConfig } from '../../src/train/config.js';
import { loadTrainingData } from '../../src/train/data.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const configPath = flag('config');
const out = flag('out');
if (!configPath || !out) throw new Error('usage: export-split.ts --config FILE.json --out DIR');
const config = checkConfig(JSON.parse(readFileSync(configPath, 'utf8')));
const data = await loadTrainingData(config.data, config.seed!, config.whiten);
mkdirSync(out, { recursive: true });
const f32 = (d: ArrayLike<number>): Buffer => Buffer.from(Float32Array.from(d).buffer);
writeFileSync(join(out, 'X_train.f32'), f32(data.train.X.data));
if (data.train.labels) writeFileSync(join(out, 'y_train.u8'), Buffer.from(data.train.labels));
if (data.test) {
  writeFileSync(join(out, 'X_test.f32'), f32(data.test.X.data));
  if (data.test.labels) writeFileSync(join(out, 'y_test.u8'), Buffer.from(data.test.labels));
}
const meta = { config: configPath, source: config.data.source, seed: config.seed, train: data.train.X.rows, test: data.test?.X.rows ?? 0, features: data.train.X.cols };
writeFileSync(join(out, 'meta.json'), JSON.stringify(meta, null, 2));
process.stdout.write(`${JSON.stringify(meta)}\n`);
