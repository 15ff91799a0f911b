#!/usr/bin/env node
// The `wgnn` executable: runs the command line and exits with its status.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
