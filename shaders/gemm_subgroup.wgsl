enable subgroups;
// gemm_subgroup.wgsl — C = f(α·op(A)·op(B) + β·C + γ·E + bias) with subgroup shuffles
// in place of workgroup memory: the same uniform, bindings and epilogue as gemm.wgsl.
// (`enable subgroups` must open the module: this file goes before activation.wgsl.)
//
// A workgroup is one row of 64 invocations sharing 8 output rows; each invocation
// owns 4 columns (8 × 4 outputs in 8 vec4 registers). For each chunk of S = subgroup
// size k values, lane l loads op(A)[row r][k0 + l] for its 8 rows (neighbouring lanes,
// neighbouring addresses when A is not transposed); then for j < S every lane takes
// lane j's values with subgroupShuffle and multiplies them by its own B row k0 + j.
// Each op(A) element is loaded from memory once per subgroup instead of once per
// invocation, and no barrier is needed. Every lane runs the whole loop (shuffles need
// all lanes); lanes past the matrix read clamped elements and store nothing.
//
// Template values: TRANS_A, TRANS_B, ACCUMULATE, ADDEND, BIAS, STORE_Z (as gemm.wgsl).
// Needs the device feature `subgroups`. Dispatch: (ceil(N / 256), ceil(M / 8)) workgroups of 64.

// GemmParams p, bias, E, Zout: gemm_common.wgsl; C and epilogue(): gemm_epilogue.wgsl.
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

const TM: u32 = 8u;

/** op(A)[i][k], 0 outside the matrix. */
fn a_at(i: u32, k: u32) -> f32 {
  if (i >= p.M || k >= p.K) { return 0.0; }
#if ${TRANS_A}
  return A[p.offA + k * p.M + i];
#else
  return A[p.offA + i * p.K + k];
#endif
}

/** op(B)[k][j], 0 outside the matrix. */
fn b_at(k: u32, j: u32) -> f32 {
  if (k >= p.K || j >= p.N) { return 0.0; }
#if ${TRANS_B}
  return B[p.offB + j * p.K + k];
#else
  return B[p.offB + k * p.N + j];
#endif
}

fn store(i: u32, j: u32, acc: f32) {
  if (i >= p.M || j >= p.N) { return; }
  epilogue(i, j, acc);
}

@compute @workgroup_size(64, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sgSize: u32) {
  let row0 = wid.y * TM;
  let col0 = wid.x * 256u + li * 4u;
  var acc: array<vec4<f32>, 8>;
  for (var k0 = 0u; k0 < p.K; k0 += sgSize) {
    // This lane's op(A) values at k0 + lane, one per row.
    var mine: array<f32, 8>;
    for (var r = 0u; r < TM; r++) { mine[r] = a_at(row0 + r, k0 + lane); }
    let steps = min(sgSize, p.K - k0);
    for (var j = 0u; j < steps; j++) {
      let k = k0 + j;
      let b = vec4<f32>(b_at(k, col0), b_at(k, col0 + 1u), b_at(k, col0 + 2u), b_at(k, col0 + 3u));
      for (var r = 0u; r < TM; r++) { acc[r] += subgroupShuffle(mine[r], j) * b; }
    }
  }
  for (var r = 0u; r < TM; r++) {
    let i = row0 + r;
    store(i, col0, acc[r].x);
    store(i, col0 + 1u, acc[r].y);
    store(i, col0 + 2u, acc[r].z);
    store(i, col0 + 3u, acc[r].w);
  }
}
