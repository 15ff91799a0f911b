// webgpu-nn/node: the Node-only parts (file loaders, the trainer, PNG files).
export * from './index.js';
export { loadMnist, mnistDigits } from './data/mnist.js';
export { loadFashionMnist, locateFashionMnist, installFashionMnist } from './data/fashion.js';
export { loadIdxDataset, loadIdxImages, loadIdxLabels } from './data/idx-node.js';
export { naturalImages } from './data/natural.js';
export { loadImage, loadImageFolder } from './data/images-node.js';
export { decodeGray } from './data/images.js';
export { writePng, readPng, encodePng } from './viz/png-node.js';
export { writeFileAtomic, writeJsonAtomic } from './io/files.js';
export { train, readRunConfig, type TrainOptions, type TrainSummary, type StageSummary, type Progress } from './train/run.js';
export { checkConfig, type TrainConfig, type DataConfig } from './train/config.js';
export { MAIN_JOB, MAIN_JOB_FULL } from './train/defaults.js';
export {
  benchGemm, benchStep, formatBenchTable, setBenchPackageVersion, provideTfModules,
  type GemmBenchOptions, type GemmBenchResult, type GemmFigure, type GemmSizeResult, type StepBenchOptions, type StepBenchResult, type StepFigure,
  type BenchResult, type BenchAdapter,
  benchOptimizer, syntheticPatches, UFLDL_NETWORK, type OptimizerBenchMethod, type OptimizerBenchOptions, type OptimizerBenchResult, type OptimizerBenchRun, type BenchMeta, type Timing, type ProvidedTf,
} from './bench/index.js';
export { exportPytorch, modelPy, pythonTemplateDir } from './export/pytorch.js';
