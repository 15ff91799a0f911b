// Typed launchers of shaders/vae.wgsl (the VAE's kernels; see the shader's header
// for bindings and formulas, src/cpu/vae.ts for the float64 reference). Like every
// launcher, each call builds one reusable Dispatch; nothing here runs per step.

import type { BufferRef, Dispatch, Kernels } from './kernels.js';
import type { Defines } from './shaders.js';

const FLAGS = { reparameterize: 'REPARAM', kl_rows: 'KL_ROWS', head_delta: 'HEAD_DELTA', row_nll: 'ROW_NLL', iw_accumulate: 'IW_ACC' } as const;
type VaeKernel = keyof typeof FLAGS;

async function vaeDispatch(
  k: Kernels, kernel: VaeKernel, extra: Defines,
  f: { count: number; d?: number; rowOffset?: number; n?: number; offX?: number; first?: boolean; beta?: number; konst?: number },
  bindings: Record<number, GPUBuffer>, label: string,
): Promise<Dispatch> {
  const defines: Defines = { GAUSSIAN: false, ...extra };
  for (const [name, flag] of Object.entries(FLAGS)) defines[flag] = name === kernel;
  defines.HEAD = kernel !== 'row_nll'; // H, binding 1
  const pipeline = await k.cache.get(['noise', 'vae'], defines, kernel);
  const g = k.grid(f.count, 64);
  const params = k.uniform([
    f.count, f.d ?? 1, f.rowOffset ?? 0, g.rowsPerGrid, f.n ?? 0, f.offX ?? 0, f.first ? 1 : 0, 0,
    { f: f.beta ?? 0 }, { f: f.konst ?? 0 }, 0, 0,
  ]);
  return k.dispatch(pipeline, params, bindings, g.x, g.y, label);
}

/** Z = μ + exp(½ log σ²)·ε, EPS = ε (noiseNormal at global row rowOffset + r; ε = 0 when state[1] = 0). */
export function reparameterize(k: Kernels, c: { rows: number; d: number; rowOffset: number; H: GPUBuffer; Z: GPUBuffer; EPS: GPUBuffer; state: GPUBuffer }): Promise<Dispatch> {
  return vaeDispatch(k, 'reparameterize', {}, { count: c.rows * c.d, d: c.d, rowOffset: c.rowOffset }, { 1: c.H, 2: c.Z, 3: c.EPS, 4: c.state }, 'vae reparameterize');
}

/** out[r] = KL(q(z|x⁽ʳ⁾) ‖ N(0, I)) for r < rows. */
export function klRows(k: Kernels, c: { rows: number; d: number; H: GPUBuffer; out: GPUBuffer }): Promise<Dispatch> {
  return vaeDispatch(k, 'kl_rows', {}, { count: c.rows, d: c.d }, { 1: c.H, 2: c.out }, 'vae kl_rows');
}

/** DH = [δz + βμ | ½ δz ε σ + ½β(σ² − 1)] (m × 2d). */
export function headDelta(k: Kernels, c: { rows: number; d: number; beta: number; H: GPUBuffer; DZ: GPUBuffer; EPS: GPUBuffer; DH: GPUBuffer }): Promise<Dispatch> {
  return vaeDispatch(k, 'head_delta', {}, { count: c.rows * c.d, d: c.d, beta: c.beta }, { 1: c.H, 2: c.DZ, 3: c.EPS, 4: c.DH }, 'vae head_delta');
}

/** out[r] = −log p(x⁽ʳ⁾|z) without constants, from logits (Bernoulli) or outputs (Gaussian). */
export function rowNll(k: Kernels, c: { rows: number; n: number; gaussian: boolean; OUT: GPUBuffer; X: BufferRef; out: GPUBuffer }): Promise<Dispatch> {
  return vaeDispatch(k, 'row_nll', { GAUSSIAN: c.gaussian }, { count: c.rows, n: c.n, offX: c.X.offset ?? 0 }, { 1: c.OUT, 2: c.X.buffer, 3: c.out }, 'vae row_nll');
}

/** ACC[2r], ACC[2r+1] ← running logsumexp (max, Σ exp(· − max)) of log w = −REC − konst + Σ(−½z² + ½ log σ² + ½ε²). */
export function iwAccumulate(k: Kernels, c: { rows: number; d: number; konst: number; first: boolean; H: GPUBuffer; Z: GPUBuffer; EPS: GPUBuffer; REC: GPUBuffer; ACC: GPUBuffer }): Promise<Dispatch> {
  return vaeDispatch(k, 'iw_accumulate', {}, { count: c.rows, d: c.d, konst: c.konst, first: c.first }, { 1: c.H, 2: c.Z, 3: c.EPS, 4: c.REC, 5: c.ACC }, 'vae iw_accumulate');
}
