// Ctrl-C of a CPU-backend run, with a real SIGINT sent to the wgnn process:
// the first writes a checkpoint and exits 130 within a couple of seconds, even
// in the middle of a long full-data evaluation; a second exits at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'wgnn-sigint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Full-batch L-BFGS on 1000 digits of a 784-32-784 autoencoder: one evaluation takes a second or more on the CPU, in 7 chunks.
function startRun(out: string): { child: ChildProcess; stderr: () => string; exit: Promise<{ code: number | null; at: number }> } {
  const child = spawn(
    process.execPath,
    ['node_modules/vite-node/vite-node.mjs', 'src/cli/wgnn.ts', '--', 'train', '--backend', 'cpu', '--layers', '784,32,784', '--optimizer', 'lbfgs', '--iterations', '50', '--limit', '1000', '--out', out, '--checkpoint-every', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: performance.now() })));
  return { child, stderr: () => err, exit };
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Ctrl-C on the CPU backend (real SIGINT)', () => {
  it('first SIGINT inside an evaluation: checkpoint written, exit 130 within seconds, no temporary files', async () => {
    const out = join(dir, 'one');
    const run = startRun(out);
    // After the first iteration's checkpoint-free progress line, the optimizer is inside its next evaluations.
    await until(() => /it 1\b/.test(run.stderr()), 240_000);
    await new Promise((r) => setTimeout(r, 300));
    const sent = performance.now();
    run.child.kill('SIGINT');
    const { code, at } = await run.exit;
    expect(code, run.stderr()).toBe(130);
    // About 0.5 s on an idle machine; allow for a loaded 2-core test machine.
    expect(at - sent).toBeLessThan(5000);
    expect(run.stderr()).toMatch(/interrupted: writing a checkpoint/);
    expect(run.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(out, 'checkpoint', 'optimizer.json'))).toBe(true);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp') || f === 'checkpoint.tmp')).toEqual([]);
  });

  it('a second SIGINT exits at once', async () => {
    const run = startRun(join(dir, 'two'));
    await until(() => /it 1\b/.test(run.stderr()), 240_000);
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    const sent = performance.now();
    run.child.kill('SIGINT');
    const { code, at } = await run.exit;
    expect(code).toBe(130);
    expect(at - sent).toBeLessThan(1500);
  });
});
