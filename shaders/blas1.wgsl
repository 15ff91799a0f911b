// blas1.wgsl — vector operations over flat f32 vectors (θ, ∇θ, optimizer state),
// so optimizers run on the GPU. Dot products and norms use reduce.wgsl (MAP 4, 1).
//
// OP (template value): 0 axpy y ← a·x + y; 1 scale y ← a·y; 2 copy y ← x;
//   3 fill y ← a; 4 axpby y ← a·x + b·y.
// Bindings: 0 uniform VecParams, 1 x (OP 0, 2, 4), 2 y (read_write).
// Dispatch: ceil(count / 256) workgroups, 2-D when large (rowsPerGrid = groups.x · 256).

struct VecParams { count: u32, offX: u32, offY: u32, rowsPerGrid: u32, a: f32, b: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> vp: VecParams;
#if ${HAS_X}
@group(0) @binding(1) var<storage, read> x: array<f32>;
#endif
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x + gid.y * vp.rowsPerGrid;
  if (k >= vp.count) { return; }
  let iy = vp.offY + k;
  switch ${OP}u {
#if ${HAS_X}
    case 0u: { y[iy] = vp.a * x[vp.offX + k] + y[iy]; }
    case 2u: { y[iy] = x[vp.offX + k]; }
    case 4u: { y[iy] = vp.a * x[vp.offX + k] + vp.b * y[iy]; }
#endif
    case 1u: { y[iy] = vp.a * y[iy]; }
    default: { y[iy] = vp.a; }
  }
}
