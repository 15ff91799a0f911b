// The main job (`npm start`, `wgnn train` with no --config): a sparse
// autoencoder on the embedded MNIST digits with the UFLDL self-taught-learning
// settings (ρ = 0.1, λ = 3e-3, β = 3), sized to finish in under 3 minutes on a
// 2-core machine with the SwiftShader adapter: Adam with lr 0.005 on
// mini-batches of 50 (ρ̂ per batch) for 5 epochs over the 8 000 training digits,
// 800 updates. Chosen among three schedules of about the same cost (issue 12
// §5, README "Results"): the former lr 0.01 × batch 200 (200 updates) and an
// lr decaying 0.6× per epoch × batch 100 leave the features speckled with
// noise, because Adam's normalized steps keep moving weights with small,
// noisy gradients by about lr per step; smaller steps, four times as many,
// give smoother stroke-like features and a lower cost (J 16.8 against 18.6).
// `--full` is the full-size run for a real GPU: full-batch L-BFGS for 400
// iterations (exact ρ̂).

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
  optimizer: { method: 'adam', learningRate: 0.005, batchSize: 50, epochs: 5, seed: 1 },
  backend: 'webgpu',
  checkpointEvery: 100,
};

export const MAIN_JOB_FULL: TrainConfig = {
  ...MAIN_JOB,
  name: 'mnist-sparse-autoencoder-full',
  optimizer: { method: 'lbfgs', maxIterations: 400 },
  checkpointEvery: 50,
};
