// vae.wgsl — the variational autoencoder's kernels (src/cpu/vae.ts is their
// float64 reference). Rows are examples; H is the head GEMM's output, row i =
// [μ (d) | log σ² (d)], m × 2d. Exactly one of REPARAM, KL_ROWS, HEAD_DELTA, ROW_NLL,
// IW_ACC is true. Dispatch: ceil(count / 64) workgroups of 64 (2-D when large), where
// count = rows·d (reparameterize, head_delta) or rows (the per-row kernels).
//
// reparameterize — ε = √(−2 ln(1 − u0))·cos(2π u1), u_s the counter-based uniforms of
//   src/noise.ts (noiseNormal, streams 2 and 3) at global element e = (rowOffset + r)·d + j,
//   under seed state[0]; z = μ + exp(½ log σ²)·ε. state[1] = 0 ⇒ ε = 0 and z = μ (inference).
//   Bindings: 0 uniform, 1 H, 2 Z (m × d, out), 3 EPS (m × d, out), 4 state (u32 [seed, enabled]).
//   noise_uniform, ln_poly and cos_2pi come from noise.wgsl (rendered as ['noise', 'vae']).
// kl_rows — out[r] = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²). Bindings: 0 uniform, 1 H, 2 out (m).
// head_delta — DH[r, j] = δz + β μ, DH[r, d + j] = ½ δz ε σ + ½ β (σ² − 1), σ² = exp(log σ²)
//   (per-example δ; the GEMMs apply 1/m). Bindings: 0 uniform, 1 H, 2 DZ (m × d), 3 EPS, 4 DH (out).
// row_nll — out[r] = −log p(x|z) without constants: KIND 0 Bernoulli from logits ζ:
//   Σₖ x softplus(−ζ) + (1 − x) softplus(ζ); KIND 1 Gaussian: ½ Σₖ (x̂ − x)².
//   Bindings: 0 uniform (n outputs, offX of X), 1 OUT (logits or x̂, m × n), 2 X, 3 out (m).
// iw_accumulate — log w = −rec − konst + Σⱼ (−½ zⱼ² + ½ log σⱼ² + ½ εⱼ²) (Burda et al. 2015);
//   a running logsumexp per example in ACC[2r] = max, ACC[2r + 1] = Σ exp(log w − max)
//   (first = 1 starts it). Bindings: 0 uniform, 1 H, 2 Z, 3 EPS, 4 REC (m), 5 ACC (m × 2).

struct VaeParams {
  count: u32,
  d: u32,
  rowOffset: u32,
  rowsPerGrid: u32,
  n: u32,
  offX: u32,
  first: u32,
  pad0: u32,
  beta: f32,
  konst: f32,
  pad1: f32,
  pad2: f32,
}
@group(0) @binding(0) var<uniform> vp: VaeParams;

fn flat_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * vp.rowsPerGrid; }

// H (binding 1), read by every kernel but row_nll (HEAD): row r = [μ (d) | log σ² (d)].
#if ${HEAD}
@group(0) @binding(1) var<storage, read> H: array<f32>;
fn head_mu(r: u32, j: u32) -> f32 { return H[r * 2u * vp.d + j]; }
fn head_logvar(r: u32, j: u32) -> f32 { return H[r * 2u * vp.d + vp.d + j]; }
// Element i of an m × d latent matrix: its row r, column j, and μ, log σ² from H.
struct Latent { r: u32, j: u32, mu: f32, lv: f32 }
fn latent_at(i: u32) -> Latent {
  let r = i / vp.d;
  let j = i - r * vp.d;
  return Latent(r, j, head_mu(r, j), head_logvar(r, j));
}
#endif

#if ${REPARAM}
@group(0) @binding(2) var<storage, read_write> Z: array<f32>;
@group(0) @binding(3) var<storage, read_write> EPS: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;

@compute @workgroup_size(64)
fn reparameterize(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= vp.count) { return; }
  let d = vp.d;
  let h = latent_at(i);
  var eps = 0.0;
  if (state[1] != 0u) {
    let seed = state[0];
    let e = vp.rowOffset * d + i;
    let u0 = noise_uniform(seed, e, 2u);
    let u1 = noise_uniform(seed, e, 3u);
    eps = sqrt(-2.0 * ln_poly(1.0 - u0)) * cos_2pi(u1);
  }
  EPS[i] = eps;
  Z[i] = h.mu + exp(0.5 * h.lv) * eps;
}
#endif

#if ${KL_ROWS}
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn kl_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = flat_index(gid);
  if (r >= vp.count) { return; }
  let d = vp.d;
  var s = 0.0;
  for (var j = 0u; j < d; j++) {
    let mu = head_mu(r, j);
    let lv = head_logvar(r, j);
    s += 1.0 + lv - mu * mu - exp(lv);
  }
  out[r] = -0.5 * s;
}
#endif

#if ${HEAD_DELTA}
@group(0) @binding(2) var<storage, read> DZ: array<f32>;
@group(0) @binding(3) var<storage, read> EPS: array<f32>;
@group(0) @binding(4) var<storage, read_write> DH: array<f32>;

@compute @workgroup_size(64)
fn head_delta(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= vp.count) { return; }
  let d = vp.d;
  let h = latent_at(i);
  let sigma = exp(0.5 * h.lv);
  let dz = DZ[i];
  DH[h.r * 2u * d + h.j] = dz + vp.beta * h.mu;
  DH[h.r * 2u * d + d + h.j] = 0.5 * dz * EPS[i] * sigma + 0.5 * vp.beta * (sigma * sigma - 1.0);
}
#endif

#if ${ROW_NLL}
@group(0) @binding(1) var<storage, read> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn row_nll(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = flat_index(gid);
  if (r >= vp.count) { return; }
  let n = vp.n;
  var s = 0.0;
  for (var k = 0u; k < n; k++) {
    let v = OUT[r * n + k];
    let x = X[vp.offX + r * n + k];
#if ${GAUSSIAN}
    let t = v - x;
    s += 0.5 * t * t;
#else
    // x softplus(−ζ) + (1 − x) softplus(ζ) = softplus(ζ) − x ζ
    s += max(v, 0.0) + log(1.0 + exp(-abs(v))) - x * v;
#endif
  }
  out[r] = s;
}
#endif

#if ${IW_ACC}
@group(0) @binding(2) var<storage, read> Z: array<f32>;
@group(0) @binding(3) var<storage, read> EPS: array<f32>;
@group(0) @binding(4) var<storage, read> REC: array<f32>;
@group(0) @binding(5) var<storage, read_write> ACC: array<f32>;

@compute @workgroup_size(64)
fn iw_accumulate(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = flat_index(gid);
  if (r >= vp.count) { return; }
  let d = vp.d;
  var t = 0.0;
  for (var j = 0u; j < d; j++) {
    let z = Z[r * d + j];
    let e = EPS[r * d + j];
    t += -0.5 * z * z + 0.5 * head_logvar(r, j) + 0.5 * e * e;
  }
  let lw = -REC[r] - vp.konst + t;
  if (vp.first != 0u) {
    ACC[2u * r] = lw;
    ACC[2u * r + 1u] = 1.0;
    return;
  }
  let mx = ACC[2u * r];
  if (lw > mx) {
    ACC[2u * r + 1u] = ACC[2u * r + 1u] * exp(mx - lw) + 1.0;
    ACC[2u * r] = lw;
  } else {
    ACC[2u * r + 1u] += exp(lw - mx);
  }
}
#endif
