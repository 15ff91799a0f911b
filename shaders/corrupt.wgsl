// corrupt.wgsl — the denoising autoencoder's input corruption (seed 004).
//
// corrupt — out[i] = corrupt(X[offX + i]) for i < rows·cols, the noise of global
//   element e = rowOffset·cols + i (mod 2³²), mirroring src/noise.ts bit for bit:
//   pcg hash, u_s = (pcg(pcg(seed ^ s·0x9E3779B9) + e) >> 8) / 2²⁴ for streams s = 0, 1.
//   KIND (a NOISE_* constant): NOISE_MASK: u0 < ν ? 0 : x; NOISE_GAUSSIAN: x + σ √(−2 ln(1 − u0)) cos(2π u1);
//   NOISE_SALT_PEPPER: u0 < ν ? (u1 < ½ ? low : high) : x. state[1] = 0 ⇒ out = x.
//   ln and cos are polynomials (ln_poly, cos_2pi of noise.wgsl) accurate to f32 rounding.
//   Rendered as ['noise', 'corrupt'].
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
