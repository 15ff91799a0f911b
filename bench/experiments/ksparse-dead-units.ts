// Dead units of a k-sparse run: hidden units that are never among an example's
// k largest (the top-k mask of the final k) on the test set, and how often the
// others win. Reads a `wgnn train` output folder (config.json, model.safetensors):
//   npx vite-node bench/experiments/ksparse-dead-units.ts runs/mnist-k-sparse
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel } from '../../src/io/model-file.js';
import { cpuForward } from '../../src/cpu/network.js';
import { loadTrainingData } from '../../src/train/data.js';
import { checkConfig } from '../../src/train/config.js';

const dir = process.argv[2] ?? 'runs/mnist-k-sparse';
const config = checkConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
const { network: net, theta } = decodeModel(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
const data = await loadTrainingData(config.data, config.seed!, config.whiten);
const X = data.test?.X ?? data.train.X;
const layer = net.kSparse!.onLayer.indexOf(true);
const n = net.layers[layer + 1]!;
const mask = cpuForward(net, theta, X).M[layer]!;
const wins = new Array<number>(n).fill(0);
for (let i = 0; i < X.rows; i++) for (let j = 0; j < n; j++) wins[j] += mask[i * n + j]!;
const dead = wins.filter((w) => w === 0).length;
const rare = wins.filter((w) => w > 0 && w < X.rows * 0.001).length;
const sorted = [...wins].sort((a, b) => b - a);
console.log(JSON.stringify({ dir, k: net.kSparse!.k, anneal: net.kSparse!.anneal ?? null, examples: X.rows, units: n, dead, rareBelow0_1pct: rare, firstSeventyDead: wins.slice(0, 70).filter((w) => w === 0).length, mostWins: sorted.slice(0, 5), medianWins: sorted[n >> 1] }));
