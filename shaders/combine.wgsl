// combine.wgsl — one group of a linear combination of vectors (GpuVectorOps.combine,
// the L-BFGS direction d = Σⱼ cⱼ·vⱼ): over `count` elements,
//   dst ← Σ_{j < N} cⱼ·vⱼ           (first group: dst is not read)
//   dst ← dst + Σ_{j < N} cⱼ·vⱼ     (ACCUMULATE: later groups)
// summed as acc ← 0 (or dst); acc ← cⱼ·vⱼ + acc for j = 0, 1, …: the order and
// rounding of a chain of axpy (y ← a·x + y) and of the CPU reference.
// Template values: ACCUMULATE; V1 … V6 (vector j is bound, j < N; v0 always is);
// COEF_VEC4S (the coefficient buffer's size in vec4).
// cⱼ = coef[8·slot + j] (blas1.wgsl's slots), bound as a uniform so that every
// storage binding but dst goes to a vector: N ≤ maxStorageBuffersPerShaderStage − 1.
// Bindings: 0 uniform CombineParams, 1 dst (read_write), 2 coef (uniform), 3 + j vector j.
// Dispatch: ceil(count / 256), 2-D when large.

struct CombineParams { count: u32, rowsPerGrid: u32, slot: u32, offDst: u32, off: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> cp: CombineParams;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> coef: array<vec4<f32>, ${COEF_VEC4S}>;
@group(0) @binding(3) var<storage, read> v0: array<f32>;
#if ${V1}
@group(0) @binding(4) var<storage, read> v1: array<f32>;
#endif
#if ${V2}
@group(0) @binding(5) var<storage, read> v2: array<f32>;
#endif
#if ${V3}
@group(0) @binding(6) var<storage, read> v3: array<f32>;
#endif
#if ${V4}
@group(0) @binding(7) var<storage, read> v4: array<f32>;
#endif
#if ${V5}
@group(0) @binding(8) var<storage, read> v5: array<f32>;
#endif
#if ${V6}
@group(0) @binding(9) var<storage, read> v6: array<f32>;
#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x + gid.y * cp.rowsPerGrid;
  if (k >= cp.count) { return; }
  // c = (c₀ … c₃), (c₄ … c₇): a slot is 8 f32, two vec4.
  let c0 = coef[2u * cp.slot];
  let c1 = coef[2u * cp.slot + 1u];
  let o0 = cp.off[0];
  let o1 = cp.off[1];
  var acc = 0.0;
#if ${ACCUMULATE}
  acc = dst[cp.offDst + k];
#endif
  acc = c0.x * v0[o0.x + k] + acc;
#if ${V1}
  acc = c0.y * v1[o0.y + k] + acc;
#endif
#if ${V2}
  acc = c0.z * v2[o0.z + k] + acc;
#endif
#if ${V3}
  acc = c0.w * v3[o0.w + k] + acc;
#endif
#if ${V4}
  acc = c1.x * v4[o1.x + k] + acc;
#endif
#if ${V5}
  acc = c1.y * v5[o1.y + k] + acc;
#endif
#if ${V6}
  acc = c1.z * v6[o1.z + k] + acc;
#endif
  dst[cp.offDst + k] = acc;
}
