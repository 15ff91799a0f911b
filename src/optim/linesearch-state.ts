// The strong-Wolfe line search of linesearch.ts as a state machine: `advance`
// takes the state and the J and φ' of the trial at `state.t`, and moves it to
// the next trial step (or to 'done', with the step returned). wolfeLineSearch
// drives it on the CPU; shaders/linesearch.wgsl runs the same transitions in
// float32 on the GPU, so that the trials after the first are evaluated without
// a round trip (speculation; the CPU checks each device step against its own).
//
// The search, after minFunc's WolfeLineSearch (LS_interp = 2): a bracketing
// phase that extrapolates with a safeguarded cubic until an interval holding an
// acceptable step is found, then a zoom phase that shrinks it by cubic
// interpolation, with minFunc's guard against steps too close to the ends of
// the interval. See linesearch.ts for how it differs from minFunc.

/** What does not change during one search. */
export interface SearchConstants {
  /** J(x) and φ'(0) = ∇J(x)ᵀd (negative). */
  f: number;
  gtd: number;
  c1: number;
  c2: number;
  /** Most evaluations (minFunc's maxLS). */
  maxLS: number;
  /** The search ends once the bracket is shorter than this along d: |t₁ − t₂|·‖d‖ < progTol. */
  progTol: number;
  dNorm: number;
  /** J differences within this are rounding (0: J is exact). */
  noise: number;
}

export interface SearchState {
  /** 'bracket': extrapolating; 'zoom': shrinking the bracket; 'done': `t` is the step returned. */
  phase: 'bracket' | 'zoom' | 'done';
  /** The step of the next trial (when done: the step returned). */
  t: number;
  /** Trials made after the first. */
  iter: number;
  /** No trial made yet. */
  first: boolean;
  /** Bracketing: the previous trial (0, J(x), φ'(0) at first). */
  tPrev: number;
  fPrev: number;
  gPrev: number;
  /** The bracket: up to two points (step, value (+∞ if illegal), slope). */
  bt: number[];
  bf: number[];
  bg: number[];
  /** Zoom: the index of the low end when a noisy J chose it by slope (-1: the lowest merit). */
  kept: number;
  insufProgress: boolean;
  /** When done: J and φ' at t. */
  f: number;
  g: number;
}

export function startSearch(c: SearchConstants, t: number): SearchState {
  return { phase: 'bracket', t, iter: 0, first: true, tPrev: 0, fPrev: c.f, gPrev: c.gtd, bt: [], bf: [], bg: [], kept: -1, insufProgress: false, f: NaN, g: NaN };
}

/**
 * Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2) (values and
 * slopes), clamped to [lo, hi] (default: between the two points); the middle
 * of [lo, hi] when the cubic has no minimizer. minFunc's polyinterp for two
 * points with derivatives.
 */
export function cubicMinimizer(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, lo?: number, hi?: number): number {
  const [a, fa, ga, b, fb, gb] = x1 <= x2 ? [x1, f1, g1, x2, f2, g2] : [x2, f2, g2, x1, f1, g1];
  const low = lo ?? a;
  const high = hi ?? b;
  const d1 = ga + gb - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - ga * gb;
  if (disc >= 0) {
    const d2 = Math.sqrt(disc);
    const t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2));
    if (Number.isFinite(t)) return Math.min(Math.max(t, low), high);
  }
  return (low + high) / 2;
}

/**
 * Root of the line through the slopes (x1, g1) and (x2, g2), clamped to
 * [lo, hi] (default: between the two points); the middle of [lo, hi] when the
 * slopes are equal. Where J's difference between two points is within its
 * rounding, the cubic's use of it is noise and the slopes alone place the
 * minimizer (φ' = 0).
 */
export function secantStep(x1: number, g1: number, x2: number, g2: number, lo?: number, hi?: number): number {
  const low = lo ?? Math.min(x1, x2);
  const high = hi ?? Math.max(x1, x2);
  const t = x2 - (g2 * (x2 - x1)) / (g2 - g1);
  return Number.isFinite(t) ? Math.min(Math.max(t, low), high) : (low + high) / 2;
}

/** cubicMinimizer, or secantStep when `noise` > 0 and |f1 − f2| ≤ noise. */
export function interpolateStep(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, noise: number, lo?: number, hi?: number): number {
  if (noise > 0 && Math.abs(f1 - f2) <= noise) return secantStep(x1, g1, x2, g2, lo, hi);
  return cubicMinimizer(x1, f1, g1, x2, f2, g2, lo, hi);
}

/**
 * J at a is above J at b. On a J with rounding noise only when the difference
 * is beyond the noise: a point level with b's within it is judged by its slope,
 * as for a smooth function.
 */
function above(c: SearchConstants, a: number, b: number): boolean {
  return c.noise > 0 ? a - b > c.noise : a >= b;
}

/**
 * Sufficient decrease decided by slope on a noisy J (Hager & Zhang's
 * approximate condition): J level with J(x) within the noise, and
 * φ'(t) ≤ (1 − 2c1)·|φ'(0)|, which for a φ close to quadratic implies the
 * decrease that J's rounding hides. A point still descending there is not
 * taken for one past the minimizer because of rounding alone.
 */
function decreaseBySlope(c: SearchConstants, fNew: number, gNew: number): boolean {
  return c.noise > 0 && fNew - c.f <= c.noise && gNew <= (1 - 2 * c.c1) * -c.gtd;
}

/** J if the bracket point i has sufficient decrease, else +∞ (the low end is the lowest). */
function merit(c: SearchConstants, s: SearchState, i: number): number {
  return s.bf[i]! <= c.f + c.c1 * s.bt[i]! * c.gtd || decreaseBySlope(c, s.bf[i]!, s.bg[i]!) ? s.bf[i]! : Infinity;
}

function lowEnd(c: SearchConstants, s: SearchState): number {
  return s.kept >= 0 ? s.kept : merit(c, s, 0) <= merit(c, s, 1) ? 0 : 1;
}

/**
 * Feeds the trial at `s.t`: φ(t) = fNew (+∞ for an illegal point: a
 * non-finite value or slope) and φ'(t) = gNew. Afterwards `s.t` is the next
 * trial step, or the phase is 'done'.
 */
export function advance(c: SearchConstants, s: SearchState, fNew: number, gNew: number): void {
  if (s.phase === 'done') return;
  if (!s.first) s.iter++;
  s.first = false;
  if (s.phase === 'bracket') bracketTrial(c, s, fNew, gNew);
  else zoomTrial(c, s, fNew, gNew);
}

/**
 * Hager & Zhang's approximate Wolfe test (CG_DESCENT, 2005) for a noisy J: a
 * point whose J is level with J(x) within the noise and whose slope meets the
 * curvature condition is accepted. Near the minimizer along d the decrease
 * c1·t·φ'(0) that sufficient decrease asks for is below J's rounding, so the
 * test cannot be decided on J; for a φ that is close to quadratic there,
 * |φ'(t)| ≤ c2·|φ'(0)| < (1 − 2c1)·|φ'(0)| implies it (HZ's argument).
 */
function approximatelyWolfe(c: SearchConstants, fNew: number, gNew: number): boolean {
  return c.noise > 0 && fNew - c.f <= c.noise && Math.abs(gNew) <= -c.c2 * c.gtd;
}

/** Whether step t with J = f and φ' = g meets the strong Wolfe conditions, or on a noisy J the approximate ones. */
export function meetsWolfe(c: SearchConstants, t: number, f: number, g: number): boolean {
  return (f <= c.f + c.c1 * t * c.gtd && Math.abs(g) <= -c.c2 * c.gtd) || approximatelyWolfe(c, f, g);
}

/** Ends the search at the trial t (a Wolfe point). */
function accept(c: SearchConstants, s: SearchState, t: number, fNew: number, gNew: number): void {
  setBracket(s, [t], [fNew], [gNew]);
  finish(c, s, true);
}

function bracketTrial(c: SearchConstants, s: SearchState, fNew: number, gNew: number): void {
  const t = s.t;
  if (approximatelyWolfe(c, fNew, gNew)) return accept(c, s, t, fNew, gNew);
  if (s.iter >= c.maxLS) {
    setBracket(s, [0, t], [c.f, fNew], [c.gtd, gNew]);
    return enterZoom(c, s);
  }
  if ((fNew > c.f + c.c1 * t * c.gtd && !decreaseBySlope(c, fNew, gNew)) || (s.iter > 1 && above(c, fNew, s.fPrev))) {
    setBracket(s, [s.tPrev, t], [s.fPrev, fNew], [s.gPrev, gNew]);
    return enterZoom(c, s);
  }
  if (Math.abs(gNew) <= -c.c2 * c.gtd) return accept(c, s, t, fNew, gNew);
  if (gNew >= 0) {
    setBracket(s, [s.tPrev, t], [s.fPrev, fNew], [s.gPrev, gNew]);
    return enterZoom(c, s);
  }
  // Still descending: extrapolate into [t + 0.01·(t − t_prev), 10·t].
  const temp = s.tPrev;
  s.tPrev = t;
  s.t = interpolateStep(temp, s.fPrev, s.gPrev, t, fNew, gNew, c.noise, t + 0.01 * (t - temp), t * 10);
  s.fPrev = fNew;
  s.gPrev = gNew;
}

function setBracket(s: SearchState, bt: number[], bf: number[], bg: number[]): void {
  s.bt = bt;
  s.bf = bf;
  s.bg = bg;
}

function enterZoom(c: SearchConstants, s: SearchState): void {
  s.phase = 'zoom';
  s.kept = -1;
  s.insufProgress = false;
  if (s.iter < c.maxLS) zoomStep(c, s);
  else finish(c, s, false);
}

/** The next trial in the bracket: interpolated, kept away from its ends. */
function zoomStep(c: SearchConstants, s: SearchState): void {
  const { bt, bf, bg } = s;
  const legal = bf.every(Number.isFinite) && bg.every(Number.isFinite);
  let t = legal ? interpolateStep(bt[0]!, bf[0]!, bg[0]!, bt[1]!, bf[1]!, bg[1]!, c.noise) : (bt[0]! + bt[1]!) / 2;
  const bMax = Math.max(bt[0]!, bt[1]!);
  const bMin = Math.min(bt[0]!, bt[1]!);
  if (Math.min(bMax - t, t - bMin) / (bMax - bMin) < 0.1) {
    if (s.insufProgress || t >= bMax || t <= bMin) {
      t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - 0.1 * (bMax - bMin) : bMin + 0.1 * (bMax - bMin);
      s.insufProgress = false;
    } else {
      s.insufProgress = true;
    }
  } else {
    s.insufProgress = false;
  }
  s.t = t;
}

function zoomTrial(c: SearchConstants, s: SearchState, fNew: number, gNew: number): void {
  const t = s.t;
  if (approximatelyWolfe(c, fNew, gNew)) return accept(c, s, t, fNew, gNew);
  const { bt, bf, bg } = s;
  const lo = lowEnd(c, s);
  const hi = 1 - lo;
  let done = false;
  const sufficient = fNew < c.f + c.c1 * t * c.gtd || decreaseBySlope(c, fNew, gNew);
  if (!sufficient || above(c, fNew, bf[lo]!)) {
    bt[hi] = t;
    bf[hi] = fNew;
    bg[hi] = gNew;
  } else {
    if (Math.abs(gNew) <= -c.c2 * c.gtd) {
      done = true;
    } else if (gNew * (bt[hi]! - bt[lo]!) >= 0) {
      bt[hi] = bt[lo]!;
      bf[hi] = bf[lo]!;
      bg[hi] = bg[lo]!;
    }
    bt[lo] = t;
    bf[lo] = fNew;
    bg[lo] = gNew;
    // t is the low end even if its J is above the old one's by rounding alone.
    if (c.noise > 0) s.kept = lo;
  }
  if (done) finish(c, s, true);
  else if (Math.abs(bt[0]! - bt[1]!) * c.dNorm < c.progTol || s.iter >= c.maxLS) finish(c, s, false);
  else zoomStep(c, s);
}

/**
 * The step returned: the Wolfe point (`wolfe`), else the lowest-cost point of
 * the bracket (its low end, or t = 0, when none is below J(x)).
 */
function finish(c: SearchConstants, s: SearchState, wolfe: boolean): void {
  const best = s.bf.length === 1 ? 0 : wolfe ? lowEnd(c, s) : s.bf[0]! <= s.bf[1]! ? 0 : 1;
  s.t = s.bt[best]!;
  s.f = s.bf[best]!;
  s.g = s.bg[best]!;
  s.phase = 'done';
}
