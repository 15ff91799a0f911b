// noise.wgsl — the counter-based noise of src/noise.ts, shared by corrupt.wgsl and
// vae.wgsl (list it before them in renderShader's files), bit for bit:
//   pcg hash; u_s = (pcg(pcg(seed ^ s·0x9E3779B9) + e) >> 8) / 2²⁴ for stream s at element e;
//   the Box–Muller pair √(−2 ln(1 − u0))·cos(2π u1) from ln_poly and cos_2pi.
// Plain functions only: no bindings, no template values.

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn noise_uniform(seed: u32, e: u32, stream: u32) -> f32 {
  let h = pcg(pcg(seed ^ (stream * 0x9E3779B9u)) + e);
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

// Built-in log and cos may carry errors of ~1e-4 (software adapters; WGSL allows
// 2⁻¹¹ absolute for cos), so the Box–Muller pair is computed from polynomials.
// ln v for v > 0: v = f·2ᵉ with f in [√½, √2), ln f = 2 atanh(t), t = (f − 1)/(f + 1), |t| ≤ 0.172.
fn ln_poly(v: f32) -> f32 {
  let fe = frexp(v);
  var f = fe.fract;
  var e = f32(fe.exp);
  if (f < 0.70710678) { f *= 2.0; e -= 1.0; }
  let t = (f - 1.0) / (f + 1.0);
  let t2 = t * t;
  let p = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0)))));
  return 2.0 * t * p + e * 0.69314718055994531;
}

// cos(2π u) for u in [0, 1): u = q/4 + r exactly with |r| ≤ 1/8, then sin/cos Taylor
// series of θ = 2πr (|θ| ≤ π/4) picked by the quadrant q.
fn cos_2pi(u: f32) -> f32 {
  let q = floor(4.0 * u + 0.5);
  let r = u - 0.25 * q;
  let th = 6.283185307179586 * r;
  let x2 = th * th;
  let c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0 * (1.0 - x2 / 132.0)))));
  let sn = th * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0)))));
  switch u32(q) % 4u {
    case 1u: { return -sn; }
    case 2u: { return -c; }
    case 3u: { return sn; }
    default: { return c; }
  }
}
