// unpack.wgsl — halves to f32: dst[i] = element offset + i of src for i < count,
// where src holds halves two per u32 in pack2x16float layout (element 2k in the low
// 16 bits of word k, 2k + 1 in the high) and element e is unpack2x16float(src[e / 2])[e % 2]
// (core WGSL: no shader-f16 feature). An f16 data set's chunk is unpacked this way
// into an f32 scratch buffer before the GEMMs read it (full-batch evaluations);
// `offset` (elements, any parity) picks one evaluation chunk inside a data chunk.
// Bindings: 0 uniform UnpackParams, 1 src (u32), 2 dst (f32, count).
// Dispatch: ceil(count / 256), 2-D when large.

struct UnpackParams { count: u32, offset: u32, rowsPerGrid: u32, pad0: u32 }
@group(0) @binding(0) var<uniform> up: UnpackParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * up.rowsPerGrid;
  if (i >= up.count) { return; }
  let e = up.offset + i;
  let v = unpack2x16float(src[e >> 1u]);
  dst[i] = select(v.x, v.y, (e & 1u) == 1u);
}
