// lane_sum.wgsl — the one order in which every stage-2 sum adds its partials
// (reduce.wgsl's sum_final, dots.wgsl's dots_final, sums.wgsl's sums_final), so a
// batched dot or part of J is bitwise the per-term sum. Needs a `partials` binding
// of f32 in the module, and all 64 lanes of a workgroup of 64 to call it in
// uniform control flow (it has barriers).

var<workgroup> tree: array<f32, 64>;

/**
 * Σ partials[base + i], i < count: lane l adds i = l, l + 64, …, then a tree in
 * workgroup memory (6 barriers) combines the 64 lanes. The total is valid in lane 0.
 * Safe to call again in a loop: the first barrier waits until lane 0 has read the
 * previous total.
 */
fn lane_sum(base: u32, count: u32, lane: u32) -> f32 {
  var s = 0.0;
  for (var i = lane; i < count; i += 64u) { s += partials[base + i]; }
  workgroupBarrier();
  tree[lane] = s;
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (lane < stride) { tree[lane] += tree[lane + stride]; }
  }
  return tree[0];
}
