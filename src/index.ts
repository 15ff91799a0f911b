// webgpu-nn: the public API, grouped by layer. Everything here works in Node
// and in the browser; the Node-only parts (file loaders, the `wgnn train`
// runner, PNG files, benchmarks) are exported from 'webgpu-nn/node'.
// What is not named here is internal (optimizer-state helpers, line-search
// pieces, kernel plans, data-set chunking).

// ── Training in one call ─────────────────────────────────────────────────────
/** fit(model, data, options): trains a CPU or WebGPU model with any optimizer; validation, early stopping, AbortSignal. */
export { fit, type FitData, type FitOptions, type FitProgress, type FitResult, type FitStopReason, type ValidationData, type ValidationReading } from './fit.js';

// ── Networks: description, θ layout, initialization ─────────────────────────
/** Network specs (layers, activations, loss, regularizers, autoencoder options) and their resolved form. */
export {
  ACTIVATIONS, LOSSES, CORRUPTIONS, SpecError, resolveSpec, networkToSpec, isNetwork,
  type NetworkSpec, type Network, type ActivationName, type ActivationSpec, type Activation, type LossName, type SparsitySpec, type CorruptionSpec, type KSparseAnneal,
} from './spec.js';
/** k-sparse annealing: the k of a training evaluation after e epochs (kSparse.anneal). */
export { kSparseAt } from './ksparse-anneal.js';
/** Data matrices (row-major, one example per row). */
export { matrix, type Matrix } from './matrix.js';
/** θ: where each layer's W and b live, and seeded initialization. */
export { paramLayout, layerViews, initParameters, INITIALIZERS, type ParamLayout, type LayerSlot, type InitOptions, type InitializerName } from './params.js';
export { transpose } from './linalg.js';
/** Seeded random numbers (every draw of the library is seeded). */
export { Rng } from './prng.js';

// ── Models: one contract, two backends ──────────────────────────────────────
/** createModel(spec, { backend: 'cpu' | 'webgpu' }): cost, predict, encode, data sets and objectives. */
export { createModel, type ModelOptions } from './model.js';
export type { DataPrecision } from './f16.js';
export type { Model, BackendName, CostReport, CostParts, CostOptions, Dataset, DatasetOptions, ModelObjective, ObjectiveOptions, FullCost, Encoding, VaeEvalOptions, VaeEvaluation } from './model-contract.js';

// ── The float64 CPU reference (the specification) ───────────────────────────
export { cpuCost, cpuForward, cpuPredict } from './cpu/network.js';
// The variational autoencoder's float64 reference and its noise.
export { cpuVaeCost, cpuVaeEncode, cpuVaeDecode, cpuVaeNll, cpuVaeNegElbo, sampleLatent, klPerExample, latentSize } from './cpu/vae.js';
export { noiseNormal, normalMatrix, evaluationSeed } from './noise.js';
export { activate, activationDerivative, sigmoid, softplus } from './cpu/activations.js';
/** The CPU objective of a network over matrices (the Objective that CpuModel.objective wraps). */
export { cpuNetworkObjective } from './cpu/objective.js';

// ── Gradient checking ───────────────────────────────────────────────────────
export { gradientCheck, numericGradient, compareGradients, type GradientCheckResult, type GradientComparison, type GradientMismatch } from './gradcheck.js';

// ── WebGPU: device, model, objective, vector operations ─────────────────────
export { acquireDevice, adapterLabel, engineLimits, WebGpuUnavailableError, DeviceLostError, GpuError, type GpuContext, type AdapterDescription, type DeviceLimits } from './gpu/device.js';
export { GpuModel, createGpuModel, type GpuModelOptions, type EvaluateOptions } from './gpu/model.js';
export { GpuDataset, HostDataset } from './gpu/dataset.js';
export { engineCounters, type EngineCounters } from './gpu/counters.js';
export { GpuObjective } from './gpu/objective.js';
export { GpuVectorOps, type GpuVector } from './gpu/vectors.js';
export { GEMM_VARIANT_NAMES, type GemmVariant } from './gpu/kernels.js';
export { gemmRejections, type GemmRejection } from './gpu/autotune.js';
export { GEMM_CHECK_TOL, type GemmCheck, type GemmShape } from './gpu/gemm-check.js';

// ── Optimizers: written once over VectorOps/Objective (CPU or GPU vectors) ───
/** optimize(objective, options): the low-level loop for custom training (fit runs it). */
export { optimize, usesLineSearch, METHODS, type OptimizerOptions, type OptimizerMethod } from './optim/optimize.js';
export { gradientDescent, sgd, momentum, adam, type GradientDescentOptions, type SgdOptions, type MomentumOptions, type AdamOptions, type MiniBatchOptions, type FirstOrderCommonOptions } from './optim/sgd.js';
export { lbfgs, type LbfgsOptions } from './optim/lbfgs.js';
export { conjugateGradient, type CgOptions } from './optim/cg.js';
export { wolfeLineSearch, type LineSearchOptions, type LineSearchResult } from './optim/linesearch.js';
export { learningRate, type LearningRate, type ScheduleUnit } from './optim/schedules.js';
export type { VectorOps, Objective, ObjectiveReport, BatchRange, IterationInfo, OptimizerState, OptimizeResult, StopReason, OnIteration } from './optim/types.js';
/** Optimizer state to and from JSON (bitwise round trip), for checkpoints. */
export { stateToJSON, stateFromJSON, OPTIMIZER_STATE_FORMAT, OPTIMIZER_STATE_VERSION, type OptimizerStateJSON } from './optim/state.js';
/** VectorOps and Objective on Float64Arrays, from any cost-and-gradient function. */
export { cpuVectorOps, cpuObjective, type CpuObjective, type CpuCostFunction } from './optim/cpu-vectors.js';

// ── Data preprocessing and pictures (browser-safe) ──────────────────────────
export { oneHot, filterClasses, selectRows, type LabeledSet } from './data/labels.js';
export { samplePatches, normalizePatches } from './data/patches.js';
export { fitPCA, pcaWhiten, zcaWhiten, whiteningToJSON, whiteningFromJSON, applyWhitening, type PCAFit, type Whitening } from './data/whitening.js';
export { parseCsv } from './data/csv.js';
export { rgbaToGray, type GrayImage } from './data/gray.js';
export { featureTiles, imageGrid, reconstructionGrid, upscale, type RgbaImage } from './viz/tiles.js';
export { latentScatter, manifoldCodes, normalQuantile } from './viz/latent.js';
export { lossCurveSvg } from './viz/curve.js';
export { drawRgba } from './viz/canvas.js';
/** Feature tiles drawn on the GPU from a weight buffer (canvas or texture; no readback). */
export { GpuFeatureTiles, modelFeatureTiles, type GpuTilesOptions } from './viz/gpu-tiles.js';

// ── Model files ─────────────────────────────────────────────────────────────
export { encodeModel, decodeModel, modelJson, MODEL_FORMAT, type SavedModel } from './io/model-file.js';
export { encodeSafetensors, decodeSafetensors, FormatError } from './io/safetensors.js';
export { isStateDict, stateDictToModel } from './io/state-dict.js';

// ONNX export of the inference graph (browser-safe).
export { exportOnnx, buildOnnx, exportVaeOnnx, buildVaeOnnx, codeLayer, whiteningAffine, ONNX_OPSET, type OnnxExportOptions, type VaeOnnxExportOptions, type VaeOnnx, type ExportSource } from './export/onnx.js';

// ── Classification metrics ──────────────────────────────────────────────────
export { accuracy, argmaxRows, confusionMatrix, confusionAccuracy, formatConfusionMatrix } from './metrics.js';

// ── Training in a dedicated Web Worker (the worker module is 'webgpu-nn/worker').
export { WorkerTrainer } from './worker/client.js';
export type { BuildRequest, BuildInfo, TrainSettings, TrainerMode, TrainerState, TrainerEvent, TrainerRequest, CostReading, ParametersReply, TopInputsReply, WorkerMethod } from './worker/protocol.js';
