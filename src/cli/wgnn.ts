#!/usr/bin/env node
// The `wgnn` executable: runs the command line and exits with its status.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.js';

// The Vulkan stack prints "XDG_RUNTIME_DIR is invalid or not set" on headless
// machines. The CLI never presents to a window, so a private runtime folder of
// its own keeps that noise out of the progress output.
if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), `webgpu-nn-runtime-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Leave it unset: only the warning is lost.
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly: Dawn's and TF.js wasm's threads can keep the event loop alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
