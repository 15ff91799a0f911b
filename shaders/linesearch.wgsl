// linesearch.wgsl — one transition of the strong-Wolfe line search
// (src/optim/linesearch-state.ts `advance`) on the GPU, in float32: from the
// search's state and the J and φ'(t) = ∇Jᵀd of the trial just evaluated, the
// next trial step. Recorded after each evaluation of a chain (GpuObjective
// .evaluateTrials), it lets a line search evaluate several trials with one
// round trip.
//
// J is held as dJ = J(x) − J, the decrease from the start: J(t) is summed
// compensated (TwoSum) from the trial's cost parts (`scalars`, with weights w:
// J = Σₖ wₖ·scalars[k]) and subtracted from J(x) = fHi + fLo, so that a
// difference of nearly equal costs keeps float64-like accuracy. An illegal
// point (non-finite J or φ') has J = +∞ on the CPU; here a flag.
//
// `state` (read_write, f32), as linesearch-state.ts SearchState:
//   [0] phase (0 bracket, 1 zoom, 2 done)  [1] t (next trial / returned step)
//   [2] iter  [3] first (1 before the first trial)
//   [4] tPrev [5] dJPrev [6] gPrev                       (bracketing)
//   [7] bt0 [8] dJ0 [9] bg0 [10] legal0  [11] bt1 [12] dJ1 [13] bg1 [14] legal1
//   [15] number of bracket points  [16] kept (−1: by merit)  [17] insufProgress
// `out` at `base`: [0] the step of the next evaluation (the next trial step, or
// the returned step once done, so that θ and ∇J end there), [1] 1 for a real
// trial, 0 for a repeat; [2 …) this trial's scalars, then its dots (the next
// evaluation overwrites them; they are read back from here).
//
// The CPU replays the search in float64 on readback (linesearch.ts) and uses a
// device step only when it is within 1e-4 relative of its own, so rounding
// here can cost a round trip but never changes what the search does.

struct LsUniform { nScalars: u32, nDots: u32, base: u32, pad0: u32 }
@group(0) @binding(0) var<uniform> u: LsUniform;
// fHi, fLo, φ'(0), c1, c2, noise, maxLS, progTol, ‖d‖, then nScalars weights.
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> scalars: array<f32>;
@group(0) @binding(3) var<storage, read> dots: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const BRACKET = 0.0;
const ZOOM = 1.0;
const DONE = 2.0;
const N_WEIGHTS_AT = 9u;

// Finite test on the bits (compilers may assume arithmetic on finite values).
fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// s + e = a + b exactly (Knuth's TwoSum).
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

// linesearch-state.ts cubicMinimizer: the cubic through (x1, f1, g1) and
// (x2, f2, g2) minimized, clamped to [lo, hi]; the middle when it has no minimizer.
fn cubic(x1: f32, f1: f32, g1: f32, x2: f32, f2: f32, g2: f32, lo: f32, hi: f32) -> f32 {
  var a = x1; var fa = f1; var ga = g1; var b = x2; var fb = f2; var gb = g2;
  if (x1 > x2) { a = x2; fa = f2; ga = g2; b = x1; fb = f1; gb = g1; }
  let d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
  let disc = d1 * d1 - ga * gb;
  if (disc >= 0.0) {
    let d2 = sqrt(disc);
    let s = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2.0 * d2));
    if (finite(s)) { return min(max(s, lo), hi); }
  }
  return (lo + hi) / 2.0;
}

// linesearch-state.ts secantStep: the root of the slopes' line, clamped to [lo, hi].
fn secant(x1: f32, g1: f32, x2: f32, g2: f32, lo: f32, hi: f32) -> f32 {
  let s = x2 - g2 * (x2 - x1) / (g2 - g1);
  if (finite(s)) { return min(max(s, lo), hi); }
  return (lo + hi) / 2.0;
}

// linesearch-state.ts interpolateStep, with J as dJ (f1 − f2 = dJ2 − dJ1).
fn interpolate(x1: f32, d1: f32, g1: f32, x2: f32, d2: f32, g2: f32, noise: f32, lo: f32, hi: f32) -> f32 {
  if (noise > 0.0 && abs(d2 - d1) <= noise) { return secant(x1, g1, x2, g2, lo, hi); }
  return cubic(x1, -d1, g1, x2, -d2, g2, lo, hi);
}

struct Consts { gtd: f32, c1: f32, c2: f32, noise: f32, maxLS: f32, progTol: f32, dNorm: f32 }

// J at a is above J at b (linesearch-state.ts `above`), from their decreases.
fn above(k: Consts, dA: f32, legalA: bool, dB: f32) -> bool {
  if (!legalA) { return true; }
  if (k.noise > 0.0) { return dB - dA > k.noise; }
  return dB >= dA;
}

// linesearch-state.ts decreaseBySlope: J level with J(x) within the noise and φ'(t) ≤ (1 − 2c1)·|φ'(0)|.
fn decrease_by_slope(k: Consts, dJ: f32, g: f32, legal: bool) -> bool {
  return k.noise > 0.0 && legal && -dJ <= k.noise && g <= (1.0 - 2.0 * k.c1) * -k.gtd;
}

// Bracket point i has sufficient decrease (its merit is its J, else +∞).
fn merit_ok(k: Consts, i: u32) -> bool {
  let o = 7u + 4u * i;
  let legal = state[o + 3u] != 0.0;
  return legal && (-state[o + 1u] <= k.c1 * state[o] * k.gtd || decrease_by_slope(k, state[o + 1u], state[o + 2u], legal));
}

// merit(0) ≤ merit(1).
fn low_is_0(k: Consts) -> bool {
  let ok0 = merit_ok(k, 0u);
  let ok1 = merit_ok(k, 1u);
  if (!ok1) { return true; }
  if (!ok0) { return false; }
  return -state[8] <= -state[12];
}

fn low_end(k: Consts) -> u32 {
  let kept = state[16];
  if (kept >= 0.0) { return u32(kept); }
  if (low_is_0(k)) { return 0u; }
  return 1u;
}

fn set_point(i: u32, t: f32, dJ: f32, g: f32, legal: bool) {
  let o = 7u + 4u * i;
  state[o] = t;
  state[o + 1u] = dJ;
  state[o + 2u] = g;
  state[o + 3u] = select(0.0, 1.0, legal);
}

fn copy_point(dst: u32, src: u32) {
  for (var j = 0u; j < 4u; j++) { state[7u + 4u * dst + j] = state[7u + 4u * src + j]; }
}

// linesearch-state.ts finish: the step returned.
fn finish(k: Consts, wolfe: bool) {
  var best = 0u;
  if (state[15] == 2.0) {
    if (wolfe) {
      best = low_end(k);
    } else {
      // bf[0] ≤ bf[1], an illegal point's J being +∞.
      let l0 = state[10] != 0.0;
      let l1 = state[14] != 0.0;
      best = select(1u, 0u, !l1 || (l0 && -state[8] <= -state[12]));
    }
  }
  state[1] = state[7u + 4u * best];
  state[0] = DONE;
}

// linesearch-state.ts zoomStep.
fn zoom_step(k: Consts) {
  let bt0 = state[7];
  let bt1 = state[11];
  let legal = state[10] != 0.0 && state[14] != 0.0;
  var t = (bt0 + bt1) / 2.0;
  if (legal) { t = interpolate(bt0, state[8], state[9], bt1, state[12], state[13], k.noise, min(bt0, bt1), max(bt0, bt1)); }
  let bMax = max(bt0, bt1);
  let bMin = min(bt0, bt1);
  if (min(bMax - t, t - bMin) / (bMax - bMin) < 0.1) {
    if (state[17] != 0.0 || t >= bMax || t <= bMin) {
      if (abs(t - bMax) < abs(t - bMin)) { t = bMax - 0.1 * (bMax - bMin); } else { t = bMin + 0.1 * (bMax - bMin); }
      state[17] = 0.0;
    } else {
      state[17] = 1.0;
    }
  } else {
    state[17] = 0.0;
  }
  state[1] = t;
}

fn enter_zoom(k: Consts) {
  state[0] = ZOOM;
  state[15] = 2.0;
  state[16] = -1.0;
  state[17] = 0.0;
  if (state[2] < k.maxLS) { zoom_step(k); } else { finish(k, false); }
}

// linesearch-state.ts approximatelyWolfe: J level with J(x) within the noise, and the curvature condition.
fn approximately_wolfe(k: Consts, dJ: f32, g: f32, legal: bool) -> bool {
  return k.noise > 0.0 && legal && -dJ <= k.noise && abs(g) <= -k.c2 * k.gtd;
}

fn accept(k: Consts, t: f32, dJ: f32, g: f32) {
  set_point(0u, t, dJ, g, true);
  state[15] = 1.0;
  finish(k, true);
}

fn bracket_trial(k: Consts, t: f32, dJ: f32, g: f32, legal: bool) {
  if (approximately_wolfe(k, dJ, g, legal)) {
    accept(k, t, dJ, g);
    return;
  }
  if (state[2] >= k.maxLS) {
    set_point(0u, 0.0, 0.0, k.gtd, true);
    set_point(1u, t, dJ, g, legal);
    enter_zoom(k);
    return;
  }
  let armijoFails = !legal || (-dJ > k.c1 * t * k.gtd && !decrease_by_slope(k, dJ, g, legal));
  if (armijoFails || (state[2] > 1.0 && above(k, dJ, legal, state[5]))) {
    set_point(0u, state[4], state[5], state[6], true);
    set_point(1u, t, dJ, g, legal);
    enter_zoom(k);
    return;
  }
  if (abs(g) <= -k.c2 * k.gtd) {
    accept(k, t, dJ, g);
    return;
  }
  if (g >= 0.0) {
    set_point(0u, state[4], state[5], state[6], true);
    set_point(1u, t, dJ, g, legal);
    enter_zoom(k);
    return;
  }
  // Still descending: extrapolate into [t + 0.01·(t − t_prev), 10·t].
  let temp = state[4];
  state[1] = interpolate(temp, state[5], state[6], t, dJ, g, k.noise, t + 0.01 * (t - temp), t * 10.0);
  state[4] = t;
  state[5] = dJ;
  state[6] = g;
}

fn zoom_trial(k: Consts, t: f32, dJ: f32, g: f32, legal: bool) {
  if (approximately_wolfe(k, dJ, g, legal)) {
    accept(k, t, dJ, g);
    return;
  }
  let lo = low_end(k);
  let hi = 1u - lo;
  let dLo = state[8u + 4u * lo];
  var done = false;
  let armijo = legal && (-dJ < k.c1 * t * k.gtd || decrease_by_slope(k, dJ, g, legal));
  if (!armijo || above(k, dJ, legal, dLo)) {
    set_point(hi, t, dJ, g, legal);
  } else {
    if (abs(g) <= -k.c2 * k.gtd) {
      done = true;
    } else if (g * (state[7u + 4u * hi] - state[7u + 4u * lo]) >= 0.0) {
      copy_point(hi, lo);
    }
    set_point(lo, t, dJ, g, legal);
    if (k.noise > 0.0) { state[16] = f32(lo); }
  }
  if (done) {
    finish(k, true);
  } else if (abs(state[7] - state[11]) * k.dNorm < k.progTol || state[2] >= k.maxLS) {
    finish(k, false);
  } else {
    zoom_step(k);
  }
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
  for (var j = i; j < u.nScalars; j += 64u) { out[u.base + 2u + j] = scalars[j]; }
  for (var j = i; j < u.nDots; j += 64u) { out[u.base + 2u + u.nScalars + j] = dots[j]; }
  if (i != 0u) { return; }
  let k = Consts(params[2], params[3], params[4], params[5], params[6], params[7], params[8]);
  if (state[0] != DONE) {
    let fHi = params[0];
    let fLo = params[1];
    // J(t) = Σₖ wₖ·sₖ as hi + lo.
    var hi = 0.0;
    var lo = 0.0;
    var legal = true;
    for (var j = 0u; j < u.nScalars; j++) {
      let w = params[N_WEIGHTS_AT + j];
      if (w == 0.0) { continue; }
      let term = w * scalars[j];
      legal = legal && finite(term);
      let s = two_sum(hi, term);
      hi = s.x;
      lo += s.y;
    }
    let g = dots[0];
    legal = legal && finite(g) && finite(hi + lo);
    // J(x) − J(t): the hi parts are close, so their difference is exact.
    var dJ = 0.0;
    if (legal) { dJ = (fHi - hi) + (fLo - lo); }
    let t = state[1];
    if (state[3] != 0.0) { state[3] = 0.0; } else { state[2] += 1.0; }
    if (state[0] == BRACKET) { bracket_trial(k, t, dJ, g, legal); } else { zoom_trial(k, t, dJ, g, legal); }
  }
  out[u.base] = state[1];
  out[u.base + 1u] = select(1.0, 0.0, state[0] == DONE);
}
