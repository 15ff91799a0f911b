// The main job (`npm start`, `wgnn train` with no --config): a sparse
// autoencoder on the embedded MNIST digits with the UFLDL self-taught-learning
// settings (ρ = 0.1, λ = 3e-3, β = 3), sized to finish in under 3 minutes on a
// 2-core machine with the SwiftShader adapter. `--full` is the full-size run
// for a real GPU: all 8 000 training digits, L-BFGS for 400 iterations.

import type { TrainConfig } from './config.js';

export const MAIN_JOB: TrainConfig = {
  name: 'mnist-sparse-autoencoder',
  network: {
    layers: [784, 196, 784],
    activation: 'sigmoid',
    loss: 'squared',
    autoencoder: true,
    lambda: 3e-3,
    sparsity: { rho: 0.1, beta: 3 },
  },
  init: 'ufldl',
  seed: 1,
  data: { source: 'mnist', limit: 2000 },
  optimizer: { method: 'lbfgs', maxIterations: 60 },
  backend: 'webgpu',
  checkpointEvery: 20,
};

export const MAIN_JOB_FULL: TrainConfig = {
  ...MAIN_JOB,
  name: 'mnist-sparse-autoencoder-full',
  data: { source: 'mnist' },
  optimizer: { method: 'lbfgs', maxIterations: 400 },
  checkpointEvery: 50,
};
