// gemm_epilogue.wgsl — the scalar GEMM epilogue of gemm, gemm_tiled and gemm_subgroup
// (gemm_vec4 has its own, four columns at a time): binding 3 C (array<f32>,
// read_write) and epilogue(i, j, acc), which writes
//   C[i, j] = f(α·acc + β·C[i, j] + γ·E[i, j] + bias[j])  and, with STORE_Z, Zout[i, j] = its argument.
// No bounds check: the callers keep i < M, j < N. Needs gemm_common.wgsl and activation.wgsl (act_f).
// Template values: ACCUMULATE, ADDEND, BIAS, STORE_Z.

@group(0) @binding(3) var<storage, read_write> C: array<f32>;

fn epilogue(i: u32, j: u32, acc: f32) {
  let idx = p.offC + i * p.N + j;
  var v = p.alpha * acc;
#if ${ACCUMULATE}
  v += p.beta * C[idx];
#endif
#if ${ADDEND}
  v += p.gamma * E[p.offE + i * p.N + j];
#endif
#if ${BIAS}
  v += bias[p.offBias + j];
#endif
#if ${STORE_Z}
  Zout[i * p.N + j] = v;
#endif
  C[idx] = act_f(v);
}
