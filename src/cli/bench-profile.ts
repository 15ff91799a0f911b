// `wgnn bench step --profile`: GPU time of each kernel of one training step (src/bench/profile.ts).
import { adapterLabel, acquireDevice } from '../gpu/device.js';
import type { GemmVariant } from '../gpu/kernels.js';
import { formatProfile, profileStep } from '../bench/profile.js';
import { DATA_PRECISIONS } from '../f16.js';
import { UsageError, type Args } from './args.js';
import type { CliIO } from './io.js';

export async function profileCommand(what: string, a: Args, variant: GemmVariant | undefined, io: CliIO, log: (line: string) => void): Promise<number> {
  if (what !== 'step') throw new UsageError(`bench: --profile applies to 'bench step', not ${JSON.stringify(what)}`);
  const ctx = await acquireDevice();
  try {
    const r = await profileStep(ctx, {
      layers: a.intList('layers', 1), batch: a.int('batch', 1), gemmVariant: variant, reps: a.int('reps', 1), forceCpu: a.flag('cpu-timing'), log,
      dataPrecision: a.oneOf('data-precision', DATA_PRECISIONS),
    });
    io.stdout(a.flag('json') ? `${JSON.stringify({ adapter: adapterLabel(ctx.adapter), ...r })}\n` : `${formatProfile(r, adapterLabel(ctx.adapter))}\n`);
  } finally {
    ctx.destroy();
  }
  return 0;
}
