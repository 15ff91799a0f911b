// The float32 layouts linesearch.wgsl reads: the search's constants (`params`)
// and its state, encoded from linesearch-state.ts's SearchConstants and
// SearchState. J is held as the decrease dJ = J(x) − J from the start, so that
// float32 keeps the small differences the search compares.

import type { SearchConstants, SearchState } from '../optim/linesearch-state.js';

/** f32 slots of the state buffer. */
export const LS_STATE_SLOTS = 18;
/** f32 slots of `params` before the cost weights. */
export const LS_PARAM_SLOTS = 9;

/** J(x) as hi + lo, φ'(0), c1, c2, the noise, maxLS, progTol, ‖d‖, then the weights of J's parts. */
export function lineSearchParams(c: SearchConstants, weights: readonly number[]): number[] {
  const fHi = Math.fround(c.f);
  return [fHi, c.f - fHi, c.gtd, c.c1, c.c2, c.noise, c.maxLS, c.progTol, c.dNorm, ...weights];
}

/** The state buffer for `s` (layout at the top of shaders/linesearch.wgsl). */
export function encodeSearchState(c: SearchConstants, s: SearchState): number[] {
  const phase = { bracket: 0, zoom: 1, done: 2 }[s.phase];
  const point = (i: number): number[] => {
    const legal = i < s.bt.length && Number.isFinite(s.bf[i]!) && Number.isFinite(s.bg[i]!);
    return i < s.bt.length ? [s.bt[i]!, legal ? c.f - s.bf[i]! : 0, legal ? s.bg[i]! : 0, legal ? 1 : 0] : [0, 0, 0, 0];
  };
  return [phase, s.t, s.iter, s.first ? 1 : 0, s.tPrev, c.f - s.fPrev, s.gPrev, ...point(0), ...point(1), s.bt.length, s.kept, s.insufProgress ? 1 : 0];
}
