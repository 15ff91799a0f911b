// contractive.wgsl — the contractive autoencoder's penalty λ_c (1/m) Σᵢ ‖J_f(x⁽ⁱ⁾)‖²_F
// for a sigmoid first layer, J_jk = h_j(1−h_j) W_jk (Rifai et al. 2011; seed 004).
// One entry point per template flag; exactly one of ROW_SUM_SQ, SLOPE_SQ, SCALE_ROWS is true.
// Dispatch: ceil(count / 256) workgroups of 256 (2-D when large), except
// row_sum_sq: ceil(rows / 64) workgroups of 64.
//
// row_sum_sq — out[offOut + j] = Σₖ W[offW + j·cols + k]² (Sⱼ; one invocation per row j).
//   Bindings: 0 uniform ContractiveParams, 1 W, 2 out (read_write).
// slope_sq — out[i] = (A[i](1 − A[i]))² (squared sigmoid Jacobian entries).
//   Bindings: 0 uniform, 1 A, 2 out (read_write).
// scale_rows_add — G[offOut + j·cols + k] += coef·q[offQ + j]·W[offW + j·cols + k]:
//   the penalty's direct ∂/∂W term 2λ_c qⱼ W_jk. Bindings: 0 uniform, 1 W, 2 G (read_write), 3 q.

struct ContractiveParams {
  count: u32,       // elements (rows for row_sum_sq)
  cols: u32,        // row length of W
  rowsPerGrid: u32, // workgroups along x × workgroup size, for 2-D dispatch
  offW: u32,
  offOut: u32,      // offset of out (row_sum_sq) or G (scale_rows_add)
  offQ: u32,
  coef: f32,        // scale_rows_add: 2λ_c
  pad0: u32,
}
@group(0) @binding(0) var<uniform> xp: ContractiveParams;

fn flat_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * xp.rowsPerGrid; }

#if ${ROW_SUM_SQ}
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn row_sum_sq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = flat_index(gid);
  if (j >= xp.count) { return; }
  let base = xp.offW + j * xp.cols;
  var s = 0.0;
  for (var k = 0u; k < xp.cols; k++) { let w = W[base + k]; s += w * w; }
  out[xp.offOut + j] = s;
}
#endif

#if ${SLOPE_SQ}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn slope_sq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= xp.count) { return; }
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
  if (i >= xp.count) { return; }
  let j = i / xp.cols;
  G[xp.offOut + i] += xp.coef * q[xp.offQ + j] * W[xp.offW + i];
}
#endif
