// gemm_vec4.wgsl — the vec4 GEMM variants: C = f(α·op(A)·op(B) + β·C + γ·E + bias), row-major f32,
// same uniform, bindings and epilogue as gemm.wgsl, with A, B and C read as vec4.
//
// Why: on SwiftShader every load whose address differs between invocations is a
// masked per-lane gather, and a private array indexed by a loop counter (gemm.wgsl's
// acc[r][c], bv[c], rows[r]) lives in memory, so each fma there costs gathers and
// scatters. Here nothing is indexed by a loop counter: the accumulators are named
// mat4x4 values (column r = 4 outputs of row 4g + r), each loaded vec4 feeds
// 4·TNV (or 4·TG) lanes of fmas, and row/column clamping is done once, before the k loop.
//
// Needs (the launcher checks, else it uses a scalar variant): N % 4 == 0; K % 4 == 0
// unless TRANS_A; M % 4 == 0 when TRANS_A; offA, offB, offC multiples of 4; not both
// TRANS_A and TRANS_B. Any M, N, K otherwise (edges are clamped on load, skipped on store).
//
// Template values: TRANS_A, TRANS_B, ACCUMULATE, ADDEND, BIAS, STORE_Z (as gemm.wgsl),
//   WG_X, WG_Y (workgroup), ROWS16 (16 rows per invocation, else 8),
//   COLS16 (16 columns per invocation, else 8). Needs activation.wgsl in front.
// Bindings: 0 uniform GemmParams, 1 A, 2 B (array<vec4<f32>>), 3 C (read_write,
//   array<vec4<f32>>), 4 bias, 5 E, 6 Zout (array<f32>, as gemm.wgsl).
// Dispatch: (ceil(N / (WG_X·TN)), ceil(M / (WG_Y·TM))) workgroups, TM/TN = 8 or 16.

// GemmParams p, bias, E, Zout: gemm_common.wgsl (C is vec4 here, with its own epilogue).
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;

#if ${ROWS16}
const TM: u32 = 16u;
#else
const TM: u32 = 8u;
#endif
#if ${COLS16}
const TNV: u32 = 4u;
#else
const TNV: u32 = 2u;
#endif
const IOTA = vec4<u32>(0u, 1u, 2u, 3u);

/** Output row i, vec4 column j4: the epilogue of gemm.wgsl's store(), four columns at a time. */
fn store4(i: u32, j4: u32, acc: vec4<f32>) {
  if (i >= p.M || j4 >= p.N / 4u) { return; }
  let idx = p.offC / 4u + i * (p.N / 4u) + j4;
  var v = p.alpha * acc;
#if ${ACCUMULATE}
  v += p.beta * C[idx];
#endif
#if ${ADDEND}
  let e = p.offE + i * p.N + j4 * 4u;
  v += p.gamma * vec4<f32>(E[e], E[e + 1u], E[e + 2u], E[e + 3u]);
#endif
#if ${BIAS}
  let b = p.offBias + j4 * 4u;
  v += vec4<f32>(bias[b], bias[b + 1u], bias[b + 2u], bias[b + 3u]);
#endif
#if ${STORE_Z}
  let z = i * p.N + j4 * 4u;
  Zout[z] = v.x;
  Zout[z + 1u] = v.y;
  Zout[z + 2u] = v.z;
  Zout[z + 3u] = v.w;
#endif
  C[idx] = vec4<f32>(act_f(v.x), act_f(v.y), act_f(v.z), act_f(v.w));
}

/** A 4 × 4 output block: column r is row i0 + r, vec4 column j4. */
fn store_block(i0: u32, j4: u32, c: mat4x4<f32>) {
  store4(i0, j4, c[0]);
  store4(i0 + 1u, j4, c[1]);
  store4(i0 + 2u, j4, c[2]);
  store4(i0 + 3u, j4, c[3]);
}

/** Four vec4 of A (or B) at element-vec4 offsets base + kk: one per matrix column. */
fn rows_a(base: vec4<u32>, kk: u32) -> mat4x4<f32> {
  return mat4x4<f32>(A[base.x + kk], A[base.y + kk], A[base.z + kk], A[base.w + kk]);
}
fn rows_b(base: vec4<u32>, kk: u32) -> mat4x4<f32> {
  return mat4x4<f32>(B[base.x + kk], B[base.y + kk], B[base.z + kk], B[base.w + kk]);
}

/** Column r = a[r]·b: the outer product that adds one k-step to a 4 × 4 block. */
fn outer4(b: vec4<f32>, a: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(b * a.x, b * a.y, b * a.z, b * a.w);
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let N4 = p.N / 4u;
  let row0 = gid.y * TM;
  let col4 = gid.x * TNV;
  if (row0 >= p.M || col4 >= N4) { return; }
  // cGV: rows row0 + 4G … + 3, vec4 column col4 + V.
  var c00 = mat4x4<f32>();
  var c01 = mat4x4<f32>();
  var c10 = mat4x4<f32>();
  var c11 = mat4x4<f32>();
#if ${COLS16}
  var c02 = mat4x4<f32>();
  var c03 = mat4x4<f32>();
  var c12 = mat4x4<f32>();
  var c13 = mat4x4<f32>();
#endif
#if ${ROWS16}
  var c20 = mat4x4<f32>();
  var c21 = mat4x4<f32>();
  var c30 = mat4x4<f32>();
  var c31 = mat4x4<f32>();
#if ${COLS16}
  var c22 = mat4x4<f32>();
  var c23 = mat4x4<f32>();
  var c32 = mat4x4<f32>();
  var c33 = mat4x4<f32>();
#endif
#endif

#if ${TRANS_A}
  // ∇W layout: A stored K × M, so rows row0 … of op(A) are consecutive vec4 of A's row k.
  let M4 = p.M / 4u;
  let ac = min(vec4<u32>(row0 / 4u) + IOTA, vec4<u32>(M4 - 1u)) + vec4<u32>(p.offA / 4u);
  let bc = min(vec4<u32>(col4) + IOTA, vec4<u32>(N4 - 1u)) + vec4<u32>(p.offB / 4u);
  for (var k = 0u; k < p.K; k++) {
    let a0 = A[k * M4 + ac.x];
    let a1 = A[k * M4 + ac.y];
    let b0 = B[k * N4 + bc.x];
    let b1 = B[k * N4 + bc.y];
    c00 += outer4(b0, a0);
    c01 += outer4(b1, a0);
    c10 += outer4(b0, a1);
    c11 += outer4(b1, a1);
#if ${COLS16}
    let b2 = B[k * N4 + bc.z];
    let b3 = B[k * N4 + bc.w];
    c02 += outer4(b2, a0);
    c03 += outer4(b3, a0);
    c12 += outer4(b2, a1);
    c13 += outer4(b3, a1);
#endif
#if ${ROWS16}
    let a2 = A[k * M4 + ac.z];
    let a3 = A[k * M4 + ac.w];
    c20 += outer4(b0, a2);
    c21 += outer4(b1, a2);
    c30 += outer4(b0, a3);
    c31 += outer4(b1, a3);
#if ${COLS16}
    c22 += outer4(b2, a2);
    c23 += outer4(b3, a2);
    c32 += outer4(b2, a3);
    c33 += outer4(b3, a3);
#endif
#endif
  }
#else
  // A stored M × K: each row is K/4 vec4; ra<G> holds the (clamped) starts of rows row0 + 4G … + 3.
  let K4 = p.K / 4u;
  let oA = vec4<u32>(p.offA / 4u);
  let lastRow = vec4<u32>(p.M - 1u);
  let ra0 = min(vec4<u32>(row0) + IOTA, lastRow) * K4 + oA;
  let ra1 = min(vec4<u32>(row0 + 4u) + IOTA, lastRow) * K4 + oA;
#if ${ROWS16}
  let ra2 = min(vec4<u32>(row0 + 8u) + IOTA, lastRow) * K4 + oA;
  let ra3 = min(vec4<u32>(row0 + 12u) + IOTA, lastRow) * K4 + oA;
#endif
#if ${TRANS_B}
  // Forward layout: B stored N × K; rb<V> holds the starts of B's rows (output columns) 4·(col4 + V) … + 3.
  let oB = vec4<u32>(p.offB / 4u);
  let lastCol = vec4<u32>(p.N - 1u);
  let rb0 = min(vec4<u32>(col4 * 4u) + IOTA, lastCol) * K4 + oB;
  let rb1 = min(vec4<u32>(col4 * 4u + 4u) + IOTA, lastCol) * K4 + oB;
#if ${COLS16}
  let rb2 = min(vec4<u32>(col4 * 4u + 8u) + IOTA, lastCol) * K4 + oB;
  let rb3 = min(vec4<u32>(col4 * 4u + 12u) + IOTA, lastCol) * K4 + oB;
#endif
  for (var kk = 0u; kk < K4; kk++) {
    // (Bᵀ block) · (A block): column r = (a_r · b_0, a_r · b_1, a_r · b_2, a_r · b_3).
    let a0 = rows_a(ra0, kk);
    let a1 = rows_a(ra1, kk);
    let b0 = transpose(rows_b(rb0, kk));
    let b1 = transpose(rows_b(rb1, kk));
    c00 += b0 * a0;
    c01 += b1 * a0;
    c10 += b0 * a1;
    c11 += b1 * a1;
#if ${COLS16}
    let b2 = transpose(rows_b(rb2, kk));
    let b3 = transpose(rows_b(rb3, kk));
    c02 += b2 * a0;
    c03 += b3 * a0;
    c12 += b2 * a1;
    c13 += b3 * a1;
#endif
#if ${ROWS16}
    let a2 = rows_a(ra2, kk);
    let a3 = rows_a(ra3, kk);
    c20 += b0 * a2;
    c21 += b1 * a2;
    c30 += b0 * a3;
    c31 += b1 * a3;
#if ${COLS16}
    c22 += b2 * a2;
    c23 += b3 * a2;
    c32 += b2 * a3;
    c33 += b3 * a3;
#endif
#endif
  }
#else
  // Backprop layout: B stored K × N; rows 4·kk … + 3 of B at vec4 column col4 + V form one 4 × 4 block.
  let bc = min(vec4<u32>(col4) + IOTA, vec4<u32>(N4 - 1u)) + vec4<u32>(p.offB / 4u);
  for (var kk = 0u; kk < K4; kk++) {
    // (B block) · (A block): column r = Σ_q a_r[q] · (row 4kk + q of B).
    let bk = vec4<u32>(kk * 4u * N4) + IOTA * N4;
    let a0 = rows_a(ra0, kk);
    let a1 = rows_a(ra1, kk);
    let b0 = rows_b(bk + vec4<u32>(bc.x), 0u);
    let b1 = rows_b(bk + vec4<u32>(bc.y), 0u);
    c00 += b0 * a0;
    c01 += b1 * a0;
    c10 += b0 * a1;
    c11 += b1 * a1;
#if ${COLS16}
    let b2 = rows_b(bk + vec4<u32>(bc.z), 0u);
    let b3 = rows_b(bk + vec4<u32>(bc.w), 0u);
    c02 += b2 * a0;
    c03 += b3 * a0;
    c12 += b2 * a1;
    c13 += b3 * a1;
#endif
#if ${ROWS16}
    let a2 = rows_a(ra2, kk);
    let a3 = rows_a(ra3, kk);
    c20 += b0 * a2;
    c21 += b1 * a2;
    c30 += b0 * a3;
    c31 += b1 * a3;
#if ${COLS16}
    c22 += b2 * a2;
    c23 += b3 * a2;
    c32 += b2 * a3;
    c33 += b3 * a3;
#endif
#endif
  }
#endif
#endif

  store_block(row0, col4, c00);
  store_block(row0, col4 + 1u, c01);
  store_block(row0 + 4u, col4, c10);
  store_block(row0 + 4u, col4 + 1u, c11);
#if ${COLS16}
  store_block(row0, col4 + 2u, c02);
  store_block(row0, col4 + 3u, c03);
  store_block(row0 + 4u, col4 + 2u, c12);
  store_block(row0 + 4u, col4 + 3u, c13);
#endif
#if ${ROWS16}
  store_block(row0 + 8u, col4, c20);
  store_block(row0 + 8u, col4 + 1u, c21);
  store_block(row0 + 12u, col4, c30);
  store_block(row0 + 12u, col4 + 1u, c31);
#if ${COLS16}
  store_block(row0 + 8u, col4 + 2u, c22);
  store_block(row0 + 8u, col4 + 3u, c23);
  store_block(row0 + 12u, col4 + 2u, c32);
  store_block(row0 + 12u, col4 + 3u, c33);
#endif
#endif
}
