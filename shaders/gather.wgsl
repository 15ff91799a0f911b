// gather.wgsl — a mini-batch from one chunk of the examples: for r < rows, with
// i = order[start + r] (a global example index), dst row r ← src row i − lo when
// lo ≤ i < lo + count; other rows are left alone (another chunk's dispatch writes
// them). One chunk holding every example (lo = 0, count = m) is the plain gather.
// Bindings: 0 uniform GatherParams, 1 src (this chunk's examples, count × cols),
//   2 order (u32 permutation of 0 … m−1), 3 dst (rows × cols).
// Dispatch: ceil(rows·cols / 256), 2-D when large.

struct GatherParams { rows: u32, cols: u32, start: u32, rowsPerGrid: u32, lo: u32, count: u32, pad0: u32, pad1: u32 }
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
  let e = order[gp.start + r];
  // Unsigned: e < lo wraps to a large value and fails the test too.
  let local = e - gp.lo;
  if (local >= gp.count) { return; }
  dst[i] = src[local * gp.cols + c];
}
