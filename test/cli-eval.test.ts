// `wgnn eval` in-process: a classifier's run folder → accuracy, confusion
// matrix and eval.json; errors name the offending value.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

const base = mkdtempSync(join(tmpdir(), 'wgnn-eval-'));

describe('wgnn eval', () => {
  const dir = join(base, 'softmax');
  const config = {
    name: 'tiny-softmax',
    network: { layers: [784, 10], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: 1e-4 },
    seed: 3,
    data: { source: 'mnist', limit: 400 },
    optimizer: { method: 'lbfgs', maxIterations: 20 },
    backend: 'cpu',
    checkpointEvery: 0,
    output: dir,
  };

  it('a run folder: the accuracy of summary.json on the same seeded test split, the confusion matrix, eval.json', async () => {
    writeFileSync(join(base, 'softmax.json'), JSON.stringify(config));
    const t = await run('train', '--config', join(base, 'softmax.json'), '--quiet');
    expect(t.code, t.err).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.testAccuracy).toBeGreaterThan(0.7);
    expect(summary.confusionMatrix).toHaveLength(10);

    const r = await run('eval', '--model', dir, '--backend', 'cpu');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`accuracy ${(100 * summary.testAccuracy).toFixed(2)}% (${Math.round(summary.testAccuracy * 2000)} / 2000) on mnist (seed 3) test examples`);
    expect(r.out).toMatch(/true\\pred\s+0\s+1\s+2/);
    expect(r.out.trimEnd().split('\n')).toHaveLength(2 + 11 + 1);

    const j = await run('eval', '--model', join(dir, 'model.safetensors'), '--json');
    expect(j.code, j.err).toBe(0);
    const result = JSON.parse(j.out);
    expect(result.accuracy).toBeCloseTo(summary.testAccuracy, 3);
    expect(result.backend).toBe('webgpu');
    expect(result.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(2000);
    expect(existsSync(join(dir, 'eval.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')).accuracy).toBe(result.accuracy);
  });

  it('errors name the offending value', async () => {
    const missing = await run('eval', '--model', join(base, 'nothing-here'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^wgnn: --model .*nothing-here: no such file or folder\n$/);

    // An autoencoder is not a classifier.
    const ae = join(base, 'ae');
    writeFileSync(join(base, 'ae.json'), JSON.stringify({ ...config, name: 'ae', output: ae, network: { layers: [784, 8, 784], activation: 'sigmoid', autoencoder: true }, optimizer: { method: 'lbfgs', maxIterations: 2 }, data: { source: 'mnist', limit: 50 } }));
    expect((await run('train', '--config', join(base, 'ae.json'), '--quiet')).code).toBe(0);
    const notClassifier = await run('eval', '--model', ae, '--backend', 'cpu');
    expect(notClassifier.code).toBe(1);
    expect(notClassifier.err).toMatch(/model\.safetensors is not a classifier: its output layer is sigmoid \(an autoencoder\), not softmax/);

    const noConfig = await run('eval', '--model', join(base, 'softmax.json'));
    expect(noConfig.code).toBe(1);
    expect(noConfig.err).toMatch(/^wgnn: /);

    const usage = await run('eval');
    expect(usage.code).toBe(1);
    expect(usage.err).toMatch(/eval needs --model/);
  });
});
