// blas1.wgsl — vector operations over flat f32 vectors (θ, ∇θ, optimizer state),
// so optimizers run on the GPU. Dot products and norms use reduce.wgsl (MAP_DOT);
// an optimizer's batch of dot products, dots.wgsl.
//
// The scalars of each operation come from `coef` (8 f32 per slot, written once
// per submit), so a dispatch's uniform and bind group never change and are
// built once; the step's learning rate etc. change by rewriting `coef`.
// OP (template value, an OP_* constant from shaders/ids.json), with a = coef[8·slot], b = coef[8·slot + 1]:
//   OP_AXPY y ← a·x + y; OP_SCALE y ← a·y; OP_COPY y ← x; OP_FILL y ← a;
//   OP_AXPBY y ← a·x + b·y;
//   OP_ADAM (x = g, y = θ, m, v; coef: lr, β1, β2, ε, 1−β1ᵗ, 1−β2ᵗ):
//     m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; θ ← θ − lr (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε).
// Bindings: 0 uniform VecParams, 1 x (axpy, copy, axpby, adam), 2 y (read_write), 3 coef,
//   4 m, 5 v (adam). Dispatch: ceil(count / 256), 2-D when large.

struct VecParams { count: u32, offX: u32, offY: u32, rowsPerGrid: u32, slot: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> vp: VecParams;
#if ${HAS_X}
@group(0) @binding(1) var<storage, read> x: array<f32>;
#endif
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> coef: array<f32>;
#if ${ADAM}
@group(0) @binding(4) var<storage, read_write> m1: array<f32>;
@group(0) @binding(5) var<storage, read_write> m2: array<f32>;
#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x + gid.y * vp.rowsPerGrid;
  if (k >= vp.count) { return; }
  let iy = vp.offY + k;
  let c = vp.slot * 8u;
  let a = coef[c];
  let b = coef[c + 1u];
#if ${ADAM}
  let g = x[vp.offX + k];
  let beta1 = coef[c + 1u];
  let beta2 = coef[c + 2u];
  let m = beta1 * m1[k] + (1.0 - beta1) * g;
  let v = beta2 * m2[k] + (1.0 - beta2) * g * g;
  m1[k] = m;
  m2[k] = v;
  y[iy] -= a * (m / coef[c + 4u]) / (sqrt(v / coef[c + 5u]) + coef[c + 3u]);
#else
  switch ${OP}u {
#if ${HAS_X}
    case OP_AXPY: { y[iy] = a * x[vp.offX + k] + y[iy]; }
    case OP_COPY: { y[iy] = x[vp.offX + k]; }
    case OP_AXPBY: { y[iy] = a * x[vp.offX + k] + b * y[iy]; }
#endif
    case OP_SCALE: { y[iy] = a * y[iy]; }
    default: { y[iy] = a; }
  }
#endif
}
