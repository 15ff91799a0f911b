// The Python interpreter with torch that the PyTorch export tests run: $WGNN_PYTHON,
// Debian's /usr/bin/python3 (python3-torch, installed by scripts/setup.sh) or python3
// on PATH. No interpreter with torch is an error, not a skip: setup.sh installs it.
import { spawnSync } from 'node:child_process';

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

/** Runs `py args…`; throws with its output when it fails. */
export function runPython(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): string {
  const r = spawnSync(torchPython(), args, { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000 });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed (status ${r.status}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
