// ksparse.wgsl — the k-sparse autoencoder's selection (seed 004; Makhzani & Frey).
// One entry point per template flag; exactly one of TOPK_MASK, MASK_MULTIPLY is true.
// Dispatch: ceil(count / 256) workgroups of 256 (2-D when large).
//
// topk_mask — mask[i·n + j] = 1 if rank(i, j) < k else 0, where
//   rank = #{j′ : a_j′ > a_j or (a_j′ = a_j and j′ < j)} in row i (keep the k
//   largest hidden units, ties to the lower index).
//   k = kState[kp.kAt], read at run time, so an annealed k (src/ksparse-anneal.ts)
//   changes by one queue.writeBuffer and the same bind group.
//   Bindings: 0 uniform KSparseParams, 1 A (rows × n), 2 mask (read_write), 3 kState (u32). O(n) per element.
// mask_multiply — A[i] ← A[i]·mask[i]. Bindings: 0 uniform, 1 A (read_write), 2 mask.

struct KSparseParams {
  count: u32,       // rows · n
  n: u32,           // units per row
  kAt: u32,         // topk_mask: the index of k (units kept per row) in kState
  rowsPerGrid: u32, // workgroups along x × 256, for 2-D dispatch
}
@group(0) @binding(0) var<uniform> kp: KSparseParams;

fn flat_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * kp.rowsPerGrid; }

#if ${TOPK_MASK}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read> kState: array<u32>;

@compute @workgroup_size(256)
fn topk_mask(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= kp.count) { return; }
  let n = kp.n;
  let row = i / n;
  let j = i - row * n;
  let base = row * n;
  let a = A[i];
  var rank = 0u;
  for (var t = 0u; t < n; t++) {
    let b = A[base + t];
    if (b > a || (b == a && t < j)) { rank++; }
  }
  mask[i] = select(0.0, 1.0, rank < kState[kp.kAt]);
}
#endif

#if ${MASK_MULTIPLY}
@group(0) @binding(1) var<storage, read_write> A: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;

@compute @workgroup_size(256)
fn mask_multiply(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= kp.count) { return; }
  A[i] = A[i] * mask[i];
}
#endif
