// dots.wgsl — many dot products xᵢᵀyᵢ over `count` elements in few dispatches
// (GpuVectorOps.recordDots: an optimizer's batched dots), bitwise the same as one
// reduce.wgsl sum (MAP_DOT: sum_partial, then sum_final) per pair.
//
// dots_partial (stage 1, one dispatch per group of pairs): up to 15 vectors
//   v0 … v14 are bound (bindings cannot be indexed at run time); pair j of the
//   group is (vector a, vector b, output row r) = pairs[j]. Invocation t < T
//   walks k = t, t + T, t + 2T, … (sum_partial's grid stride and T, so that the
//   same elements meet in the same order), loads each bound vector once per k
//   and adds x_a[k]·x_b[k] to pair j's register accumulator for every pair; then
//   partials[r·T + t] = acc_j. A vector may be in several pairs and on both
//   sides of one (xᵀx).
//   Template values: V1 … V14 (vector j is bound; v0 always is), PAIRS (the
//   accumulators and pair slots declared: the most pairs per dispatch).
//   Bindings: 0 uniform DotsParams, 1 partials (read_write, rows·T f32), 2 + j vector j.
//   Dispatch: ceil(T / 64).
// dots_final (FINAL, stage 2, ONE dispatch for all pairs): workgroup r of 64
//   reduces partials row r exactly as sum_final does (lane_sum.wgsl) and adds the total into
//   dots[r] (slots are zeroed before, as for sum_final's scalars).
//   Bindings: 0 uniform FinalParams, 1 partials, 2 dots (read_write). Dispatch: rows.

#if ${FINAL}
struct FinalParams { rows: u32, threads: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> fp: FinalParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> dots: array<f32>;

@compute @workgroup_size(64)
fn dots_final(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.x;
  let total = lane_sum(row * fp.threads, fp.threads, lid.x); // lane_sum.wgsl
  if (lid.x == 0u) { dots[row] += total; }
}
#else
// off[j / 4][j % 4]: vector j's element offset. pairs[j] = (a, b, row, 0).
struct DotsParams { count: u32, threads: u32, npairs: u32, pad0: u32, off: array<vec4<u32>, 4>, pairs: array<vec4<u32>, ${PAIRS}> }
@group(0) @binding(0) var<uniform> dp: DotsParams;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
// v0 … v14: vector_inputs.wgsl (rendered with this file).

// No workgroup memory and no barriers (as sum_partial): software adapters run those slowly.
@compute @workgroup_size(64)
fn dots_partial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= dp.threads) { return; }
  let o0 = dp.off[0];
  let o1 = dp.off[1];
  let o2 = dp.off[2];
  let o3 = dp.off[3];
  var acc: array<f32, ${PAIRS}>;
  var x: array<f32, 16>;
  for (var k = t; k < dp.count; k += dp.threads) {
    x[0] = v0[o0.x + k];
#if ${V1}
    x[1] = v1[o0.y + k];
#endif
#if ${V2}
    x[2] = v2[o0.z + k];
#endif
#if ${V3}
    x[3] = v3[o0.w + k];
#endif
#if ${V4}
    x[4] = v4[o1.x + k];
#endif
#if ${V5}
    x[5] = v5[o1.y + k];
#endif
#if ${V6}
    x[6] = v6[o1.z + k];
#endif
#if ${V7}
    x[7] = v7[o1.w + k];
#endif
#if ${V8}
    x[8] = v8[o2.x + k];
#endif
#if ${V9}
    x[9] = v9[o2.y + k];
#endif
#if ${V10}
    x[10] = v10[o2.z + k];
#endif
#if ${V11}
    x[11] = v11[o2.w + k];
#endif
#if ${V12}
    x[12] = v12[o3.x + k];
#endif
#if ${V13}
    x[13] = v13[o3.y + k];
#endif
#if ${V14}
    x[14] = v14[o3.z + k];
#endif
    // s ← s + x_a·x_b: sum_partial's `s += map_at(k)` with MAP_DOT.
    for (var j = 0u; j < dp.npairs; j++) {
      let p = dp.pairs[j];
      acc[j] += x[p.x] * x[p.y];
    }
  }
  for (var j = 0u; j < dp.npairs; j++) {
    partials[dp.pairs[j].z * dp.threads + t] = acc[j];
  }
}
#endif
