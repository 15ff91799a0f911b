// Benchmarks: GEMM throughput and a sparse-autoencoder training step, each
// against TF.js (webgpu on the same device, wasm on the CPU). `wgnn bench` runs them.
export { benchGemm, type GemmBenchOptions, type GemmBenchResult, type GemmFigure, type GemmSizeResult } from './gemm.js';
export { benchStep, type StepBenchOptions, type StepBenchResult, type StepFigure } from './step.js';
export { benchOptimizer, syntheticPatches, UFLDL_NETWORK, type OptimizerBenchMethod, type OptimizerBenchOptions, type OptimizerBenchResult, type OptimizerBenchRun } from './optimizer.js';
export { formatBenchTable, type BenchResult } from './format.js';
export type { BenchAdapter, BenchMeta, Timing } from './common.js';
export { setBenchPackageVersion } from './common.js';
export { provideTfModules, type ProvidedTf } from './tfjs.js';
