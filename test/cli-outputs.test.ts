// Files a run promises: the final checkpoint with --checkpoint-every 0, no
// temporary files after a failed write, and wgnn eval's accuracy even when
// eval.json cannot be written.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { encodeIdx } from '../src/data/idx.js';
import { writeFileAtomic } from '../src/io/files.js';
import { encodeModel } from '../src/io/model-file.js';
import { initParameters } from '../src/params.js';
import { resolveSpec } from '../src/spec.js';
import { readFileSync } from 'node:fs';
import { decodeModel } from '../src/io/model-file.js';
import { train } from '../src/train/run.js';
import { MAIN_JOB } from '../src/train/defaults.js';
import type { TrainConfig } from '../src/train/config.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnn-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

describe('run outputs', () => {
  it('--checkpoint-every 0 writes the final checkpoint; nothing temporary is left', async () => {
    const out = join(dir, 'run');
    const r = await run('train', '--backend', 'cpu', '--layers', '784,4,784', '--limit', '20', '--optimizer', 'lbfgs', '--iterations', '3', '--checkpoint-every', '0', '--out', out, '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(out, 'checkpoint')).sort()).toEqual(['model.safetensors', 'optimizer.json', 'progress.json']);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp') || f.startsWith('checkpoint.'))).toEqual([]);
  });

  it('a failed atomic write leaves no temporary file', () => {
    const target = join(dir, 'taken');
    mkdirSync(join(target, 'inside'), { recursive: true }); // a folder where the file should go
    expect(() => writeFileAtomic(target, 'x')).toThrow(/cannot write .*taken/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('wgnn eval prints the accuracy even when eval.json cannot be written, and says why', async () => {
    const net = resolveSpec({ layers: [4, 3, 2], activation: ['sigmoid', 'softmax'], loss: 'softmax-cross-entropy' });
    const folder = join(dir, 'model');
    mkdirSync(join(folder, 'eval.json'), { recursive: true }); // eval.json is a folder: the write fails
    writeFileSync(join(folder, 'model.safetensors'), encodeModel(net, initParameters(net, { seed: 1 })));
    writeFileSync(join(dir, 'img.idx'), encodeIdx([3, 2, 2], [0, 255, 0, 255, 255, 0, 255, 0, 9, 9, 9, 9]));
    writeFileSync(join(dir, 'lab.idx'), encodeIdx([3], [0, 1, 1]));
    const r = await run('eval', '--backend', 'cpu', '--model', join(folder, 'model.safetensors'), '--data', 'idx', '--images', join(dir, 'img.idx'), '--labels', join(dir, 'lab.idx'));
    expect(r.out).toMatch(/^accuracy \d+\.\d\d% \(\d \/ 3\) on idx img\.idx test examples/);
    expect(r.err).toMatch(/^wgnn: the accuracy above was not saved: cannot write .*eval\.json/);
    expect(r.code).toBe(1);
  });

  it('a Ctrl-C inside a chunked CPU evaluation goes back to the last iteration; --resume then follows the uninterrupted path bitwise', async () => {
    // 1000 examples of a 784-5-784 autoencoder: each evaluation runs in two chunks (cpu-chunks.ts).
    const cfg = (out: string): TrainConfig => ({ ...MAIN_JOB, name: 'chunked', network: { ...MAIN_JOB.network!, layers: [784, 5, 784] }, data: { source: 'mnist', limit: 1000 }, optimizer: { method: 'lbfgs', maxIterations: 5 }, backend: 'cpu', checkpointEvery: 0, output: out });
    const whole = await train(cfg(join(dir, 'whole')));
    const abort = new AbortController();
    const first = await train(cfg(join(dir, 'parts')), {
      signal: abort.signal,
      // Aborted on the next turn of the event loop: inside iteration 3's evaluations, between two chunks.
      onProgress: (p) => void (p.iteration === 2 && setImmediate(() => abort.abort())),
    });
    expect(first.summary.stopReason).toBe('interrupted');
    expect(first.summary.iterations).toBe(2);
    const resumed = await train(cfg(join(dir, 'parts')), { resume: true });
    expect(resumed.summary.iterations).toBe(whole.summary.iterations);
    expect(resumed.summary.finalCost).toBe(whole.summary.finalCost);
    const theta = (run: string): number[] => Array.from(decodeModel(new Uint8Array(readFileSync(join(dir, run, 'model.safetensors')))).theta);
    expect(theta('parts')).toEqual(theta('whole'));
  });
});
