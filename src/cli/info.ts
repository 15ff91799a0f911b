// `wgnn info`: the WebGPU adapter Node finds, and the limits the engine uses.
import { acquireDevice, adapterLabel, OPTIONAL_FEATURES } from '../gpu/device.js';
import { availableGemmVariants, gemmVariantsFor } from '../gpu/kernels.js';
import { parseArgs } from './args.js';
import type { CliIO } from './io.js';

export const infoUsage = `Usage: wgnn info [--json]

Prints the WebGPU adapter (vendor, architecture, description), its optional
features (those the engine uses: timestamp-query for kernel profiles, subgroups
for the subgroup GEMM, shader-f16), the GEMM variants this device can run and
the limits the engine plans with. Exit status 1 when no adapter is found.
`;

export async function infoCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs('info', argv, { json: 'flag' });
  if (a.flag('help')) {
    io.stdout(infoUsage);
    return 0;
  }
  const ctx = await acquireDevice();
  try {
    const features = { adapter: [...ctx.adapterFeatures], enabled: [...ctx.device.features].map(String).sort() };
    const gemmVariants = availableGemmVariants(ctx.device);
    if (a.flag('json')) {
      io.stdout(`${JSON.stringify({ adapter: ctx.adapter, features, gemmVariants, limits: ctx.limits })}\n`);
    } else {
      io.stdout(`adapter: ${adapterLabel(ctx.adapter)}${ctx.adapter.isSoftware ? ' (software)' : ''}\n`);
      const used = OPTIONAL_FEATURES.map((f) => `${f} ${features.enabled.includes(f) ? 'yes' : 'no'}`).join(', ');
      io.stdout(`features the engine uses: ${used}\n`);
      io.stdout(`GEMM variants: ${gemmVariants.join(', ')}${ctx.adapter.isSoftware ? ` (autotuned here: ${gemmVariantsFor(true, ctx.device).join(', ')})` : ''}\n`);
      io.stdout('limits:\n');
      for (const [k, v] of Object.entries(ctx.limits)) io.stdout(`  ${k} = ${v}\n`);
    }
    return 0;
  } finally {
    ctx.destroy();
  }
}
