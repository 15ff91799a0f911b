// variants.wgsl — element-wise kernels for the autoencoder variants (denoising,
// k-sparse, contractive). One entry point per template flag; exactly one of
// CORRUPT, TOPK, MASK_MUL, ROW_SUM_SQ, SLOPE_SQ, SCALE_ROWS is true.
// All Dispatches are ceil(count / 256) workgroups of 256 (2-D when large), except
// row_sum_sq: ceil(rows / 64) workgroups of 64.
//
// corrupt — out[i] = corrupt(X[offX + i]) for i < rows·cols, the noise of global
//   element e = rowOffset·cols + i (mod 2³²), mirroring src/noise.ts bit for bit:
//   pcg hash, u_s = (pcg(pcg(seed ^ s·0x9E3779B9) + e) >> 8) / 2²⁴ for streams s = 0, 1.
//   KIND 0 mask: u0 < ν ? 0 : x; 1 gaussian: x + σ √(−2 ln(1 − u0)) cos(2π u1);
//   2 salt-pepper: u0 < ν ? (u1 < ½ ? low : high) : x. state[1] = 0 ⇒ out = x.
//   ln and cos are polynomials (ln_poly, cos_2pi) accurate to f32 rounding.
//   Bindings: 0 uniform VarParams (rowOffset in k, ν or σ in f0, low f1, high f2), 1 X, 2 out (read_write), 3 state (u32 [seed, enabled],
//   rewritten by the caller before each submit, so one Dispatch serves every step).
// topk_mask — mask[i·n + j] = 1 if rank(i, j) < k else 0, where
//   rank = #{j′ : a_j′ > a_j or (a_j′ = a_j and j′ < j)} in row i (k-sparse autoencoder:
//   keep the k largest hidden units, ties to the lower index).
//   Bindings: 0 uniform, 1 A (rows × n), 2 mask (read_write). O(n) per element.
// mask_multiply — A[i] ← A[i]·mask[i]. Bindings: 0 uniform, 1 A (read_write), 2 mask.
// row_sum_sq — out[offOut + j] = Σₖ W[offW + j·cols + k]² (one invocation per row j).
//   Bindings: 0 uniform, 1 W, 2 out (read_write).
// slope_sq — out[i] = (A[i](1 − A[i]))² (squared sigmoid Jacobian entries).
//   Bindings: 0 uniform, 1 A, 2 out (read_write).
// scale_rows_add — G[offG + j·cols + k] += coef·q[offQ + j]·W[offW + j·cols + k].
//   Bindings: 0 uniform, 1 W, 2 G (read_write), 3 q.
//   Contractive penalty λ‖J‖²_F, J_ij = a_i(1−a_i) W_ij: its direct ∂/∂W term.

// Shared by every entry point: count = elements (or rows), rowsPerGrid for 2-D dispatch.
struct VarParams {
  count: u32,
  cols: u32,     // row length (n for topk_mask)
  k: u32,        // topk_mask: units kept; corrupt: rowOffset
  rowsPerGrid: u32,
  off0: u32,     // offset of the first input (X, W)
  off1: u32,     // offset of the output (out, G)
  off2: u32,     // offset of q
  pad0: u32,
  f0: f32,       // level / coef
  f1: f32,       // low
  f2: f32,       // high
  pad1: f32,
}
@group(0) @binding(0) var<uniform> vp: VarParams;

fn flat_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * vp.rowsPerGrid; }

#if ${CORRUPT}
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
  if (i >= vp.count) { return; }
  let x = X[vp.off0 + i];
  if (state[1] == 0u) { out[i] = x; return; }
  let seed = state[0];
  let e = vp.k * vp.cols + i;
  let u0 = noise_uniform(seed, e, 0u);
  var v = x;
  switch ${KIND}u {
    case NOISE_GAUSSIAN: {
      v = x + vp.f0 * sqrt(-2.0 * ln_poly(1.0 - u0)) * cos_2pi(noise_uniform(seed, e, 1u));
    }
    case NOISE_SALT_PEPPER: {
      if (u0 < vp.f0) { v = select(vp.f2, vp.f1, noise_uniform(seed, e, 1u) < 0.5); }
    }
    default: { // NOISE_MASK
      if (u0 < vp.f0) { v = 0.0; }
    }
  }
  out[i] = v;
}
#endif

#if ${TOPK}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;

@compute @workgroup_size(256)
fn topk_mask(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= vp.count) { return; }
  let n = vp.cols;
  let row = i / n;
  let j = i - row * n;
  let base = row * n;
  let a = A[i];
  var rank = 0u;
  for (var t = 0u; t < n; t++) {
    let b = A[base + t];
    if (b > a || (b == a && t < j)) { rank++; }
  }
  mask[i] = select(0.0, 1.0, rank < vp.k);
}
#endif

#if ${MASK_MUL}
@group(0) @binding(1) var<storage, read_write> A: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;

@compute @workgroup_size(256)
fn mask_multiply(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= vp.count) { return; }
  A[i] = A[i] * mask[i];
}
#endif

#if ${ROW_SUM_SQ}
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn row_sum_sq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = flat_index(gid);
  if (j >= vp.count) { return; }
  let base = vp.off0 + j * vp.cols;
  var s = 0.0;
  for (var k = 0u; k < vp.cols; k++) { let w = W[base + k]; s += w * w; }
  out[vp.off1 + j] = s;
}
#endif

#if ${SLOPE_SQ}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn slope_sq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= vp.count) { return; }
  let a = A[i];
  let s = a * (1.0 - a);
  out[i] = s * s;
}
#endif

#if ${SCALE_ROWS}
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> G: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;

@compute @workgroup_size(256)
fn scale_rows_add(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= vp.count) { return; }
  let j = i / vp.cols;
  G[vp.off1 + i] += vp.f0 * q[vp.off2 + j] * W[vp.off0 + i];
}
#endif
