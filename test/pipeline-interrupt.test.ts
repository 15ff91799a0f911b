// Ctrl-C during a pipeline, with a real SIGINT to the spawned CLI (dist/, built
// by `npm test`): the first Ctrl-C writes the running stage's checkpoint and
// exits 130; `wgnn train --resume DIR` loads the completed stages from their
// folders and continues the running one from its checkpoint, to the same
// result as an uninterrupted run (CPU); a second Ctrl-C exits at once.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { train } from '../src/train/run.js';
import type { TrainConfig } from '../src/train/config.js';
import type { TrainSummary } from '../src/train/stage.js';

const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'dist/cli/wgnn.js');
const base = mkdtempSync(join(tmpdir(), 'wgnn-interrupt-'));

/** A stacked pipeline whose second autoencoder (Adam, many small batches) runs long enough to be interrupted. */
const config = (backend: 'cpu' | 'webgpu', epochs: number, limit = 200): TrainConfig => ({
  name: `interrupt-${backend}`,
  seed: 3,
  backend,
  data: { source: 'mnist', limit },
  stacked: {
    autoencoders: [
      { hidden: 16, network: { activation: 'sigmoid', lambda: 3e-3 }, optimizer: { method: 'lbfgs', maxIterations: 5 } },
      { hidden: 8, network: { activation: 'sigmoid', lambda: 3e-3 }, optimizer: { method: 'adam', epochs, batchSize: 10 } },
    ],
    softmax: { lambda: 1e-4, optimizer: { method: 'lbfgs', maxIterations: 10 } },
    fineTune: { lambda: 1e-4, optimizer: { method: 'lbfgs', maxIterations: 5 } },
  },
});

interface Run {
  stderr: () => string;
  signal: (s: NodeJS.Signals) => number;
  exit: Promise<{ code: number | null; at: number }>;
  waitFor: (text: string, timeoutMs: number) => Promise<void>;
}

function wgnn(args: string[]): Run {
  const child = spawn(process.execPath, [cli, 'train', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.filter((w) => err.includes(w.text))) w.resolve();
  });
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; at: number }>((res) => child.on('exit', (code) => res({ code, at: performance.now() })));
  return {
    stderr: () => err,
    signal: (s) => {
      child.kill(s);
      return performance.now();
    },
    exit,
    waitFor: (text, timeoutMs) =>
      new Promise<void>((res, rej) => {
        if (err.includes(text)) return res();
        const t = setTimeout(() => rej(new Error(`no "${text}" after ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
        waiters.push({ text, resolve: () => (clearTimeout(t), res()) });
        void exit.then(() => rej(new Error(`exited before "${text}"; stderr:\n${err}`)));
      }),
  };
}

function writeConfig(c: TrainConfig): string {
  const file = join(base, `${c.name}.json`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

function summaryOf(dir: string): TrainSummary {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as TrainSummary;
}

describe.sequential('Ctrl-C during a pipeline', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`${backend}: the first Ctrl-C checkpoints the running stage and exits 130; --resume continues from that stage`, async () => {
      // SwiftShader is slow: 100 digits, 20 epochs of 10 batches on the GPU.
      const [epochs, limit] = backend === 'cpu' ? [100, 200] : [20, 100];
      const c = config(backend, epochs, limit);
      const dir = join(base, backend);
      const run = wgnn(['--config', writeConfig(c), '--out', dir]);
      await run.waitFor('[ae2]', 120_000);
      const sent = run.signal('SIGINT');
      const { code, at } = await run.exit;
      const seconds = (at - sent) / 1000;
      expect(code, run.stderr()).toBe(130);
      expect(seconds).toBeLessThan(5); // a second or two on an idle machine; tests share busy cores
      expect(run.stderr()).toContain('ae2: checkpoint at iteration');
      expect(run.stderr()).toContain(`resume with: wgnn train --resume ${dir}`);
      expect(existsSync(join(dir, 'stages/ae1/stage.json'))).toBe(true);
      expect(existsSync(join(dir, 'stages/ae2/checkpoint/optimizer.json'))).toBe(true);
      expect(existsSync(join(dir, 'stages/ae2/stage.json'))).toBe(false);
      expect(existsSync(join(dir, 'summary.json'))).toBe(false);
      const ae1 = JSON.parse(readFileSync(join(dir, 'stages/ae1/stage.json'), 'utf8')) as { finalCost: number };

      const resumed = wgnn(['--resume', dir]);
      const r = await resumed.exit;
      expect(r.code, resumed.stderr()).toBe(0);
      expect(resumed.stderr()).toContain('ae1: complete in');
      expect(resumed.stderr()).toMatch(/ae2: .*resumed at iteration \d+/);
      const s = summaryOf(dir);
      expect(s.stages!.map((x) => x.name)).toEqual(['ae1', 'ae2', 'softmax', 'fine-tune']);
      expect(s.stages![0]!.finalCost).toBe(ae1.finalCost);
      expect(s.stages![1]!.iterations).toBe((limit / 10) * epochs);
      expect(existsSync(join(dir, 'stages/ae2/checkpoint'))).toBe(false);
      expect(Number.isFinite(s.finalCost)).toBe(true);
      if (backend === 'cpu') {
        // Optimizer state and θ round-trip exactly: the same numbers as a run never interrupted.
        const { summary } = await train({ ...c, output: join(base, 'cpu-uninterrupted') });
        expect(s.stages!.map((x) => [x.name, x.iterations, x.finalCost])).toEqual(summary.stages!.map((x) => [x.name, x.iterations, x.finalCost]));
        expect(s.finalCost).toBe(summary.finalCost);
        expect(s.testAccuracy).toBe(summary.testAccuracy);
      }
    }, 600_000);
  }

  it('cpu: a second Ctrl-C exits at once, leaving no half-written checkpoint', async () => {
    // Long L-BFGS iterations (1000 digits, 64 hidden units): both signals arrive within one iteration.
    const c = config('cpu', 1);
    c.data = { source: 'mnist', limit: 1000 };
    c.stacked!.autoencoders[0] = { hidden: 64, network: { activation: 'sigmoid', lambda: 3e-3 }, optimizer: { method: 'lbfgs', maxIterations: 400 } };
    const dir = join(base, 'twice');
    const run = wgnn(['--config', writeConfig({ ...c, name: 'twice' }), '--out', dir]);
    await run.waitFor('[ae1]', 120_000);
    // Iteration 1 is printed just before the event loop gets a turn: signal inside iteration 2, not at that turn.
    await new Promise((r) => setTimeout(r, 200));
    run.signal('SIGINT');
    await new Promise((r) => setTimeout(r, 5));
    const sent = run.signal('SIGINT');
    const { code, at } = await run.exit;
    expect(code).toBe(130);
    expect((at - sent) / 1000).toBeLessThan(5);
    // The first Ctrl-C stops the running evaluation between chunks and checkpoints the last
    // completed iteration at once (synchronously, so the second cannot cut it short): either
    // there is no checkpoint yet, or a complete one; never a half-written checkpoint.tmp.
    expect(existsSync(join(dir, 'stages/ae1/checkpoint.tmp'))).toBe(false);
    if (existsSync(join(dir, 'stages/ae1/checkpoint'))) {
      for (const f of ['model.safetensors', 'optimizer.json', 'progress.json']) expect(existsSync(join(dir, 'stages/ae1/checkpoint', f)), f).toBe(true);
    }
  }, 300_000);
});
