// A table of bad inputs (command-line flags, configuration files, library
// calls, model files, data files, run folders). Each is refused with the
// expected exit code or error class and a message naming the offending key or
// value; the CLI prints one `wgnn:` line and no stack trace; and no file is
// created or changed.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { encodeIdx } from '../src/data/idx.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { encodeSafetensors, FormatError } from '../src/io/safetensors.js';
import { createModel } from '../src/model.js';
import { initParameters } from '../src/params.js';
import { resolveSpec, SpecError } from '../src/spec.js';
import { matrix } from '../src/matrix.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import { optimize } from '../src/optim/optimize.js';
import { stateToJSON } from '../src/optim/state.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnn-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string): string => join(dir, name);
const out = p('out'); // every CLI case writes here if anything; it must never appear

// ---- Fixtures (written once, checked unchanged after every case) ----
const cls = resolveSpec({ layers: [4, 3, 2], activation: ['sigmoid', 'softmax'], loss: 'softmax-cross-entropy' });
const good = encodeModel(cls, initParameters(cls, { seed: 1 }));
const ae = resolveSpec({ layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true });

function withHeader(edit: (h: Record<string, any>) => void, data?: Uint8Array): Uint8Array {
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
  edit(header);
  const head = new TextEncoder().encode(JSON.stringify(header));
  const body = data ?? good.subarray(8 + n);
  const outBytes = new Uint8Array(8 + head.length + body.length);
  new DataView(outBytes.buffer).setBigUint64(0, BigInt(head.length), true);
  outBytes.set(head, 8);
  outBytes.set(body, 8 + head.length);
  return outBytes;
}
const specEdit = (f: (s: Record<string, any>) => void) => (h: Record<string, any>) => {
  const s = JSON.parse(h.__metadata__.spec);
  f(s);
  h.__metadata__.spec = JSON.stringify(s);
};

const files: Record<string, Uint8Array | string> = {
  'good.safetensors': good,
  'truncated.safetensors': good.subarray(0, good.length - 5),
  'trailing.safetensors': Uint8Array.from([...good, 0, 0, 0, 0]),
  'overlap.safetensors': withHeader((h) => (h.b1.data_offsets = [0, h.b1.data_offsets[1] - h.b1.data_offsets[0]])),
  'negative.safetensors': withHeader((h) => (h.W1.data_offsets = [-4, h.W1.data_offsets[1] - 4])),
  'pair.safetensors': withHeader((h) => (h.W2.data_offsets = [0])),
  'dtype.safetensors': withHeader((h) => (h.b2.dtype = 'I32')),
  'entry.safetensors': withHeader((h) => (h.b2 = 'b2')),
  'meta.safetensors': withHeader((h) => (h.__metadata__.preprocessing = 7)),
  'lamda.safetensors': withHeader(specEdit((s) => (s.lamda = 0.1))),
  'huge.safetensors': withHeader(specEdit((s) => (s.layers = [100000, 100000, 2]))),
  'extra.safetensors': withHeader((h) => (h.W9 = { dtype: 'F32', shape: [0], data_offsets: [0, 0] })),
  'nan.safetensors': encodeModel(cls, initParameters(cls, { seed: 1 })).map((b, i, a) => (i >= a.length - 4 ? [0, 0, 0xc0, 0x7f][i - (a.length - 4)]! : b)),
  'ae.safetensors': encodeModel(ae, initParameters(ae, { seed: 1 })),
  'notmodel.safetensors': encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }),
  'bad.json': '{"network": ',
  'array.json': '[1, 2]',
  'labels.idx': encodeIdx([3], [1, 2, 3]),
  'images.idx': encodeIdx([3, 2, 2], new Array(12).fill(7)),
  'truncated.idx': encodeIdx([3, 2, 2], new Array(12).fill(7)).subarray(0, 20),
  'bomb.idx.gz': gzipSync(Uint8Array.from([...encodeIdx([2, 2, 2], new Array(8).fill(0)), ...new Uint8Array(4 << 20)])),
  'bad.csv': '1,2,3\n4,x,6\n',
};
const base = { network: { layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true }, data: { source: 'mnist', limit: 10 }, optimizer: { method: 'lbfgs', maxIterations: 1 }, backend: 'cpu', output: out };
const configs: Record<string, unknown> = {
  'lamda.json': { ...base, network: { ...base.network, lamda: 0.1 } },
  'optimiser.json': { ...base, optimiser: { method: 'adam' } },
  'batchsize.json': { ...base, optimizer: { method: 'adam', batchsize: 10 } },
  'learningrate.json': { ...base, optimizer: { method: 'sgd', learningrate: 0.1 } },
  'sparsity-layer.json': { ...base, network: { ...base.network, sparsity: { rho: 0.1, beta: 3, layer: [2] } } },
  'tied-no.json': { ...base, network: { ...base.network, tied: 'no' } },
  'ae-yes.json': { ...base, network: { ...base.network, autoencoder: 'yes' } },
  'rho-string.json': { ...base, network: { ...base.network, sparsity: { rho: '0.1', beta: 3 } } },
  'momentum-adam.json': { ...base, optimizer: { method: 'adam', momentum: 0.9 } },
  'epochs-lbfgs.json': { ...base, optimizer: { method: 'lbfgs', epochs: 2 } },
  'method.json': { ...base, optimizer: { method: 'newton' } },
  'idx-no-images.json': { ...base, data: { source: 'idx' } },
  'idx-images-number.json': { ...base, data: { source: 'idx', images: 3 } },
  'patches.json': { ...base, data: { source: 'natural', patches: { count: 10, sise: 8 } } },
  'whiten.json': { ...base, whiten: { kind: 'zca', epsilon: 0.1, eps: 1 } },
  'denoising.json': { ...base, denoisingTest: { kind: 'mask', level: 0.1, seeed: 2 } },
  'stage.json': { ...base, network: undefined, optimizer: undefined, data: { source: 'mnist' }, stacked: { autoencoders: [{ hidden: 3, optimizer: { method: 'lbfgs' }, network: { lamda: 1 } }], softmax: { optimizer: { method: 'lbfgs' } } } },
  'selftaught.json': { ...base, network: undefined, optimizer: undefined, selfTaught: { unlabeledClasses: [5, 6], labeledClasses: [0, 1], autoencoder: { hidden: 3, optimizer: { method: 'lbfgs' } }, softmax: { optimizer: { method: 'adam', momentum: 0.5 } } } },
  'ksparse.json': { ...base, network: { ...base.network, kSparse: { k: '2' } } },
  'corruption-level.json': { ...base, network: { ...base.network, corruption: { kind: 'mask', level: 1.5 } } },
  'seed-typo.json': { ...base, sed: 3 },
  'huge.json': { ...base, network: { ...base.network, layers: [784, 200000, 784] } },
  'idx-missing.json': { ...base, network: { ...base.network, layers: [4, 3, 4] }, data: { source: 'idx', images: p('nope.idx') } },
  'idx-truncated.json': { ...base, data: { source: 'idx', images: p('truncated.idx') } },
  'idx-labels.json': { ...base, data: { source: 'idx', images: p('labels.idx') } },
  'idx-bomb.json': { ...base, data: { source: 'idx', images: p('bomb.idx.gz') } },
  'csv-bad.json': { ...base, network: { ...base.network, layers: [3, 2, 3] }, data: { source: 'csv', path: p('bad.csv') } },
  'csv-no-path.json': { ...base, data: { source: 'csv' } },
};
for (const [name, c] of Object.entries(configs)) files[name] = JSON.stringify(c);
// A run folder with a corrupt config.json, and one with a corrupt optimizer.json.
const runs: Record<string, string> = {
  'run-bad-config/config.json': '{"network": 3',
  'run-bad-opt/config.json': JSON.stringify({ ...base, output: undefined }),
  'run-bad-opt/checkpoint/model.safetensors': '',
  'run-bad-opt/checkpoint/optimizer.json': '{"format": "nope"}',
  'run-bad-opt/checkpoint/progress.json': '{}',
};
for (const [name, content] of Object.entries(files)) writeFileSync(p(name), content);
for (const [name, content] of Object.entries(runs)) {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(p(name), content);
}
writeFileSync(p('run-bad-opt/checkpoint/model.safetensors'), encodeModel(ae, initParameters(ae, { seed: 1 }), null, 'F64'));
void stateToJSON;

/** Names and content hashes of every file under dir. */
function snapshot(d = dir): Record<string, string> {
  const r: Record<string, string> = {};
  for (const name of readdirSync(d)) {
    const full = join(d, name);
    if (statSync(full).isDirectory()) Object.assign(r, Object.fromEntries(Object.entries(snapshot(full)).map(([k, v]) => [join(name, k), v])));
    else r[name] = createHash('sha1').update(readFileSync(full)).digest('hex');
  }
  return r;
}

type Case =
  | { name: string; argv: string[]; message: RegExp }
  | { name: string; call: () => unknown; error: new (...a: never[]) => Error; message: RegExp };

const train = (...a: string[]): string[] => ['train', '--backend', 'cpu', '--out', out, ...a];
const cfg = (f: string): string[] => ['train', '--config', p(f)];
const evalModel = (f: string): string[] => ['eval', '--backend', 'cpu', '--model', p(f)];

const cpuModel = (): Promise<Awaited<ReturnType<typeof createModel>>> => createModel(ae, { backend: 'cpu', seed: 1 });
const X = matrix(2, 4, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
const objective = () => cpuNetworkObjective(ae, initParameters(ae, { seed: 1 }), X);

const cases: Case[] = [
  // Command-line flags.
  { name: 'layers not numbers', argv: train('--layers', '784,abc'), message: /--layers must be a comma-separated list .*"784,abc"/ },
  { name: 'layers too large (3 × 100000)', argv: train('--layers', '100000,100000,100000'), message: /20,000,200,000 parameters, over the limit .* W1 \(layer 1 → 2, 100000 × 100000/ },
  { name: 'layers too large (784,200000,784)', argv: train('--layers', '784,200000,784'), message: /313,800,784 parameters.*200000 × 784/ },
  { name: '--momentum with adam', argv: train('--optimizer', 'adam', '--momentum', '0.9'), message: /--momentum does not apply to --optimizer adam/ },
  { name: '--epochs with lbfgs', argv: train('--optimizer', 'lbfgs', '--epochs', '3'), message: /--epochs does not apply to --optimizer lbfgs/ },
  { name: '--batch-size with cg', argv: train('--optimizer', 'cg', '--batch-size', '10'), message: /--batch-size does not apply to --optimizer cg/ },
  { name: '--lr with lbfgs', argv: train('--optimizer', 'lbfgs', '--lr', '0.1'), message: /--lr does not apply to --optimizer lbfgs/ },
  { name: 'unknown backend', argv: ['train', '--backend', 'tpu', '--out', out], message: /--backend must be one of webgpu, cpu, got "tpu"/ },
  { name: 'unknown activation', argv: train('--activation', 'sigmod'), message: /--activation must be one of .*"sigmod"/ },
  { name: 'negative lambda', argv: train('--lambda', '-1'), message: /lambda .* must be ≥ 0, got -1/ },
  { name: 'rho out of range', argv: train('--rho', '2'), message: /rho must lie in \(0, 1\), got 2/ },
  { name: '--beta without --rho on a config without sparsity', argv: ['train', '--config', p('lamda.json').replace('lamda', 'ae-yes'), '--beta', '3'], message: /network.autoencoder must be true or false/ },
  { name: 'unknown flag', argv: train('--lerning-rate', '0.1'), message: /unknown option --lerning-rate/ },
  { name: 'non-integer seed', argv: train('--seed', '1.5'), message: /--seed must be an integer ≥ 0, got 1\.5/ },
  { name: 'negative checkpoint-every', argv: train('--checkpoint-every', '-1'), message: /--checkpoint-every must be an integer ≥ 0, got -1/ },
  { name: 'zero limit', argv: train('--limit', '0'), message: /--limit must be an integer ≥ 1, got 0/ },
  { name: 'missing config file', argv: cfg('missing.json'), message: /cannot read configuration file .*missing\.json: no such file/ },
  { name: 'resume of a missing folder', argv: ['train', '--resume', p('nowhere')], message: /nowhere holds no config\.json/ },
  // Configuration files.
  { name: 'config not JSON', argv: cfg('bad.json'), message: /configuration file .*bad\.json is not valid JSON/ },
  { name: 'config an array', argv: cfg('array.json'), message: /must be a JSON object, got \[1,2\]/ },
  { name: 'network.lamda', argv: cfg('lamda.json'), message: /network\.lamda is not a known key \(did you mean network\.lambda\?\)/ },
  { name: 'optimiser', argv: cfg('optimiser.json'), message: /optimiser is not a known key \(did you mean optimizer\?\)/ },
  { name: 'optimizer.batchsize', argv: cfg('batchsize.json'), message: /optimizer\.batchsize is not a known key \(did you mean optimizer\.batchSize\?\)/ },
  { name: 'optimizer.learningrate', argv: cfg('learningrate.json'), message: /optimizer\.learningrate is not a known key \(did you mean optimizer\.learningRate\?\)/ },
  { name: 'sparsity.layer', argv: cfg('sparsity-layer.json'), message: /network\.sparsity\.layer is not a known key \(did you mean network\.sparsity\.layers\?\)/ },
  { name: 'tied "no"', argv: cfg('tied-no.json'), message: /network\.tied must be true or false, got the string "no"/ },
  { name: 'autoencoder "yes"', argv: cfg('ae-yes.json'), message: /network\.autoencoder must be true or false, got the string "yes"/ },
  { name: 'rho "0.1"', argv: cfg('rho-string.json'), message: /network\.sparsity\.rho must be a number, got the string "0\.1"/ },
  { name: 'momentum with adam (config)', argv: cfg('momentum-adam.json'), message: /optimizer\.momentum does not apply to optimizer\.method adam/ },
  { name: 'epochs with lbfgs (config)', argv: cfg('epochs-lbfgs.json'), message: /optimizer\.epochs does not apply to optimizer\.method lbfgs/ },
  { name: 'unknown method', argv: cfg('method.json'), message: /optimizer\.method must be one of gd, sgd, momentum, adam, lbfgs, cg, got "newton"/ },
  { name: 'idx without images', argv: cfg('idx-no-images.json'), message: /data\.images is required/ },
  { name: 'idx images a number', argv: cfg('idx-images-number.json'), message: /data\.images must be a string, got the number 3/ },
  { name: 'data.patches.sise', argv: cfg('patches.json'), message: /data\.patches\.sise is not a known key \(did you mean data\.patches\.size\?\)/ },
  { name: 'whiten.eps', argv: cfg('whiten.json'), message: /whiten\.eps is not a known key \(did you mean whiten\.epsilon\?\)/ },
  { name: 'denoisingTest.seeed', argv: cfg('denoising.json'), message: /denoisingTest\.seeed is not a known key \(did you mean denoisingTest\.seed\?\)/ },
  { name: 'stage network.lamda', argv: cfg('stage.json'), message: /stacked\.autoencoders\[0\]\.network\.lamda is not a known key/ },
  { name: 'self-taught softmax momentum with adam', argv: cfg('selftaught.json'), message: /selfTaught\.softmax\.optimizer\.momentum does not apply to .*adam/ },
  { name: 'kSparse.k a string', argv: cfg('ksparse.json'), message: /network\.kSparse\.k must be an integer, got the string "2"/ },
  { name: 'corruption level out of range', argv: cfg('corruption-level.json'), message: /network\.corruption: corruption level for mask must be a probability.*got 1\.5/ },
  { name: 'top-level typo', argv: cfg('seed-typo.json'), message: /sed is not a known key \(did you mean seed\?\)/ },
  { name: 'too large in a config', argv: cfg('huge.json'), message: /313,800,784 parameters/ },
  { name: 'csv without path', argv: cfg('csv-no-path.json'), message: /data\.path is required/ },
  // Data files.
  { name: 'missing IDX file', argv: cfg('idx-missing.json'), message: /cannot read IDX file .*nope\.idx/ },
  { name: 'truncated IDX file', argv: cfg('idx-truncated.json'), message: /truncated\.idx: truncated IDX file/ },
  { name: 'labels given as images', argv: cfg('idx-labels.json'), message: /labels\.idx: an IDX image file has 3 dimensions/ },
  { name: 'gzip IDX inflating past its header', argv: cfg('idx-bomb.json'), message: /bomb\.idx\.gz: inflates to more than the 24 bytes its IDX header declares/ },
  { name: 'CSV with a non-number', argv: cfg('csv-bad.json'), message: /bad\.csv.*"x"/ },
  // Run folders.
  { name: 'resume with a corrupt config.json', argv: ['train', '--resume', p('run-bad-config')], message: /run-bad-config\/config\.json is not valid JSON/ },
  { name: 'resume with a corrupt optimizer.json', argv: ['train', '--resume', p('run-bad-opt')], message: /run-bad-opt\/checkpoint\/optimizer\.json: not an optimizer state/ },
  // Model files (wgnn eval).
  { name: 'eval: truncated model', argv: evalModel('truncated.safetensors'), message: /truncated\.safetensors: tensor b2: data_offsets .* run past the end/ },
  { name: 'eval: trailing bytes', argv: evalModel('trailing.safetensors'), message: /trailing\.safetensors: 4 bytes after the last tensor/ },
  { name: 'eval: overlapping tensors', argv: evalModel('overlap.safetensors'), message: /overlap\.safetensors: tensor (W1|b1) .*overlaps/ },
  { name: 'eval: negative offsets', argv: evalModel('negative.safetensors'), message: /negative\.safetensors: tensor W1: data_offsets \[-4, .*0 ≤ begin/ },
  { name: 'eval: data_offsets not a pair', argv: evalModel('pair.safetensors'), message: /pair\.safetensors: tensor W2: data_offsets must be a pair of integers/ },
  { name: 'eval: unsupported dtype', argv: evalModel('dtype.safetensors'), message: /dtype\.safetensors: tensor b2 has dtype "I32"/ },
  { name: 'eval: entry not an object', argv: evalModel('entry.safetensors'), message: /entry\.safetensors: tensor b2 must be an object/ },
  { name: 'eval: metadata not strings', argv: evalModel('meta.safetensors'), message: /meta\.safetensors: __metadata__\.preprocessing must be a string, got the number 7/ },
  { name: 'eval: spec with an unknown key', argv: evalModel('lamda.safetensors'), message: /lamda\.safetensors: the network spec .*spec\.lamda is not a known key/ },
  { name: 'eval: spec too large to allocate', argv: evalModel('huge.safetensors'), message: /huge\.safetensors: the network spec .* parameters, over the limit/ },
  { name: 'eval: extra tensor', argv: evalModel('extra.safetensors'), message: /extra\.safetensors: .*W9/ },
  { name: 'eval: NaN parameter', argv: evalModel('nan.safetensors'), message: /nan\.safetensors: parameter \d+ is NaN/ },
  { name: 'eval: not a classifier', argv: evalModel('ae.safetensors'), message: /ae\.safetensors is not a classifier/ },
  { name: 'eval: not a model file', argv: evalModel('notmodel.safetensors'), message: /notmodel\.safetensors is not a webgpu-nn\/1 model/ },
  // Library calls.
  { name: 'createModel: spec typo', call: () => createModel({ layers: [2, 2], activation: 'sigmoid', lamda: 1 } as never, { backend: 'cpu' }), error: SpecError, message: /network\.lamda is not a known key \(did you mean network\.lambda\?\)/ },
  { name: 'createModel: option typo', call: () => createModel(ae, { backend: 'cpu', sed: 1 } as never), error: SpecError, message: /options\.sed is not a known key \(did you mean options\.seed\?\)/ },
  { name: 'createModel: unknown backend', call: () => createModel(ae, { backend: 'tpu' as never }), error: SpecError, message: /unknown backend "tpu"/ },
  { name: 'createModel: tied "no"', call: () => createModel({ layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true, tied: 'no' } as never, { backend: 'cpu' }), error: SpecError, message: /network\.tied must be true or false, got the string "no"/ },
  { name: 'cost: rows 2.5', call: async () => (await cpuModel()).cost({ rows: 2.5, cols: 4, data: new Float64Array(10) }), error: SpecError, message: /X\.rows must be a non-negative integer, got the number 2\.5/ },
  { name: 'cost: cols NaN', call: async () => (await cpuModel()).predict({ rows: 2, cols: NaN, data: new Float64Array(8) }), error: SpecError, message: /X\.cols must be a non-negative integer, got the number NaN/ },
  { name: 'cost: plain array data', call: async () => (await cpuModel()).cost({ rows: 2, cols: 4, data: [1, 2, 3, 4, 5, 6, 7, 8] as never }), error: SpecError, message: /X\.data must be a Float64Array or Float32Array/ },
  {
    name: 'a disposed CPU model',
    call: async () => {
      const m = await cpuModel();
      m.dispose();
      return m.predict(X);
    },
    error: SpecError,
    message: /this model has been disposed/,
  },
  { name: 'optimize: option typo', call: () => optimize(objective(), { method: 'adam', lerningRate: 0.1 } as never), error: SpecError, message: /options\.lerningRate is not a known key \(did you mean options\.learningRate\?\)/ },
  { name: 'optimize: momentum with adam', call: () => optimize(objective(), { method: 'adam', momentum: 0.9 } as never), error: SpecError, message: /options\.momentum does not apply to options\.method adam/ },
  { name: 'optimize: epochs with lbfgs', call: () => optimize(objective(), { method: 'lbfgs', epochs: 3 } as never), error: SpecError, message: /options\.epochs does not apply to options\.method lbfgs/ },
  { name: 'optimize: string learning rate', call: () => optimize(objective(), { method: 'sgd', learningRate: '0.1' } as never), error: SpecError, message: /options\.learningRate must be a number or a schedule .*got the string "0\.1"/ },
  { name: 'matrix: non-integer rows', call: () => matrix(2.5, 2), error: SpecError, message: /2\.5 × 2/ },
  { name: 'decodeModel: overlapping offsets', call: () => decodeModel(files['overlap.safetensors'] as Uint8Array, 'lib.safetensors'), error: FormatError, message: /lib\.safetensors: tensor .* overlaps/ },
];

describe('bad inputs', () => {
  it('the table holds at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const before = snapshot();
      if ('argv' in c) {
        let stdout = '';
        let stderr = '';
        const code = await main(c.argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
        // Progress lines (e.g. "loading data…") may come first; the error is the last line.
        const lines = stderr.trimEnd().split('\n');
        expect(code, stderr).toBe(1);
        expect(stdout).toBe('');
        expect(lines.at(-1)).toMatch(/^wgnn: /);
        expect(lines.at(-1)).toMatch(c.message);
        expect(stderr).not.toMatch(/\n\s+at |Error:/);
      } else {
        let caught: unknown = null;
        try {
          await c.call();
        } catch (e) {
          caught = e;
        }
        expect(caught, 'no error thrown').toBeInstanceOf(c.error);
        expect((caught as Error).message).toMatch(c.message);
      }
      expect(snapshot()).toEqual(before);
    });
  }
});
