// Running Debian's apt-get and dpkg for the data sets that Debian packages. Node only.

import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell. Rejects only when it cannot be started (e.g. ENOENT). */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; echo?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (opts.echo) process.stderr.write(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (opts.echo) process.stderr.write(s);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** How apt-get must be run to change the system: [] as root, ['sudo', '-n'] with password-less sudo. */
async function privilegePrefix(what: string): Promise<string[]> {
  if (isRoot()) return [];
  try {
    const r = await runCommand('sudo', ['-n', 'true']);
    if (r.code === 0) return ['sudo', '-n'];
  } catch {
    // no sudo
  }
  throw new Error(`${what} needs root: run it as root or with password-less sudo, or run it yourself`);
}

function notFound(e: unknown, cmd: string, purpose: string): Error {
  if ((e as NodeJS.ErrnoException)?.code === 'ENOENT') {
    return new Error(`${purpose} needs Debian's \`${cmd}\`, which is not on this machine (PATH=${process.env.PATH ?? ''})`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

const MISSING_LIST = /Unable to locate package|has no installation candidate|No packages found|Couldn't find any package/i;

/**
 * Runs `apt-get ARGS` (as root, or through `sudo -n` when `privileged`), and when apt
 * answers that the package is unknown (no package lists yet on a fresh machine) runs
 * `apt-get update` once and tries again. Throws with apt's output on failure.
 */
export async function aptGet(
  args: string[],
  opts: { purpose: string; privileged: boolean; cwd?: string; echo?: boolean },
): Promise<CommandResult> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const prefix = opts.privileged ? await privilegePrefix(`\`apt-get ${args.join(' ')}\``) : [];
  const run = async (a: string[]): Promise<CommandResult> => {
    const argv = [...prefix, 'apt-get', ...a];
    try {
      return await runCommand(argv[0]!, argv.slice(1), { cwd: opts.cwd, echo: opts.echo, env });
    } catch (e) {
      throw notFound(e, 'apt-get', opts.purpose);
    }
  };
  let r = await run(args);
  if (r.code !== 0 && MISSING_LIST.test(r.stdout + r.stderr)) {
    const updPrefix = opts.privileged ? prefix : await privilegePrefix('`apt-get update`').catch(() => null);
    if (updPrefix) {
      const argv = [...updPrefix, 'apt-get', 'update', '-qq'];
      const u = await runCommand(argv[0]!, argv.slice(1), { env, echo: opts.echo }).catch((e) => {
        throw notFound(e, 'apt-get', opts.purpose);
      });
      if (u.code === 0) r = await run(args);
    }
  }
  if (r.code !== 0) {
    const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-8).join('\n');
    throw new Error(`${opts.purpose}: \`apt-get ${args.join(' ')}\` failed (exit ${r.code}):\n${out}`);
  }
  return r;
}

/** Runs dpkg (or dpkg-deb) ARGS; throws naming the purpose on failure or when absent. */
export async function dpkg(cmd: 'dpkg' | 'dpkg-deb', args: string[], purpose: string): Promise<CommandResult> {
  let r: CommandResult;
  try {
    r = await runCommand(cmd, args);
  } catch (e) {
    throw notFound(e, cmd, purpose);
  }
  if (r.code !== 0) throw new Error(`${purpose}: \`${cmd} ${args.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r;
}
