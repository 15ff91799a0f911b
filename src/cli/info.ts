// `wgnn info`: the WebGPU adapter Node finds, and the limits the engine uses.
import { acquireDevice, adapterLabel } from '../gpu/device.js';
import { parseArgs } from './args.js';
import type { CliIO } from './io.js';

export const infoUsage = `Usage: wgnn info [--json]

Prints the WebGPU adapter (vendor, architecture, description) and the limits
the engine plans with. Exit status 1 when no adapter is found.
`;

export async function infoCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs('info', argv, { json: 'flag' });
  if (a.flag('help')) {
    io.stdout(infoUsage);
    return 0;
  }
  const ctx = await acquireDevice();
  try {
    if (a.flag('json')) {
      io.stdout(`${JSON.stringify({ adapter: ctx.adapter, limits: ctx.limits })}\n`);
    } else {
      io.stdout(`adapter: ${adapterLabel(ctx.adapter)}${ctx.adapter.isSoftware ? ' (software)' : ''}\n`);
      for (const [k, v] of Object.entries(ctx.limits)) io.stdout(`  ${k} = ${v}\n`);
    }
    return 0;
  } finally {
    ctx.destroy();
  }
}
