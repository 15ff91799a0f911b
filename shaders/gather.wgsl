// gather.wgsl — a mini-batch from one chunk of the examples: for r < rows, with
// i = order[start + r] (a global example index), dst row r ← src row i − lo when
// lo ≤ i < lo + count; other rows are left alone (another chunk's dispatch writes
// them). One chunk holding every example (lo = 0, count = m) is the plain gather.
// PACKED (an f16 data set, DatasetOptions.dataPrecision): src holds halves two per
// u32 (pack2x16float layout: element 2k low, 2k + 1 high); element e is read as
// unpack2x16float(src[e / 2])[e % 2] (core WGSL, no shader-f16) and dst stays f32.
// Bindings: 0 uniform GatherParams, 1 src (this chunk's examples, count × cols),
//   2 order (u32 permutation of 0 … m−1), 3 dst (rows × cols).
// Dispatch: ceil(rows·cols / 256), 2-D when large.

struct GatherParams { rows: u32, cols: u32, start: u32, rowsPerGrid: u32, lo: u32, count: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> gp: GatherParams;
#if ${PACKED}
@group(0) @binding(1) var<storage, read> src: array<u32>;
fn source(e: u32) -> f32 {
  let v = unpack2x16float(src[e >> 1u]);
  return select(v.x, v.y, (e & 1u) == 1u);
}
#else
@group(0) @binding(1) var<storage, read> src: array<f32>;
fn source(e: u32) -> f32 { return src[e]; }
#endif
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
  dst[i] = source(local * gp.cols + c);
}
