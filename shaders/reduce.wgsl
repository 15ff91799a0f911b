// reduce.wgsl — reductions.
//
// colsum: out[offOut + j] = scale · Σᵢ X[offIn + i·cols + j] (+ beta · out[…]).
//   Column sums of an m × n example-major matrix: ρ̂ⱼ = (1/m) Σᵢ aⱼ⁽ⁱ⁾ and
//   ∇b = (1/m) Σᵢ δ⁽ⁱ⁾. A 16 × 16 workgroup covers 16 columns; its 16 lanes per
//   column sum rows lane, lane+16, … and a tree in workgroup memory combines them.
//   Bindings: 0 uniform ColParams, 1 X, 2 out (read_write). Dispatch: ceil(n/16).
//
// sum_partial / sum_final: a scalar Σₖ map(x[k], y[k]) in two stages. Stage 1:
//   each of G workgroups (256 invocations) sums a grid-stride share and a tree
//   reduces it into partials[g]. Stage 2: one workgroup reduces the G partials
//   and adds scale · total into scalars[slot] (slots are zeroed per evaluation,
//   so chunks accumulate). MAP (template value): 0 x, 1 x², 2 |x|,
//   3 KL(ρ‖x) = ρ log(ρ/x) + (1−ρ) log((1−ρ)/(1−x)), 4 x·y, 5 ½(x−y)²,
//   6 binary cross-entropy from logits x = z and targets y: softplus(z) − y·z
//   (= −[y log σ(z) + (1−y) log(1−σ(z))]).
//   Bindings: 0 uniform SumParams, 1 x, 2 y (MAP ≥ 4), 3 partials, 4 scalars.

const WG: u32 = 256u;

#if ${COLSUM}
struct ColParams { rows: u32, cols: u32, offIn: u32, offOut: u32, scale: f32, beta: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> cp: ColParams;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> lanes: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn colsum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wid.x * 16u + lid.x;
  var s = 0.0;
  if (col < cp.cols) {
    for (var r = lid.y; r < cp.rows; r += 16u) { s += X[cp.offIn + r * cp.cols + col]; }
  }
  lanes[lid.y][lid.x] = s;
  for (var stride = 8u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (lid.y < stride) { lanes[lid.y][lid.x] += lanes[lid.y + stride][lid.x]; }
  }
  if (lid.y == 0u && col < cp.cols) {
    let o = cp.offOut + col;
    var v = cp.scale * lanes[0][lid.x];
    if (cp.beta != 0.0) { v += cp.beta * out[o]; } // never read an output that may be uninitialized
    out[o] = v;
  }
}
#endif

#if ${SUM}
struct SumParams { count: u32, offX: u32, offY: u32, slot: u32, groups: u32, scale: f32, rho: f32, pad0: u32 }
@group(0) @binding(0) var<uniform> sp: SumParams;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
var<workgroup> tree: array<f32, WG>;

fn tree_reduce(t: u32, v: f32) -> f32 {
  tree[t] = v;
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (t < stride) { tree[t] += tree[t + stride]; }
  }
  workgroupBarrier();
  return tree[0];
}

#if ${FINAL}
@group(0) @binding(4) var<storage, read_write> scalars: array<f32>;

@compute @workgroup_size(WG)
fn sum_final(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var g = lid.x; g < sp.groups; g += WG) { s += partials[g]; }
  let total = tree_reduce(lid.x, s);
  if (lid.x == 0u) { scalars[sp.slot] += sp.scale * total; }
}
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
#if ${TWO_INPUTS}
@group(0) @binding(2) var<storage, read> y: array<f32>;
#endif

fn map_at(k: u32) -> f32 {
  let v = x[sp.offX + k];
  switch ${MAP}u {
    case 1u: { return v * v; }
    case 2u: { return abs(v); }
    case 3u: { return sp.rho * log(sp.rho / v) + (1.0 - sp.rho) * log((1.0 - sp.rho) / (1.0 - v)); }
#if ${TWO_INPUTS}
    case 4u: { return v * y[sp.offY + k]; }
    case 5u: { let d = v - y[sp.offY + k]; return 0.5 * d * d; }
    case 6u: { return max(v, 0.0) + log(1.0 + exp(-abs(v))) - y[sp.offY + k] * v; }
#endif
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn sum_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var k = wid.x * WG + lid.x; k < sp.count; k += sp.groups * WG) { s += map_at(k); }
  let total = tree_reduce(lid.x, s);
  if (lid.x == 0u) { partials[wid.x] = total; }
}
#endif
#endif
