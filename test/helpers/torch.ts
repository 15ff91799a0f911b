// The Python interpreter with torch that the PyTorch export tests run: $WGNN_PYTHON,
// Debian's /usr/bin/python3 (python3-torch, installed by scripts/setup.sh) or python3
// on PATH. No interpreter with torch is an error, not a skip: setup.sh installs it.
import { spawn, spawnSync } from 'node:child_process';

let found: string | null = null;

export function torchPython(): string {
  if (found) return found;
  const tried: string[] = [];
  for (const py of [process.env.WGNN_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py) continue;
    tried.push(py);
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return (found = py);
  }
  throw new Error(
    `no Python with torch found (tried ${tried.join(', ')}): run scripts/setup.sh, which installs Debian's python3-torch ` +
      `(apt-get install --no-install-recommends python3-torch), or set WGNN_PYTHON to an interpreter with torch`,
  );
}

/**
 * Runs `py args…` without blocking the event loop (vitest's worker must keep
 * answering while torch starts); rejects with its output when it fails.
 */
export function runPython(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(torchPython(), args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`python ${args.join(' ')} failed (status ${code}, signal ${signal}):\n${out}\n${err}`));
    });
  });
}
