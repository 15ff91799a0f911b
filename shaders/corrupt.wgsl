// corrupt.wgsl — the denoising autoencoder's input corruption (seed 004).
//
// corrupt — out[i] = corrupt(X[offX + i]) for i < rows·cols, the noise of global
//   element e = rowOffset·cols + i (mod 2³²), mirroring src/noise.ts bit for bit:
//   pcg hash, u_s = (pcg(pcg(seed ^ s·0x9E3779B9) + e) >> 8) / 2²⁴ for streams s = 0, 1.
//   KIND (a NOISE_* constant): NOISE_MASK: u0 < ν ? 0 : x; NOISE_GAUSSIAN: x + σ √(−2 ln(1 − u0)) cos(2π u1);
//   NOISE_SALT_PEPPER: u0 < ν ? (u1 < ½ ? low : high) : x. state[1] = 0 ⇒ out = x.
//   ln and cos are polynomials (ln_poly, cos_2pi) accurate to f32 rounding.
//   Bindings: 0 uniform CorruptParams, 1 X, 2 out (read_write), 3 state (u32 [seed, enabled],
//   rewritten by the caller before each submit, so one Dispatch serves every step).
//   Dispatch: ceil(count / 256) workgroups of 256 (2-D when large).

struct CorruptParams {
  count: u32,       // rows · cols
  cols: u32,
  rowOffset: u32,   // the chunk's first row in the data set
  rowsPerGrid: u32, // workgroups along x × 256, for 2-D dispatch
  offX: u32,
  pad0: u32, pad1: u32, pad2: u32,
  level: f32,       // ν (mask, salt-pepper) or σ (gaussian)
  low: f32,         // salt-pepper
  high: f32,
  pad3: f32,
}
@group(0) @binding(0) var<uniform> cp: CorruptParams;

fn flat_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * cp.rowsPerGrid; }

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> state: array<u32>;

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

@compute @workgroup_size(256)
fn corrupt(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= cp.count) { return; }
  let x = X[cp.offX + i];
  if (state[1] == 0u) { out[i] = x; return; }
  let seed = state[0];
  let e = cp.rowOffset * cp.cols + i;
  let u0 = noise_uniform(seed, e, 0u);
  var v = x;
  switch ${KIND}u {
    case NOISE_GAUSSIAN: {
      v = x + cp.level * sqrt(-2.0 * ln_poly(1.0 - u0)) * cos_2pi(noise_uniform(seed, e, 1u));
    }
    case NOISE_SALT_PEPPER: {
      if (u0 < cp.level) { v = select(cp.high, cp.low, noise_uniform(seed, e, 1u) < 0.5); }
    }
    default: { // NOISE_MASK
      if (u0 < cp.level) { v = 0.0; }
    }
  }
  out[i] = v;
}
