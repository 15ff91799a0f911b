// linesearch.wgsl — the second trial step of the strong-Wolfe line search
// (src/optim/linesearch.ts, secondTrialStep), computed on the GPU from the
// first trial's J and φ'(t) = ∇Jᵀd, so that a line search needing two trials
// (CG's usual case) reads both back in one round trip.
//
// Inputs: J(x) as f32 hi + lo (J(x) = fHi + fLo to ~1e-15), φ'(0), the first
// step t, c1, c2 (params), the first trial's cost parts (`scalars`, summed with
// the weights w: J = Σₖ wₖ·scalars[k]) and its dot products (`dots`, dots[0] = φ'(t)).
// J(t) is summed compensated (TwoSum) so that J(x) − J(t), a difference of
// nearly equal costs, keeps float64-like accuracy.
//
// Output `out`: [0] the step of the next evaluation (the second trial step, or
// t itself when the first trial already meets the strong Wolfe conditions, so
// that θ and ∇J end where the search ends), [1] 1 for a second trial, 0 for
// none; [2 …) the first trial's scalars, then its dots (they are overwritten by
// the next evaluation, and read back from here).
//
// The CPU checks every decision on readback (linesearch.ts): a step computed
// here that differs from its own is not used, so rounding can cost a round trip
// but never changes what the line search does.

struct LsUniform { nScalars: u32, nDots: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: LsUniform;
// fHi, fLo, φ'(0), t, c1, c2, then nScalars weights.
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> scalars: array<f32>;
@group(0) @binding(3) var<storage, read> dots: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

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

// linesearch.ts cubicMinimizer for the points (0, f0, g0) and (t, ft, gt) with
// t > 0, given df = f0 − ft: the minimizer of the interpolating cubic, clamped
// to [lo, hi]; the middle of [lo, hi] when the cubic has none.
fn cubic(t: f32, df: f32, g0: f32, gt: f32, lo: f32, hi: f32) -> f32 {
  // a = 0, b = t: d1 = g0 + gt − 3(f0 − ft)/(0 − t).
  let d1 = g0 + gt + 3.0 * df / t;
  let disc = d1 * d1 - g0 * gt;
  if (disc >= 0.0) {
    let d2 = sqrt(disc);
    let s = t - t * ((gt + d2 - d1) / (gt - g0 + 2.0 * d2));
    if (finite(s)) { return min(max(s, lo), hi); }
  }
  return (lo + hi) / 2.0;
}

// The zoom's first step in the bracket [0, t]: the cubic's minimizer, moved 10%
// inside when it falls on or outside an end (one inside but close is kept the
// first time, as linesearch.ts does).
fn zoom_step(t: f32, df: f32, g0: f32, gt: f32) -> f32 {
  var s = cubic(t, df, g0, gt, 0.0, t);
  if (min(t - s, s) / t < 0.1 && (s >= t || s <= 0.0)) {
    if (abs(s - t) < abs(s)) { s = t - 0.1 * t; } else { s = 0.1 * t; }
  }
  return s;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
  for (var k = i; k < u.nScalars; k += 64u) { out[2u + k] = scalars[k]; }
  for (var k = i; k < u.nDots; k += 64u) { out[2u + u.nScalars + k] = dots[k]; }
  if (i != 0u) { return; }
  let fHi = params[0];
  let fLo = params[1];
  let gtd = params[2];
  let t = params[3];
  let c1 = params[4];
  let c2 = params[5];
  // J(t) = Σₖ wₖ·sₖ as hi + lo.
  var hi = 0.0;
  var lo = 0.0;
  var legal = true;
  for (var k = 0u; k < u.nScalars; k++) {
    let w = params[6u + k];
    if (w == 0.0) { continue; }
    let term = w * scalars[k];
    legal = legal && finite(term);
    let s = two_sum(hi, term);
    hi = s.x;
    lo += s.y;
  }
  let gt = dots[0];
  legal = legal && finite(gt) && finite(hi + lo);
  // J(x) − J(t): the hi parts are close, so their difference is exact.
  let df = (fHi - hi) + (fLo - lo);

  var next = t;
  var second = 1.0;
  if (!legal) {
    // An illegal point closes the bracket [0, t]; the zoom bisects it.
    next = t / 2.0;
  } else if (-df > c1 * t * gtd) {
    // No sufficient decrease: the bracket is [0, t].
    next = zoom_step(t, df, gtd, gt);
  } else if (abs(gt) <= -c2 * gtd) {
    // The first step meets the strong Wolfe conditions: evaluate it again.
    second = 0.0;
  } else if (gt >= 0.0) {
    // Past the minimizer along d: the bracket is [0, t].
    next = zoom_step(t, df, gtd, gt);
  } else {
    // Still descending: extrapolate into [1.01 t, 10 t].
    next = cubic(t, df, gtd, gt, t + 0.01 * t, 10.0 * t);
  }
  out[0] = next;
  out[1] = second;
}
