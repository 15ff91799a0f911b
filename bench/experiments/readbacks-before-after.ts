// Readbacks per iteration of L-BFGS and CG before issue 12 (the implementations
// kept in test/reference: one readback per inner product) and now, on the
// GPU, on `wgnn bench lbfgs`'s problem (UFLDL 64-25-64, synthetic patches),
// with the wall time at each injected readback latency.
//   npx vite-node bench/experiments/readbacks-before-after.ts [--patches 2000] [--iterations 20] [--latency 10]
import { acquireDevice, adapterLabel } from '../../src/gpu/device.js';
import { createGpuModel } from '../../src/gpu/model.js';
import { GpuObjective } from '../../src/gpu/objective.js';
import { syntheticPatches, UFLDL_NETWORK } from '../../src/bench/optimizer.js';
import { initParameters } from '../../src/params.js';
import { resolveSpec } from '../../src/spec.js';
import { conjugateGradient } from '../../src/optim/cg.js';
import { lbfgs } from '../../src/optim/lbfgs.js';
import type { Objective, OptimizeResult } from '../../src/optim/types.js';
import { conjugateGradient as referenceCg } from '../../test/reference/cg.js';
import { lbfgs as referenceLbfgs } from '../../test/reference/lbfgs.js';

const args = process.argv.slice(2);
const flag = (k: string, d: number): number => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const patches = flag('patches', 2000);
const iterations = flag('iterations', 20);
const latency = flag('latency', 10);

type Method = (o: Objective<unknown>, opts: Record<string, unknown>) => Promise<OptimizeResult>;
const methods: [string, Method][] = [
  ['L-BFGS before (test/reference)', referenceLbfgs as Method],
  ['L-BFGS now', lbfgs as Method],
  ['CG before (test/reference)', referenceCg as Method],
  ['CG now', conjugateGradient as Method],
];

const ctx = await acquireDevice();
const net = resolveSpec(UFLDL_NETWORK);
const X = syntheticPatches(patches, 12);
const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 1 })));
console.log(`adapter: ${adapterLabel(ctx.adapter)}; ${patches} patches, ${iterations} iterations`);
console.log('| implementation | latency | iterations | evaluations | readbacks / iteration | seconds | final J |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, method] of methods) {
  for (const ms of [0, latency]) {
    const model = await createGpuModel(net, theta0, ctx.device, { readbackLatencyMs: ms });
    const obj = new GpuObjective(model, X);
    await method(obj as Objective<unknown>, { maxIterations: 2, optTol: 0, progTol: 0 }); // warm-up
    model.setParameters(theta0);
    const r0 = model.kernels.pool.readbacks;
    const t0 = performance.now();
    const r = await method(obj as Objective<unknown>, { maxIterations: iterations, optTol: 0, progTol: 0 });
    await obj.ops.flush();
    const s = (performance.now() - t0) / 1000;
    console.log(`| ${name} | ${ms} ms | ${r.iterations} | ${r.evaluations} | ${((model.kernels.pool.readbacks - r0) / r.iterations).toFixed(2)} | ${s.toFixed(2)} | ${r.cost?.toPrecision(6)} |`);
    obj.dispose();
    model.dispose();
  }
}
ctx.destroy();
