// Optimizer checkpoints: JSON form of an OptimizerState (bitwise round trip),
// and the helpers the optimizers use to take a state and to resume from one.

import { base64ToFloat64, float64ToBase64 } from '../io/base64.js';
import { SpecError } from '../spec.js';
import type { IterationInfo, OnIteration, OptimizerState, VectorOps } from './types.js';

/** The `format` tag of {@link OptimizerStateJSON}. */
export const OPTIMIZER_STATE_FORMAT = 'webgpu-nn optimizer state';
export const OPTIMIZER_STATE_VERSION = 1;

/**
 * The JSON form of an {@link OptimizerState}. Scalars are JSON numbers, except
 * the values JSON cannot hold, written as the strings 'NaN', 'Infinity',
 * '-Infinity' and '-0'; vectors are base64 of their float64 values,
 * little-endian. Every number comes back bitwise.
 */
export interface OptimizerStateJSON {
  format: typeof OPTIMIZER_STATE_FORMAT;
  version: number;
  method: string;
  iteration: number;
  epoch: number;
  evaluations: number;
  scalars: Record<string, number | string | boolean | null>;
  vectors: Record<string, string>;
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

function encodeScalar(x: number | boolean | null): number | string | boolean | null {
  if (typeof x !== 'number') return x;
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return x;
}


/** The JSON form of a state (pass it to JSON.stringify); see {@link OptimizerStateJSON}. */
export function stateToJSON(state: OptimizerState): OptimizerStateJSON {
  const scalars: Record<string, number | string | boolean | null> = {};
  for (const [k, x] of Object.entries(state.scalars)) scalars[k] = encodeScalar(x);
  const vectors: Record<string, string> = {};
  for (const [k, v] of Object.entries(state.vectors)) vectors[k] = float64ToBase64(v);
  return {
    format: OPTIMIZER_STATE_FORMAT,
    version: OPTIMIZER_STATE_VERSION,
    method: state.method,
    iteration: state.iteration,
    epoch: state.epoch,
    evaluations: state.evaluations,
    scalars,
    vectors,
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * The state from its JSON form (the object, or the JSON text). Throws
 * SpecError when it is not an optimizer state.
 */
export function stateFromJSON(json: OptimizerStateJSON | string): OptimizerState {
  const o: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (!isRecord(o) || o.format !== OPTIMIZER_STATE_FORMAT) {
    throw new SpecError(`not an optimizer state: expected format ${JSON.stringify(OPTIMIZER_STATE_FORMAT)}`);
  }
  if (o.version !== OPTIMIZER_STATE_VERSION) {
    throw new SpecError(`optimizer state version ${JSON.stringify(o.version)} is not supported (expected ${OPTIMIZER_STATE_VERSION})`);
  }
  if (typeof o.method !== 'string') throw new SpecError(`optimizer state: method must be a string, got ${JSON.stringify(o.method)}`);
  for (const k of ['iteration', 'epoch', 'evaluations'] as const) {
    if (typeof o[k] !== 'number' || !Number.isInteger(o[k])) throw new SpecError(`optimizer state: ${k} must be an integer, got ${JSON.stringify(o[k])}`);
  }
  if (!isRecord(o.scalars) || !isRecord(o.vectors)) throw new SpecError('optimizer state: scalars and vectors must be objects');
  const scalars: Record<string, number | boolean | null> = {};
  for (const [k, x] of Object.entries(o.scalars)) {
    if (typeof x === 'string') {
      if (!(x in SPECIAL)) throw new SpecError(`optimizer state: scalar ${k} = ${JSON.stringify(x)} is not a number`);
      scalars[k] = SPECIAL[x]!;
    } else if (typeof x === 'number' || typeof x === 'boolean' || x === null) {
      scalars[k] = x;
    } else {
      throw new SpecError(`optimizer state: scalar ${k} must be a number, boolean or null, got ${JSON.stringify(x)}`);
    }
  }
  const vectors: Record<string, Float64Array> = {};
  for (const [k, x] of Object.entries(o.vectors)) {
    if (typeof x !== 'string') throw new SpecError(`optimizer state: vector ${k} must be a base64 string`);
    vectors[k] = base64ToFloat64(x, `optimizer state vector ${k}`);
  }
  return { method: o.method, iteration: o.iteration as number, epoch: o.epoch as number, evaluations: o.evaluations as number, scalars, vectors };
}

// ---- Used by the optimizers

/**
 * Checks the parts of a state every optimizer relies on: the method, the
 * counters, `scalars.n` and the length of every vector against `ops.n`.
 */
export function checkState(state: OptimizerState, method: string, n: number): void {
  if (!isRecord(state) || !isRecord(state.scalars) || !isRecord(state.vectors)) {
    throw new SpecError('resume: the state must be an OptimizerState (method, iteration, epoch, evaluations, scalars, vectors)');
  }
  if (state.method !== method) {
    throw new SpecError(`resume: the state was taken by optimizer '${state.method}', but the options select '${method}'`);
  }
  for (const k of ['iteration', 'evaluations'] as const) {
    if (!Number.isInteger(state[k]) || state[k] < 0) throw new SpecError(`resume: state ${k} must be an integer ≥ 0, got ${state[k]}`);
  }
  if (!Number.isInteger(state.epoch) || state.epoch < -1) throw new SpecError(`resume: state epoch must be an integer ≥ −1, got ${state.epoch}`);
  if (state.scalars.n !== n) {
    throw new SpecError(`resume: the state is for ${String(state.scalars.n)} parameters, but the objective has n = ${n}`);
  }
  for (const [k, v] of Object.entries(state.vectors)) {
    if (!(v instanceof Float64Array)) throw new SpecError(`resume: state vector '${k}' must be a Float64Array`);
    if (v.length !== n) throw new SpecError(`resume: state vector '${k}' has ${v.length} values, but the objective has n = ${n}`);
  }
}

/** Throws unless the state's vectors are exactly `names` (`why` says what asks for them). */
export function expectVectors(state: OptimizerState, names: readonly string[], why: string): void {
  const have = Object.keys(state.vectors);
  const missing = names.filter((k) => !(k in state.vectors));
  const extra = have.filter((k) => !names.includes(k));
  if (missing.length || extra.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`lacks ${missing.map((k) => `'${k}'`).join(', ')}`);
    if (extra.length) parts.push(`has ${extra.map((k) => `'${k}'`).join(', ')} which ${why} does not use`);
    throw new SpecError(`resume: the ${state.method} state ${parts.join(' and ')} (state vectors: [${have.join(', ')}]; expected [${names.join(', ')}] for ${why})`);
  }
}

/** A number scalar of the state (finite unless `nonFinite`). */
export function stateNumber(state: OptimizerState, name: string, nonFinite = false): number {
  const x = state.scalars[name];
  if (typeof x !== 'number' || (!nonFinite && !Number.isFinite(x))) {
    throw new SpecError(`resume: the ${state.method} state needs a ${nonFinite ? '' : 'finite '}number scalar '${name}', got ${String(x)}`);
  }
  return x;
}

/** An integer scalar ≥ min. */
export function stateInteger(state: OptimizerState, name: string, min = 0): number {
  const x = stateNumber(state, name);
  if (!Number.isInteger(x) || x < min) throw new SpecError(`resume: state scalar '${name}' must be an integer ≥ ${min}, got ${x}`);
  return x;
}

/** Writes the state's vector `name` into `v` (which the caller allocated). */
export function restoreVector<V>(ops: VectorOps<V>, state: OptimizerState, name: string, v: V): V {
  ops.write(v, state.vectors[name]!);
  return v;
}

/**
 * The `checkpoint` function of one iteration boundary: the scalars are fixed
 * now, the vectors are read (one after the other) when it is called. `end()`
 * is called when the boundary's onIteration returns: later calls reject, and
 * `end` waits for a capture still in flight so that the optimizer does not
 * change the vectors under it.
 */
export function checkpointer<V>(
  ops: VectorOps<V>,
  base: Omit<OptimizerState, 'vectors'>,
  vectors: Record<string, V>,
): { checkpoint: () => Promise<OptimizerState>; end: () => Promise<void> } {
  let live = true;
  let inFlight: Promise<unknown> | null = null;
  const capture = async (): Promise<OptimizerState> => {
    const out: Record<string, Float64Array> = {};
    for (const [k, v] of Object.entries(vectors)) out[k] = await ops.read(v);
    return { ...base, scalars: { ...base.scalars }, vectors: out };
  };
  return {
    checkpoint: () => {
      if (!live) {
        return Promise.reject(new Error(`checkpoint() of iteration ${base.iteration} called after its onIteration returned: call and await it inside onIteration`));
      }
      const p = capture();
      inFlight = p;
      return p;
    },
    end: async () => {
      live = false;
      if (inFlight) await inFlight.catch(() => {});
    },
  };
}

/**
 * Calls onIteration with a checkpoint() that captures this iteration's state
 * while the call lasts. Returns true when the callback asked to stop.
 */
export async function reportIteration<V>(
  ops: VectorOps<V>,
  onIteration: OnIteration,
  info: Omit<IterationInfo, 'checkpoint'>,
  method: string,
  scalars: OptimizerState['scalars'],
  vectors: Record<string, V>,
): Promise<boolean> {
  const cp = checkpointer(ops, { method, iteration: info.iteration, epoch: info.epoch, evaluations: info.evaluations, scalars }, vectors);
  try {
    return (await onIteration({ ...info, checkpoint: cp.checkpoint })) === false;
  } finally {
    await cp.end();
  }
}
