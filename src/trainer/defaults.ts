// The main job (`npm start`, `wgnn train` with no --config): a sparse
// autoencoder on the embedded MNIST digits with the UFLDL self-taught-learning
// settings (ρ = 0.1, λ = 3e-3, β = 3), sized to finish in under 3 minutes on a
// 2-core machine with the SwiftShader adapter: Adam on mini-batches of 200 (ρ̂
// per batch) for 5 epochs over the 8 000 training digits. `--full` is the
// full-size run for a real GPU: full-batch L-BFGS for 400 iterations (exact ρ̂).

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
  data: { source: 'mnist' },
  optimizer: { method: 'adam', learningRate: 0.01, batchSize: 200, epochs: 5, seed: 1 },
  backend: 'webgpu',
  checkpointEvery: 100,
};

export const MAIN_JOB_FULL: TrainConfig = {
  ...MAIN_JOB,
  name: 'mnist-sparse-autoencoder-full',
  optimizer: { method: 'lbfgs', maxIterations: 400 },
  checkpointEvery: 50,
};
