// The one stage loop of `wgnn train` (Node only): a single run and every stage
// of a pipeline train through it. It restores a checkpoint, runs `fit` (objective
// choice, cost readings, progress, loss curve), writes checkpoints every N
// iterations and on an abort, and returns what fit returned with the whole
// loss curve (the resumed part included).
//
// A checkpoint folder (<dir>/checkpoint):
//   model.safetensors  θ (float64)
//   optimizer.json     the optimizer's state (src/optim/state.ts)
//   progress.json      loss curve, seconds, iteration and evaluations so far

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, Model } from '../model-contract.js';
import { SpecError } from '../spec.js';
import { decodeModel, encodeModel } from '../io/model-file.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { fit, plannedIterations, type FitResult } from '../fit.js';
import type { OptimizerOptions } from '../optim/optimize.js';
import { stateFromJSON, stateToJSON } from '../optim/state.js';
import type { IterationInfo, OptimizerState } from '../optim/types.js';
import type { TrainOptions } from './stage.js';

export interface CheckpointProgress {
  curve: { x: number; y: number }[];
  seconds: number;
  iteration: number;
  evaluations: number;
}

export interface Checkpoint {
  theta: Float64Array;
  state: OptimizerState;
  progress: CheckpointProgress;
}

/** Writes <dir>/checkpoint: into checkpoint.tmp, then swapped in with renames (a crash leaves either the old or the new one). */
export function writeCheckpoint(dir: string, model: Uint8Array, state: OptimizerState, progress: CheckpointProgress): void {
  const tmp = join(dir, 'checkpoint.tmp');
  const final = join(dir, 'checkpoint');
  const old = join(dir, 'checkpoint.old');
  rmSync(tmp, { recursive: true, force: true });
  try {
    writeFileAtomic(join(tmp, 'model.safetensors'), model);
    writeJsonAtomic(join(tmp, 'optimizer.json'), stateToJSON(state));
    writeJsonAtomic(join(tmp, 'progress.json'), progress);
    rmSync(old, { recursive: true, force: true });
    if (existsSync(final)) renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } finally {
    // A failed write leaves no checkpoint.tmp behind (the old checkpoint, if any, stays).
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The checkpoint in <dir>, or null when there is none (a crash between the two renames leaves only checkpoint.old). */
export function findCheckpoint(dir: string): Checkpoint | null {
  const complete = (d: string): boolean => ['model.safetensors', 'optimizer.json', 'progress.json'].every((f) => existsSync(join(d, f)));
  const cp = [join(dir, 'checkpoint'), join(dir, 'checkpoint.old')].find(complete);
  if (!cp) return null;
  const saved = decodeModel(new Uint8Array(readFileSync(join(cp, 'model.safetensors'))), join(cp, 'model.safetensors'));
  const state = readJsonFile(join(cp, 'optimizer.json'), (j) => stateFromJSON(j as Parameters<typeof stateFromJSON>[0]));
  const progress = readJsonFile(join(cp, 'progress.json'), checkProgress);
  return { theta: saved.theta, state, progress };
}

function checkProgress(json: unknown): CheckpointProgress {
  const p = json as CheckpointProgress;
  const count = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (!p || typeof p !== 'object' || !count(p.iteration) || !count(p.evaluations) || typeof p.seconds !== 'number' || !Array.isArray(p.curve) || p.curve.some((c) => !c || typeof c.x !== 'number' || typeof c.y !== 'number')) {
    throw new SpecError('not a checkpoint progress record { curve, seconds, iteration, evaluations }');
  }
  return p;
}

export function readCheckpoint(dir: string): Checkpoint {
  const cp = findCheckpoint(dir);
  if (!cp) throw new SpecError(`no checkpoint in ${join(dir, 'checkpoint')} to resume from`);
  return cp;
}

export interface StageRun {
  model: Model;
  data: Dataset;
  optimizer: OptimizerOptions;
  rhoHatDecay?: number;
  costEvery?: number;
  /** The folder that holds this stage's checkpoint/. */
  dir: string;
  /** Write a checkpoint every N iterations (besides the one written on an abort). */
  checkpointEvery?: number;
  /** Stored with θ in the checkpoint's model file. */
  preprocessing: unknown;
  /** Continue from this checkpoint (its θ is loaded into the model here). */
  resume?: Checkpoint | null;
  opts: TrainOptions;
  /** Pipelines: the stage's name in progress reports. */
  stage?: string;
  /** Pipelines: seconds since the pipeline started (progress reports); default this stage's seconds. */
  clock?: () => number;
}

export interface StageResult extends FitResult {
  interrupted: boolean;
  /** Evaluations and iterations done before a resumed checkpoint. */
  evaluationsBefore: number;
}

/** Trains one model on one data set: the stage loop of every run and pipeline stage. */
export async function runStage(run: StageRun): Promise<StageResult> {
  const { model, opts } = run;
  const log = opts.log ?? (() => {});
  const resumed = run.resume ?? null;
  if (resumed) model.setParameters(resumed.theta);
  const curveBefore = resumed?.progress.curve ?? [];
  const curveNow: { x: number; y: number }[] = [];
  const t0 = performance.now();
  const seconds = (): number => (resumed?.progress.seconds ?? 0) + (performance.now() - t0) / 1000;

  const planned = plannedIterations(run.optimizer, run.data.rows);
  const checkpoint = async (info: IterationInfo, theta: Float64Array): Promise<void> => {
    const state = await info.checkpoint!();
    writeCheckpoint(run.dir, encodeModel(model.network, theta, run.preprocessing, 'F64'), state, {
      curve: [...curveBefore, ...curveNow], seconds: seconds(), iteration: info.iteration, evaluations: info.evaluations,
    });
    log(`${run.stage ? `${run.stage}: ` : ''}checkpoint at iteration ${info.iteration} → ${join(run.dir, 'checkpoint')}`);
  };

  const result = await fit(model, run.data, {
    optimizer: run.optimizer,
    rhoHatDecay: run.rhoHatDecay,
    costEvery: run.costEvery,
    signal: opts.signal,
    ...(resumed ? { resume: { state: resumed.state, evaluations: resumed.progress.evaluations, iterations: resumed.progress.iteration, secondsBefore: resumed.progress.seconds } } : {}),
    onProgress: (p) => {
      if (p.cost !== null) curveNow.push({ x: p.costIteration ?? p.iteration, y: p.cost });
      opts.onProgress?.({ ...(run.stage ? { stage: run.stage } : {}), ...p, seconds: run.clock ? run.clock() : p.seconds });
    },
    onIteration: async (info, objective) => {
      // On an abort, every N iterations, and at the last planned one (also with checkpointEvery 0).
      const due = opts.signal?.aborted || (run.checkpointEvery && info.iteration % run.checkpointEvery === 0) || info.iteration === planned;
      if (due && info.checkpoint) await checkpoint(info, await objective.ops.read(objective.theta));
    },
  });
  if (result.interruptedAt) {
    // Stopped inside an evaluation: the checkpoint of the last completed iteration.
    const s = result.interruptedAt;
    writeCheckpoint(run.dir, encodeModel(model.network, s.theta, run.preprocessing, 'F64'), s.state, {
      curve: [...curveBefore, ...result.curve], seconds: seconds(), iteration: s.iteration, evaluations: s.evaluations,
    });
    log(`${run.stage ? `${run.stage}: ` : ''}checkpoint at iteration ${s.iteration} → ${join(run.dir, 'checkpoint')}`);
  }
  return { ...result, curve: [...curveBefore, ...result.curve], interrupted: result.reason === 'interrupted', evaluationsBefore: resumed?.progress.evaluations ?? 0 };
}
