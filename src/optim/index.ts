// Training: optimizers written against VectorOps/Objective (CPU or GPU).
export * from './types.js';
export * from './state.js';
export * from './cpu-vectors.js';
export * from './schedules.js';
export * from './linesearch.js';
export type { LineSearchMethodOptions } from './full-batch.js';
export * from './sgd.js';
export * from './lbfgs.js';
export * from './cg.js';
export * from './optimize.js';
