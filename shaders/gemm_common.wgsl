// gemm_common.wgsl — what the four GEMM shaders (gemm, gemm_vec4, gemm_tiled,
// gemm_subgroup) share: the uniform GemmParams at binding 0 and the epilogue's
// extra inputs, 4 bias (BIAS), 5 E (ADDEND), 6 Zout (STORE_Z: the pre-activation).
// Each kernel file declares its own A, B (scalar or vec4 loads) and, with
// gemm_epilogue.wgsl or itself (gemm_vec4), C. renderShader's file list puts this
// file before the kernel file, or just after gemm_subgroup.wgsl (whose
// `enable subgroups;` must open the module).
// Template values: BIAS, ADDEND, STORE_Z.

struct GemmParams {
  M: u32, N: u32, K: u32,
  offA: u32, offB: u32, offC: u32, offE: u32, offBias: u32,
  alpha: f32, beta: f32, gamma: f32,
  // Split-K (gemm_tiled.wgsl with SPLIT_K, gemm_splitk.wgsl): k-tiles per slice in the
  // first pass, slices in the second; 0 in every other GEMM.
  split: u32,
}

@group(0) @binding(0) var<uniform> p: GemmParams;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif
#if ${ADDEND}
@group(0) @binding(5) var<storage, read> E: array<f32>;
#endif
#if ${STORE_Z}
@group(0) @binding(6) var<storage, read_write> Zout: array<f32>;
#endif
