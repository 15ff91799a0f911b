// loss.wgsl — the output layer's δ and the softmax.
//
// output_delta: δ(L) = −(y − a) • f′(z) for squared error (CS294A eq. for δ(nl));
//   δ(L) = a − y for sigmoid + cross-entropy and softmax + softmax-cross-entropy,
//   where f′ cancels against the loss's derivative.
//   Bindings: 0 uniform DeltaParams, 1 A (m × n), 2 Y (targets, m × n at offY),
//   3 D (δ out), 4 Z (only when f′ needs z). Dispatch: ceil(m·n / 256), 2-D when large.
//
// softmax_rows: A = softmax(Z) row by row, stably (subtract the row max), and
//   rowLoss[i] = Σₖ yₖ (log Σ exp z − zₖ) = −Σₖ yₖ log softmax(z)ₖ.
//   Bindings: 0 uniform DeltaParams, 1 Z, 2 Y, 3 A (out), 4 rowLoss (out).
//   One invocation per example. Dispatch: ceil(m / 64).
//   (Template value SQUARED selects the squared-error δ.)

//
// output_delta_bias (BIAS_SUM): the same δ, one invocation per column over every
//   row, which also writes ∇b = bscale · Σᵢ δ + bbeta · ∇b into gradB (binding 5)
//   at offBias (rows summed in order, as colsum_direct). Dispatch: ceil(n / 64).

struct DeltaParams { count: u32, n: u32, offY: u32, rowsPerGrid: u32, bscale: f32, bbeta: f32, offBias: u32, pad0: u32 }
@group(0) @binding(0) var<uniform> dp: DeltaParams;

#if ${SOFTMAX}
@group(0) @binding(1) var<storage, read> Zin: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> Aout: array<f32>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;

@compute @workgroup_size(64)
fn softmax_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * dp.rowsPerGrid;
  if (i >= dp.count) { return; }
  let base = i * dp.n;
  var mx = Zin[base];
  for (var k = 1u; k < dp.n; k++) { mx = max(mx, Zin[base + k]); }
  var s = 0.0;
  for (var k = 0u; k < dp.n; k++) { s += exp(Zin[base + k] - mx); }
  // p = exp(z − max) / s and −log p = (max − z) + log s: no subtraction of two
  // large numbers, so logits around 1000 keep full f32 precision.
  let logS = log(s);
  var loss = 0.0;
  for (var k = 0u; k < dp.n; k++) {
    let t = Zin[base + k] - mx;
    Aout[base + k] = exp(t) / s;
    loss += Y[dp.offY + base + k] * (logS - t);
  }
  rowLoss[i] = loss;
}
#else
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> D: array<f32>;
#if ${NEEDS_Z}
@group(0) @binding(4) var<storage, read> Z: array<f32>;
#endif

@compute @workgroup_size(256)
fn output_delta(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * dp.rowsPerGrid;
  if (i >= dp.count) { return; }
  output_delta_at(i);
}

#if ${BIAS_SUM}
@group(0) @binding(5) var<storage, read_write> gradB: array<f32>;

@compute @workgroup_size(64)
fn output_delta_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= dp.n) { return; }
  var s = 0.0;
  for (var i = j; i < dp.count; i += dp.n) { s += output_delta_at(i); }
  let o = dp.offBias + j;
  var v = dp.bscale * s;
  if (dp.bbeta != 0.0) { v += dp.bbeta * gradB[o]; } // never read an output that may be uninitialized
  gradB[o] = v;
}
#endif

/** δ at element i (written to D[i] and returned). */
fn output_delta_at(i: u32) -> f32 {
  let a = A[i];
  let d = a - Y[dp.offY + i];
#if ${SQUARED}
#if ${NEEDS_Z}
  let z = Z[i];
#else
  let z = a;
#endif
  let v = d * act_df(z, a);
#else
  let v = d;
#endif
  D[i] = v;
  return v;
}
#endif
