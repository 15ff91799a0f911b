// reduce.wgsl — reductions.
//
// colsum / colsum_final: out[offOut + j] = scale · Σᵢ X[offIn + i·cols + j] (+ beta · out[…]).
//   Column sums of an m × n example-major matrix: ρ̂ⱼ = (1/m) Σᵢ aⱼ⁽ⁱ⁾ and
//   ∇b = (1/m) Σᵢ δ⁽ⁱ⁾, in two barrier-free stages: the rows are cut into S strips,
//   invocation (j, s) sums strip s of column j into colPartials[s·n + j], then one
//   invocation per column adds its S partials.
//   Bindings: 0 uniform ColParams, 1 X, 2 out (read_write), 3 colPartials (S·n f32).
//   Dispatch: (ceil(n / 64), S), then ceil(n / 64).
// colsum_direct (DIRECT): the same sum in one pass, one invocation per column over
//   every row, for few rows (a mini-batch): one dispatch instead of two.
//   Bindings: 0 uniform ColParams, 1 X, 2 out. Dispatch: ceil(n / 64).
//
// sum_partial / sum_final: a scalar Σₖ map(x[k], y[k]) in two stages. Stage 1:
//   T ≤ 4096 invocations each sum a grid-stride share into partials[t]. Stage 2:
//   one workgroup of 64 reduces the T partials (lane_sum.wgsl: serially per lane, then a tree)
//   and adds scale · total into scalars[slot] (slots are zeroed per evaluation,
//   so chunks accumulate). MAP (template value, a MAP_* constant from shaders/ids.json):
//   MAP_IDENTITY x, MAP_SQUARE x², MAP_ABS |x|,
//   MAP_KL KL(ρ‖x) = ρ log(ρ/x) + (1−ρ) log((1−ρ)/(1−x)), MAP_DOT x·y (TS maps 'dot' and
//   'product'), MAP_HALF_SQ_DIFF ½(x−y)²,
//   MAP_BCE_LOGITS binary cross-entropy from logits x = z and targets y: softplus(z) − y·z
//   (= −[y log σ(z) + (1−y) log(1−σ(z))]).
//   Bindings: 0 uniform SumParams, 1 x, 2 y (two-input maps), 3 partials, 4 scalars.
//   Dispatch: ceil(T / 64) workgroups, then 1.

#if ${COLSUM}
struct ColParams { rows: u32, cols: u32, offIn: u32, offOut: u32, scale: f32, beta: f32, strips: u32, stripRows: u32 }
@group(0) @binding(0) var<uniform> cp: ColParams;

#if ${DIRECT}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn colsum_direct(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= cp.cols) { return; }
  var s = 0.0;
  for (var r = 0u; r < cp.rows; r++) { s += X[cp.offIn + r * cp.cols + col]; }
  let o = cp.offOut + col;
  var v = cp.scale * s;
  if (cp.beta != 0.0) { v += cp.beta * out[o]; } // never read an output that may be uninitialized
  out[o] = v;
}
#else
@group(0) @binding(3) var<storage, read_write> colPartials: array<f32>;

#if ${FINAL}
// Stage 2: one invocation per column adds its `strips` partial sums.
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn colsum_final(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= cp.cols) { return; }
  var s = 0.0;
  for (var t = 0u; t < cp.strips; t++) { s += colPartials[t * cp.cols + col]; }
  let o = cp.offOut + col;
  var v = cp.scale * s;
  if (cp.beta != 0.0) { v += cp.beta * out[o]; } // never read an output that may be uninitialized
  out[o] = v;
}
#else
// Stage 1: invocation (col, strip) sums rows strip·stripRows … of one column;
// neighbouring invocations read neighbouring columns. No barriers.
@group(0) @binding(1) var<storage, read> X: array<f32>;

@compute @workgroup_size(64)
fn colsum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let strip = gid.y;
  if (col >= cp.cols || strip >= cp.strips) { return; }
  let r0 = strip * cp.stripRows;
  let r1 = min(r0 + cp.stripRows, cp.rows);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += X[cp.offIn + r * cp.cols + col]; }
  colPartials[strip * cp.cols + col] = s;
}
#endif
#endif
#endif

#if ${SUM}
struct SumParams { count: u32, offX: u32, offY: u32, slot: u32, threads: u32, scale: f32, rho: f32, pad0: u32 }
@group(0) @binding(0) var<uniform> sp: SumParams;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

#if ${FINAL}
// Stage 2: one workgroup of 64 sums the partials (lane_sum.wgsl, rendered with it).
@group(0) @binding(4) var<storage, read_write> scalars: array<f32>;

@compute @workgroup_size(64)
fn sum_final(@builtin(local_invocation_id) lid: vec3<u32>) {
  let total = lane_sum(0u, sp.threads, lid.x);
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
    case MAP_SQUARE: { return v * v; }
    case MAP_ABS: { return abs(v); }
    case MAP_KL: { return sp.rho * log(sp.rho / v) + (1.0 - sp.rho) * log((1.0 - sp.rho) / (1.0 - v)); }
#if ${TWO_INPUTS}
    case MAP_DOT: { return v * y[sp.offY + k]; }
    case MAP_HALF_SQ_DIFF: { let d = v - y[sp.offY + k]; return 0.5 * d * d; }
    case MAP_BCE_LOGITS: { return max(v, 0.0) + log(1.0 + exp(-abs(v))) - y[sp.offY + k] * v; }
#endif
    default: { return v; }
  }
}

// Stage 1: `threads` invocations (at most SUM_PARTIALS), each summing a grid-stride
// share into its own partial — no workgroup memory and no barriers, which
// software adapters execute slowly.
@compute @workgroup_size(64)
fn sum_partial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= sp.threads) { return; }
  var s = 0.0;
  for (var k = t; k < sp.count; k += sp.threads) { s += map_at(k); }
  partials[t] = s;
}
#endif
#endif
