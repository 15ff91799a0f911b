// activation.wgsl — activation functions f and their derivatives f′, and the
// hidden-layer backprop kernel.
//
// Template values: ACT (activation id: one of the ACT_* constants generated from
// shaders/ids.json, the same table as ACT_ID in TypeScript), ALPHA
// (prelu slope / elu scale). Included in front of gemm.wgsl and loss.wgsl.
//
// hidden_delta — bindings: 0 uniform HiddenParams, 1 G (m × n, read_write: in
//   δ = g • f′ written in place), 2 A (m × n, f(z)), 3 Z (m × n, only when the
//   derivative needs z), 4 rhoHat (n, only with sparsity), 5 mask (m × n), 6 S (rowSumSq);
//   5 and 6 are always bound (the launcher binds A when unused) and switched on at
//   run time by hp.flags (bit 0 mask, bit 1 contractive), so the template values
//   stay those of the plain kernel.
//   Dispatch: ceil(m·n / 256) workgroups of 256 along x (2-D when large).
//   CS294A §2.3 / UFLDL "Autoencoders and Sparsity":
//   δ(l) = ((W(l))ᵀ δ(l+1) + β(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)) + λ₁·sign(a)) • f′(z(l)).
//   Contractive (sigmoid only; Rifai et al. 2011, penalty λ_c Σᵢⱼ (aⱼ(1−aⱼ))² Wⱼᵢ²):
//   δ += 2λ_c · s²(1 − 2a) · S_j with s = a(1−a), S_j = Σₖ W_jk² = S[offS + j].
//   k-sparse: δ ← δ • mask (only the kept units pass gradient).

const ACT: u32 = ${ACT}u;
const ALPHA: f32 = ${ALPHA};

fn act_f(z: f32) -> f32 {
  switch ACT {
    case ACT_SIGMOID: { return 1.0 / (1.0 + exp(-z)); }                  // sigmoid
    case ACT_TANH: { return tanh(clamp(z, -15.0, 15.0)); }             // tanh
    case ACT_RELU: { return max(z, 0.0); }                             // relu
    case ACT_PRELU: { return select(ALPHA * z, z, z >= 0.0); }          // prelu
    case ACT_ELU: { return select(ALPHA * (exp(min(z, 0.0)) - 1.0), z, z >= 0.0); } // elu
    case ACT_SOFTPLUS: { return max(z, 0.0) + log(1.0 + exp(-abs(z))); }  // softplus
    case ACT_SOFTSIGN: { return z / (1.0 + abs(z)); }                      // softsign
    case ACT_HARDTANH: { return clamp(z, -1.0, 1.0); }                     // hardtanh
    case ACT_STEP: { return select(0.0, 1.0, z >= 0.0); }              // step
    default: { return z; }                                       // identity, softmax logits (ACT_IDENTITY, ACT_SOFTMAX)
  }
}

// f′ given z and a = f(z); the cheaper form where one exists (notes: f′ = a(1−a) for sigmoid).
fn act_df(z: f32, a: f32) -> f32 {
  switch ACT {
    case ACT_SIGMOID: { return a * (1.0 - a); }
    case ACT_TANH: { return 1.0 - a * a; }
    case ACT_RELU: { return select(0.0, 1.0, a > 0.0); }
    case ACT_PRELU: { return select(ALPHA, 1.0, z > 0.0); }
    case ACT_ELU: { return select(a + ALPHA, 1.0, a >= 0.0); }
    case ACT_SOFTPLUS: { return 1.0 / (1.0 + exp(-z)); }
    case ACT_SOFTSIGN: { let d = 1.0 + abs(z); return 1.0 / (d * d); }
    case ACT_HARDTANH: { return select(0.0, 1.0, z >= -1.0 && z <= 1.0); }
    case ACT_STEP: { return 0.0; }
    default: { return 1.0; }
  }
}

#if ${HIDDEN_DELTA}
struct HiddenParams {
  count: u32,   // m · n
  n: u32,       // units in the layer (columns)
  rho: f32,
  beta: f32,
  l1: f32,
  rowsPerGrid: u32, // workgroups along x × 256, for 2-D dispatch
  offRho: u32,      // offset of this layer's ρ̂ in rhoHat
  flags: u32,       // bit 0: multiply by mask; bit 1: add the contractive term
  cweight: f32,     // contractive weight λ_c
  offS: u32,        // offset of this layer's row sums of squares in S
  bscale: f32,      // hidden_delta_bias: ∇b ← bscale · Σᵢ δ + bbeta · ∇b
  bbeta: f32,
  offBias: u32,     // offset of ∇b in gradB
}
@group(0) @binding(0) var<uniform> hp: HiddenParams;
@group(0) @binding(1) var<storage, read_write> G: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
#if ${NEEDS_Z}
@group(0) @binding(3) var<storage, read> Z: array<f32>;
#endif
#if ${SPARSE}
@group(0) @binding(4) var<storage, read> rhoHat: array<f32>;
#endif
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(6) var<storage, read> S: array<f32>;

@compute @workgroup_size(256)
fn hidden_delta(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * hp.rowsPerGrid;
  if (i >= hp.count) { return; }
  hidden_delta_at(i);
}

#if ${BIAS_SUM}
// hidden_delta_bias: the same δ, one invocation per column over every row, which
// also writes that column's ∇b = bscale · Σᵢ δ + bbeta · ∇b (the bias gradient
// fused into the pass that writes δ; rows summed in order, as colsum_direct).
// Dispatch: ceil(n / 64).
@group(0) @binding(7) var<storage, read_write> gradB: array<f32>;

@compute @workgroup_size(64)
fn hidden_delta_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= hp.n) { return; }
  var s = 0.0;
  for (var i = j; i < hp.count; i += hp.n) { s += hidden_delta_at(i); }
  let o = hp.offBias + j;
  var v = hp.bscale * s;
  if (hp.bbeta != 0.0) { v += hp.bbeta * gradB[o]; } // never read an output that may be uninitialized
  gradB[o] = v;
}
#endif

/** δ at element i (written to G[i] and returned). */
fn hidden_delta_at(i: u32) -> f32 {
  let a = A[i];
  var g = G[i];
#if ${SPARSE}
  let r = rhoHat[hp.offRho + i % hp.n];
  g += hp.beta * (-hp.rho / r + (1.0 - hp.rho) / (1.0 - r));
#endif
  g += hp.l1 * sign(a);
#if ${NEEDS_Z}
  let z = Z[i];
#else
  let z = a;
#endif
  var d = g * act_df(z, a);
  if ((hp.flags & 2u) != 0u) {
    let s = a * (1.0 - a);
    d += 2.0 * hp.cweight * s * s * (1.0 - 2.0 * a) * S[hp.offS + i % hp.n];
  }
  if ((hp.flags & 1u) != 0u) { d *= mask[i]; }
  G[i] = d;
  return d;
}
#endif
