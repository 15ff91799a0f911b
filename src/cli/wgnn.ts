#!/usr/bin/env node
// The `wgnn` executable: runs the command line and exits with its status.
// Exit explicitly: Dawn's and TF.js wasm's threads can keep the event loop alive.
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
