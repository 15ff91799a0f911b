// CG's first-step rules (CgOptions.initialStep) on the float64 CPU backend:
// line-search trials per iteration and J after 100, 200 and 400 evaluations,
// on `wgnn bench cg`'s problem (UFLDL 64-25-64, synthetic patches), for
// several seeds of the data and of θ₀. The figures behind the default
// ('previous') in bench/RESULTS.md.
//   npx vite-node bench/experiments/cg-first-step.ts [--patches 3000] [--iterations 200] [--seeds 1,2]
import { syntheticPatches, UFLDL_NETWORK } from '../../src/bench/optimizer.js';
import { cpuNetworkObjective } from '../../src/cpu/objective.js';
import { CG_INITIAL_STEPS, conjugateGradient } from '../../src/optim/cg.js';
import { initParameters } from '../../src/params.js';
import { resolveSpec } from '../../src/spec.js';

const args = process.argv.slice(2);
const value = (k: string, d: string): string => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1]! : d;
};
const patches = Number(value('patches', '3000'));
const iterations = Number(value('iterations', '200'));
const seeds = value('seeds', '1,2').split(',').map(Number);
const marks = [100, 200, 400];

const net = resolveSpec(UFLDL_NETWORK);
console.log(`CG first step, float64 CPU, 64-25-64, ${patches} patches, ${iterations} iterations, no early stop\n`);
console.log(`| seed | initialStep | trials / iteration | ${marks.map((m) => `J after ${m} evaluations`).join(' | ')} | final J |`);
console.log(`| --- | --- | --- | ${marks.map(() => '---').join(' | ')} | --- |`);
for (const seed of seeds) {
  for (const initialStep of CG_INITIAL_STEPS) {
    // Data seed 12 and θ₀ seed 1 are the bench's; other seeds shift both.
    const X = syntheticPatches(patches, 11 + seed);
    const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed })));
    const obj = cpuNetworkObjective(net, theta0, X);
    const at = new Map<number, number>();
    const r = await conjugateGradient(obj, {
      maxIterations: iterations, optTol: 0, progTol: 0, initialStep,
      onIteration: (i) => {
        for (const m of marks) if (!at.has(m) && i.evaluations >= m) at.set(m, i.cost!);
      },
    });
    const cells = marks.map((m) => (at.has(m) ? at.get(m)!.toFixed(4) : '—'));
    console.log(`| ${seed} | ${initialStep} | ${((r.evaluations - 1) / r.iterations).toFixed(2)} | ${cells.join(' | ')} | ${r.cost?.toFixed(5) ?? '—'} |`);
  }
}
