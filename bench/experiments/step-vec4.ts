// The training-step benchmark with the vec4 GEMM prototype standing in for
// Kernels.gemm (bench/experiments/vec4-gemm.ts), to measure what the proposed
// kernel change buys end to end.
//   npx vite-node bench/experiments/step-vec4.ts [--blocks 8x8,8x16,...] [--steps 10] [--full] [--json]
// Without --full only our engine runs (one line per block); with --full the
// first block also runs the TF.js webgpu / wasm / CPU comparisons.
import { acquireDevice } from '../../src/gpu/device.js';
import { benchStep, formatBenchTable } from '../../src/bench/index.js';
import { installVec4Gemm, parseVec4Choice } from './vec4-gemm.js';

const args = process.argv.slice(2);
const flag = (k: string): string | undefined => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : undefined;
};
// TMxTN[@WXxWY][:gen]: rows × columns per invocation, workgroup size (default 8x8);
// the kernel is gemm_vec4.wgsl (8 or 16 × 8 or 16), or with :gen the generator in vec4-gemm.ts.
// One block for every layout, or NN+NT+TN blocks joined by '+' (e.g. 16x8@4x4+16x16@4x4+8x16@4x4).
const blocks = (flag('blocks') ?? '16x8').split(',');
const rounds = Number(flag('rounds') ?? 1);
const steps = Number(flag('steps') ?? 10);
const full = args.includes('--full');
const ctx = await acquireDevice();
for (const b of Array.from({ length: rounds }, () => blocks).flat()) {
  const parts = b.split('+').map(parseVec4Choice);
  const [nn, nt, tn] = parts.length === 3 ? parts : [parts[0]!, parts[0]!, parts[0]!];
  const patch = installVec4Gemm({ NN: nn!, NT: nt!, TN: tn! });
  const r = await benchStep(ctx, { steps, tfjsWebgpu: full, tfjsWasm: full, cpu: full, gemmVariant: 'regblock-4x4', log: (l) => void process.stderr.write(`[bench] ${l}\n`) });
  patch.uninstall();
  if (full) {
    r.ours.gemmVariant = `vec4 prototype ${b} (fallback regblock-4x4: ${patch.fellBack} calls)`;
    r.ours.gemmChoices = {};
    console.log(args.includes('--json') ? JSON.stringify(r, null, 2) : formatBenchTable(r));
  } else {
    console.log(`block ${b}: ${r.ours.samplesPerSec.toFixed(0)} samples/s, ${(r.ours.secondsPerStep * 1000).toFixed(1)} ms/step, ${r.ours.gflops.toFixed(2)} GFLOP/s; vec4 calls ${patch.used}, fallbacks ${patch.fellBack}; CPU ${((r.ours.cpuSecondsPerStep ?? NaN) * 1000).toFixed(0)} ms/step (≈ ${(256 / ((r.ours.cpuSecondsPerStep ?? NaN) / 2)).toFixed(0)} samples/s on 2 idle cores); J0 ${r.costCheck.ours.toFixed(4)}`);
  }
}
ctx.destroy();
process.exit(0);
