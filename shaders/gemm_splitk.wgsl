// gemm_splitk.wgsl — split-K's second pass (the first is gemm_tiled.wgsl with SPLIT_K):
//   C[i, j] = epilogue(Σ_s P[s·M·N + i·N + j]), the p.split slices added in order, so
//   the result does not depend on scheduling. The epilogue is gemm_epilogue.wgsl's
//   (α, β·C, γ·E, bias, activation, Zout), so the two passes give what one GEMM does.
// Needs gemm_common.wgsl, gemm_epilogue.wgsl and activation.wgsl.
// Bindings: 0 uniform GemmParams (split = slices), 1 P (the first pass's S × M × N
//   scratch), 3 C (read_write), 4 bias, 5 E, 6 Zout.
// Dispatch: ceil(M·N / 256) workgroups of 256 (2-D when large: x · 256 outputs per row of the grid).

@group(0) @binding(1) var<storage, read> P: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = gid.y * groups.x * 256u + gid.x;
  let MN = p.M * p.N;
  if (idx >= MN) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.split; s++) { acc += P[s * MN + idx]; }
  epilogue(idx / p.N, idx % p.N, acc);
}
