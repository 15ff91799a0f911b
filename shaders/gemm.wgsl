// gemm.wgsl — C = f(α·op(A)·op(B) + β·C + γ·E + bias), all row-major f32.
//
// op(A) is M × K: A stored M × K, or K × M when TRANS_A (read transposed).
// op(B) is K × N: B stored K × N, or N × K when TRANS_B.
// The three products of backprop, with examples as rows (m × n matrices):
//   forward   Z = A_prev · Wᵀ + b   (TRANS_B, bias, activation epilogue)
//   ∇W        = (1/m) δᵀ · A_prev + λW   (TRANS_A, α = 1/m, γ = λ, E = W)
//   backprop  G = δ · W                    (no transpose)
// Offsets (in elements) let W, b, ∇W live inside the flat θ and ∇θ buffers.
//
// Bindings: 0 uniform GemmParams, 1 A, 2 B, 3 C (read_write), 4 bias (BIAS),
//   5 E (ADDEND), 6 Zout (STORE_Z: the pre-activation, for f′ later).
// Variants (template values):
//   VARIANT 0 "regblock": no workgroup memory, no barriers; each invocation
//     computes a TM × TN block straight from global memory. Fast on software
//     adapters (SwiftShader), where barriers are expensive.
//   VARIANT 1 "tiled": 16 × 16 invocations cooperatively stage 64 × BK tiles of
//     A and B in workgroup memory (the classic GPU kernel), 4 × 4 outputs each.
// Dispatch: (ceil(N / (WG_X·TN)), ceil(M / (WG_Y·TM))) workgroups.

// GemmParams p, bias, E, Zout: gemm_common.wgsl; C and epilogue(): gemm_epilogue.wgsl.
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

const TM: u32 = ${TM}u;
const TN: u32 = ${TN}u;
const WG_X: u32 = ${WG_X}u;
const WG_Y: u32 = ${WG_Y}u;

fn a_at(i: u32, k: u32) -> f32 {
#if ${TRANS_A}
  return A[p.offA + k * p.M + i];
#else
  return A[p.offA + i * p.K + k];
#endif
}

fn b_at(k: u32, j: u32) -> f32 {
#if ${TRANS_B}
  return B[p.offB + j * p.K + k];
#else
  return B[p.offB + k * p.N + j];
#endif
}

#if ${UNROLLED}
// TM × 4 outputs per invocation (TM = 4 or 8) in vec4 accumulators: no private
// arrays, so nothing is indexed dynamically (SwiftShader keeps these in registers).
@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col0 = gid.x * 4u;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let last = p.M - 1u;
  let r1 = min(row0 + 1u, last); let r2 = min(row0 + 2u, last); let r3 = min(row0 + 3u, last);
  let c1 = min(col0 + 1u, p.N - 1u); let c2 = min(col0 + 2u, p.N - 1u); let c3 = min(col0 + 3u, p.N - 1u);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
#if ${TM8}
  let r4 = min(row0 + 4u, last); let r5 = min(row0 + 5u, last); let r6 = min(row0 + 6u, last); let r7 = min(row0 + 7u, last);
  var acc4 = vec4<f32>(0.0); var acc5 = vec4<f32>(0.0); var acc6 = vec4<f32>(0.0); var acc7 = vec4<f32>(0.0);
#endif
  for (var k = 0u; k < p.K; k++) {
    let b = vec4<f32>(b_at(k, col0), b_at(k, c1), b_at(k, c2), b_at(k, c3));
    acc0 += a_at(row0, k) * b;
    acc1 += a_at(r1, k) * b;
    acc2 += a_at(r2, k) * b;
    acc3 += a_at(r3, k) * b;
#if ${TM8}
    acc4 += a_at(r4, k) * b;
    acc5 += a_at(r5, k) * b;
    acc6 += a_at(r6, k) * b;
    acc7 += a_at(r7, k) * b;
#endif
  }
  store_row(row0, col0, acc0);
  if (row0 + 1u < p.M) { store_row(row0 + 1u, col0, acc1); }
  if (row0 + 2u < p.M) { store_row(row0 + 2u, col0, acc2); }
  if (row0 + 3u < p.M) { store_row(row0 + 3u, col0, acc3); }
#if ${TM8}
  if (row0 + 4u < p.M) { store_row(row0 + 4u, col0, acc4); }
  if (row0 + 5u < p.M) { store_row(row0 + 5u, col0, acc5); }
  if (row0 + 6u < p.M) { store_row(row0 + 6u, col0, acc6); }
  if (row0 + 7u < p.M) { store_row(row0 + 7u, col0, acc7); }
#endif
}

fn store_row(i: u32, j0: u32, v: vec4<f32>) {
  epilogue(i, j0, v.x);
  if (j0 + 1u < p.N) { epilogue(i, j0 + 1u, v.y); }
  if (j0 + 2u < p.N) { epilogue(i, j0 + 2u, v.z); }
  if (j0 + 3u < p.N) { epilogue(i, j0 + 3u, v.w); }
}
#elif ${TILED}
const BK: u32 = 16u;
const TILE_M: u32 = WG_Y * TM;
const TILE_N: u32 = WG_X * TN;
var<workgroup> As: array<array<f32, TILE_M>, BK>;
var<workgroup> Bs: array<array<f32, TILE_N>, BK>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  let t = lid.y * WG_X + lid.x;
  let threads = WG_X * WG_Y;
  var acc: array<array<f32, TN>, TM>;
  let tiles = (p.K + BK - 1u) / BK;
  for (var kt = 0u; kt < tiles; kt++) {
    let k0 = kt * BK;
    // Stage A's tile (TILE_M × BK) and B's (BK × TILE_N); zero outside the matrix.
    for (var e = t; e < TILE_M * BK; e += threads) {
#if ${TRANS_A}
      let mm = e % TILE_M; let kk = e / TILE_M;   // consecutive invocations read consecutive i
#else
      let kk = e % BK; let mm = e / BK;           // consecutive invocations read consecutive k
#endif
      let i = row0 + mm; let k = k0 + kk;
      As[kk][mm] = select(0.0, a_at(min(i, p.M - 1u), min(k, p.K - 1u)), i < p.M && k < p.K);
    }
    for (var e = t; e < TILE_N * BK; e += threads) {
#if ${TRANS_B}
      let kk = e % BK; let nn = e / BK;
#else
      let nn = e % TILE_N; let kk = e / TILE_N;
#endif
      let j = col0 + nn; let k = k0 + kk;
      Bs[kk][nn] = select(0.0, b_at(min(k, p.K - 1u), min(j, p.N - 1u)), j < p.N && k < p.K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var bv: array<f32, TN>;
      for (var c = 0u; c < TN; c++) { bv[c] = Bs[kk][lid.x * TN + c]; }
      for (var r = 0u; r < TM; r++) {
        let av = As[kk][lid.y * TM + r];
        for (var c = 0u; c < TN; c++) { acc[r][c] += av * bv[c]; }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < TM; r++) {
    let i = row0 + lid.y * TM + r;
    for (var c = 0u; c < TN; c++) {
      let j = col0 + lid.x * TN + c;
      if (i < p.M && j < p.N) { epilogue(i, j, acc[r][c]); }
    }
  }
}
#else
@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  if (row0 >= p.M || col0 >= p.N) { return; }
  // Out-of-range rows/columns read a clamped (valid) element and are never stored.
  var rows: array<u32, TM>;
  var cols: array<u32, TN>;
  for (var r = 0u; r < TM; r++) { rows[r] = min(row0 + r, p.M - 1u); }
  for (var c = 0u; c < TN; c++) { cols[c] = min(col0 + c, p.N - 1u); }
  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < p.K; k++) {
    var bv: array<f32, TN>;
    for (var c = 0u; c < TN; c++) { bv[c] = b_at(k, cols[c]); }
    for (var r = 0u; r < TM; r++) {
      let av = a_at(rows[r], k);
      for (var c = 0u; c < TN; c++) { acc[r][c] += av * bv[c]; }
    }
  }
  for (var r = 0u; r < TM; r++) {
    for (var c = 0u; c < TN; c++) {
      if (row0 + r < p.M && col0 + c < p.N) { epilogue(row0 + r, col0 + c, acc[r][c]); }
    }
  }
}
#endif
