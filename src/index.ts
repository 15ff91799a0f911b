// webgpu-nn: the public API. Everything here works in Node and in the browser
// unless marked "Node"; Node-only modules (file loaders, the trainer, PNG
// output) are exported from 'webgpu-nn/node'.

// Network description, θ layout, random numbers.
export * from './spec.js';
export * from './matrix.js';
export * from './params.js';
export { transpose } from './linalg.js';
export { Rng } from './prng.js';

// One model API over both backends.
export { createModel, type ModelOptions } from './model.js';
export type { Model, BackendName, CostReport, CostParts, CostOptions, Encoding, VaeEvalOptions, VaeEvaluation } from './model-contract.js';

// The float64 CPU reference (the specification).
export { cpuCost, cpuForward, cpuPredict } from './cpu/network.js';
// The variational autoencoder's float64 reference and its noise.
export { cpuVaeCost, cpuVaeEncode, cpuVaeDecode, cpuVaeNll, cpuVaeNegElbo, sampleLatent, klPerExample, latentSize } from './cpu/vae.js';
export { noiseNormal, normalMatrix, evaluationSeed } from './noise.js';
export { activate, activationDerivative, sigmoid, softplus } from './cpu/activations.js';

// Gradient checking.
export * from './gradcheck.js';

// WebGPU: device, model, objective, vector operations, kernels.
export { acquireDevice, adapterLabel, engineLimits, WebGpuUnavailableError, DeviceLostError, GpuError, type GpuContext, type AdapterDescription, type DeviceLimits } from './gpu/device.js';
export { GpuModel, createGpuModel, type GpuModelOptions, type EvaluateOptions } from './gpu/model.js';
export { GpuDataset } from './gpu/dataset.js';
export { GpuObjective } from './gpu/objective.js';
export { GpuVectorOps, type GpuVector } from './gpu/vectors.js';
export { GEMM_VARIANT_NAMES, type GemmVariant } from './gpu/kernels.js';

// Optimizers over CPU or GPU vectors.
export * from './train/index.js';

// Browser-safe data preprocessing and pictures.
export { oneHot, filterClasses, selectRows, type LabeledSet } from './data/labels.js';
export { samplePatches, normalizePatches } from './data/patches.js';
export { fitPCA, pcaWhiten, zcaWhiten, whiteningToJSON, whiteningFromJSON, applyWhitening, type PCAFit, type Whitening } from './data/whitening.js';
export { parseCsv } from './data/csv.js';
export { rgbaToGray, type GrayImage } from './data/gray.js';
export { featureTiles, imageGrid, reconstructionGrid, upscale, type RgbaImage } from './viz/tiles.js';
export { latentScatter, manifoldCodes, normalQuantile } from './viz/latent.js';
export { lossCurveSvg } from './viz/curve.js';
export { drawRgba } from './viz/canvas.js';

// Model files.
export { encodeModel, decodeModel, modelJson, MODEL_FORMAT, type SavedModel } from './io/model-file.js';
export { encodeSafetensors, decodeSafetensors, FormatError } from './io/safetensors.js';
export { isStateDict, stateDictToModel } from './io/state-dict.js';

// ONNX export of the inference graph (browser-safe).
export { exportOnnx, buildOnnx, codeLayer, whiteningAffine, ONNX_OPSET, type OnnxExportOptions, type ExportSource } from './export/onnx.js';

// Classification metrics.
export { accuracy, argmaxRows, confusionMatrix, confusionAccuracy, formatConfusionMatrix } from './metrics.js';

// Feature tiles drawn on the GPU from a weight buffer (canvas or texture; no readback).
export { GpuFeatureTiles, modelFeatureTiles, type GpuTilesOptions } from './viz/gpu-tiles.js';
