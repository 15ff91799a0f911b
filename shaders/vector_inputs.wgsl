// vector_inputs.wgsl — the input vectors of dots.wgsl and sums.wgsl (their stage 1):
// v0 at binding 2, vector j at binding 2 + j when template value Vj is true. A
// binding cannot be indexed at run time, so each is its own declaration.
// Template values: V1 … V14 (vectorDefines in kernels.ts).

@group(0) @binding(2) var<storage, read> v0: array<f32>;
#if ${V1}
@group(0) @binding(3) var<storage, read> v1: array<f32>;
#endif
#if ${V2}
@group(0) @binding(4) var<storage, read> v2: array<f32>;
#endif
#if ${V3}
@group(0) @binding(5) var<storage, read> v3: array<f32>;
#endif
#if ${V4}
@group(0) @binding(6) var<storage, read> v4: array<f32>;
#endif
#if ${V5}
@group(0) @binding(7) var<storage, read> v5: array<f32>;
#endif
#if ${V6}
@group(0) @binding(8) var<storage, read> v6: array<f32>;
#endif
#if ${V7}
@group(0) @binding(9) var<storage, read> v7: array<f32>;
#endif
#if ${V8}
@group(0) @binding(10) var<storage, read> v8: array<f32>;
#endif
#if ${V9}
@group(0) @binding(11) var<storage, read> v9: array<f32>;
#endif
#if ${V10}
@group(0) @binding(12) var<storage, read> v10: array<f32>;
#endif
#if ${V11}
@group(0) @binding(13) var<storage, read> v11: array<f32>;
#endif
#if ${V12}
@group(0) @binding(14) var<storage, read> v12: array<f32>;
#endif
#if ${V13}
@group(0) @binding(15) var<storage, read> v13: array<f32>;
#endif
#if ${V14}
@group(0) @binding(16) var<storage, read> v14: array<f32>;
#endif
