// gather.wgsl — a mini-batch: dst row r ← src row order[start + r], for r < rows.
// Bindings: 0 uniform GatherParams, 1 src (all examples, m × cols), 2 order
//   (u32 permutation of 0 … m−1), 3 dst (rows × cols).
// Dispatch: ceil(rows·cols / 256), 2-D when large.

struct GatherParams { rows: u32, cols: u32, start: u32, rowsPerGrid: u32 }
@group(0) @binding(0) var<uniform> gp: GatherParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * gp.rowsPerGrid;
  if (i >= gp.rows * gp.cols) { return; }
  let r = i / gp.cols;
  let c = i - r * gp.cols;
  dst[i] = src[order[gp.start + r] * gp.cols + c];
}
