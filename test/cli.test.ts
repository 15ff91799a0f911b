// The wgnn commands, run in-process through main() with captured output.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float64Bytes, readFloat64File } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { cpuCost } from '../src/cpu/network.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import { matrix } from '../src/matrix.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

/** Exit 1, nothing on stdout, exactly one line `wgnn: …` on stderr matching `pattern`. */
async function expectOneLineError(argv: string[], pattern: RegExp): Promise<void> {
  const r = await run(...argv);
  expect(r.code, r.err).toBe(1);
  expect(r.out).toBe('');
  expect(r.err.endsWith('\n')).toBe(true);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^wgnn: /);
  expect(r.err).toMatch(pattern);
}

const UFLDL = ['gradcheck', '--backend', 'cpu', '--layers', '64,25,64', '--activation', 'sigmoid', '--loss', 'squared', '--lambda', '1e-4', '--beta', '3', '--rho', '0.01', '--batch', '20', '--seed', '1'];

describe('wgnn gradcheck', () => {
  it('64-25-64 UFLDL configuration: one JSON object, maxRelDiff < 1e-9', async () => {
    const r = await run(...UFLDL, '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.trimEnd().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(['backend', 'layers', 'params', 'cost', 'maxRelDiff', 'maxAbsDiff', 'epsilon', 'checked', 'worst', 'toyRelDiff', 'seconds']);
    expect(j.backend).toBe('cpu');
    expect(j.layers).toEqual([64, 25, 64]);
    expect(j.params).toBe(64 * 25 * 2 + 25 + 64);
    expect(j.checked).toBe(j.params);
    expect(j.epsilon).toBe(1e-4);
    expect(j.maxRelDiff).toBeLessThan(1e-9);
    expect(j.maxAbsDiff).toBeLessThan(1e-8);
    expect(j.toyRelDiff).toBeLessThan(1e-9);
    expect(j.worst).toHaveLength(5);
    expect(j.cost).toBeGreaterThan(0);
  });

  it('readable output, sampling, supervised nets', async () => {
    const r = await run('gradcheck', '--layers', '5,4,3', '--activation', 'tanh,softmax', '--loss', 'softmax-cross-entropy', '--sample', '7', '--l1', '0.1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/relDiff .* over 7 coordinates/);
    const j = JSON.parse((await run('gradcheck', '--layers', '5,4,3', '--activation', 'prelu:0.1,sigmoid', '--loss', 'cross-entropy', '--sample', '7', '--epsilon', '1e-5', '--json')).out);
    expect(j.checked).toBe(7);
    expect(j.epsilon).toBe(1e-5);
    expect(j.maxRelDiff).toBeLessThan(1e-9);
  });

  it('--help', async () => {
    const r = await run('gradcheck', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: wgnn gradcheck/);
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/gradcheck[\s\S]*cost/);
  });

  it('bad input: one-line errors, exit 1', async () => {
    await expectOneLineError(['gradcheck', '--layers', '64,x,64'], /--layers .*"64,x,64"/);
    await expectOneLineError(['gradcheck', '--layers', '64,,64'], /--layers .*"64,,64"/);
    await expectOneLineError(['gradcheck', '--layers', '4,3,4', '--rho', '1.5', '--beta', '3'], /rho must lie in \(0, 1\), got 1\.5/);
    await expectOneLineError(['gradcheck', '--layers', '4,3,4', '--beta', '3'], /--beta needs --rho/);
    await expectOneLineError(['gradcheck', '--layers', '4,3,4', '--lambda', 'abc'], /--lambda must be a number, got "abc"/);
    await expectOneLineError(['gradcheck', '--layers', '4,3,4', '--colour'], /unknown option --colour/);
    await expectOneLineError(['gradcheck', '--layers', '4,3,4', '--activation', 'swish'], /unknown activation "swish"/);
    await expectOneLineError(['gradcheck'], /needs --layers/);
    await expectOneLineError(['frobnicate'], /unknown command "frobnicate"/);
  });
});

describe('wgnn cost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgnn-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string): string => join(dir, name);

  const spec: NetworkSpec = { layers: [4, 3, 2], activation: 'sigmoid', loss: 'cross-entropy', lambda: 1e-3, sparsity: { rho: 0.1, beta: 2 } };
  const net = resolveSpec(spec);
  const theta = initParameters(net, { init: 'glorot', seed: 5 });
  const rng = new Rng(6);
  const m = 9;
  const X = matrix(m, 4, Array.from({ length: m * 4 }, () => rng.uniform()));
  const Y = matrix(m, 2, Array.from({ length: m * 2 }, () => rng.uniform()));
  writeFileSync(file('spec.json'), JSON.stringify(spec));
  writeFileSync(file('theta.bin'), float64Bytes(theta));
  writeFileSync(file('x.bin'), float64Bytes(X.data));
  writeFileSync(file('y.bin'), float64Bytes(Y.data));
  const base = ['cost', '--spec', file('spec.json'), '--theta', file('theta.bin'), '--x', file('x.bin'), '--y', file('y.bin'), '--backend', 'cpu'];
  /** `base` with the value of `flag` replaced. */
  const with_ = (flag: string, value: string): string[] => base.map((a, i) => (base[i - 1] === flag ? value : a));

  it('round trip: JSON report and the gradient file equal cpuCost', async () => {
    const r = await run(...base, '--json', '--grad-out', file('out/grad.bin'));
    expect(r.code, r.err).toBe(0);
    const want = cpuCost(net, theta, X, Y, { gradient: true });
    const j = JSON.parse(r.out);
    expect(j.backend).toBe('cpu');
    expect(j.cost).toBe(want.cost);
    expect(j.parts).toEqual(want.parts);
    expect(j.m).toBe(m);
    expect(j.params).toBe(theta.length);
    expect(j.rhoHatMean).toHaveLength(1);
    expect(j.rhoHatMean[0]).toBeCloseTo(want.rhoHat[0]!.reduce((s, v) => s + v, 0) / 3, 15);
    expect(readFloat64File(file('out/grad.bin'), 'grad')).toEqual(want.grad);
    expect(readdirSync(file('out'))).toEqual(['grad.bin']); // no temporary file left behind
  });

  it('autoencoder without --y, readable output', async () => {
    const ae: NetworkSpec = { layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true };
    writeFileSync(file('ae.json'), JSON.stringify(ae));
    const aeTheta = initParameters(resolveSpec(ae), { seed: 2 });
    writeFileSync(file('ae-theta.bin'), float64Bytes(aeTheta));
    const r = await run('cost', '--spec', file('ae.json'), '--theta', file('ae-theta.bin'), '--x', file('x.bin'));
    expect(r.code, r.err).toBe(0);
    const want = cpuCost(resolveSpec(ae), aeTheta, X, undefined, { gradient: false });
    expect(r.out).toContain(`cost ${want.cost} over 9 examples`);
    expect(existsSync(file('grad.bin'))).toBe(false);
  });

  it('bad input: one-line errors, exit 1', async () => {
    await expectOneLineError(['cost', '--spec', file('missing.json'), '--theta', file('theta.bin'), '--x', file('x.bin')], /cannot read spec file .*missing\.json: no such file/);
    await expectOneLineError(with_('--x', file('nope.bin')), /cannot read X file .*nope\.bin/);
    writeFileSync(file('x5.bin'), float64Bytes(new Float64Array(10))); // 10 values: not a multiple of n1 = 4
    await expectOneLineError(with_('--x', file('x5.bin')), /X file .*x5\.bin has 80 bytes/);
    writeFileSync(file('odd.bin'), new Uint8Array(12));
    await expectOneLineError(with_('--theta', file('odd.bin')), /θ file .*odd\.bin has 12 bytes/);
    writeFileSync(file('short.bin'), float64Bytes(new Float64Array(7)));
    await expectOneLineError(with_('--theta', file('short.bin')), /θ has 7 values but the network needs 23/);
    writeFileSync(file('bad.json'), '{ "layers": [4, 3, 2], ');
    await expectOneLineError(['cost', '--spec', file('bad.json'), '--theta', file('theta.bin'), '--x', file('x.bin')], /spec file .*bad\.json is not valid JSON/);
    writeFileSync(file('rho.json'), JSON.stringify({ ...spec, sparsity: { rho: 1.5, beta: 3 } }));
    await expectOneLineError(['cost', '--spec', file('rho.json'), '--theta', file('theta.bin'), '--x', file('x.bin')], /rho must lie in \(0, 1\), got 1\.5/);
    await expectOneLineError(['cost', '--spec', file('spec.json'), '--theta', file('theta.bin'), '--x', file('x.bin')], /targets Y are required/);
    await expectOneLineError([...base, '--backend', 'tpu'], /--backend must be one of cpu, webgpu, got "tpu"/);
  });
});

it('the bin entry starts with a shebang', () => {
  expect(readFileSync(new URL('../src/cli/wgnn.ts', import.meta.url), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});
