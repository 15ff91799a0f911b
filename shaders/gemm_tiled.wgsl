// gemm_tiled.wgsl — the GEMM for real GPUs: C = f(α·op(A)·op(B) + β·C + γ·E + bias),
// row-major f32, the same uniform, bindings and epilogue as gemm.wgsl.
//
// The standard recipe (the WGSL ports of the CUDA SGEMM kernels): a workgroup of
// 16 × 16 invocations owns a 128 × 128 tile of C; op(A)'s 128 × BK and op(B)'s
// BK × 128 tiles (BK = 16) are staged in workgroup memory, k-major, as vec4; each
// invocation keeps an 8 × 8 block of C in registers (16 vec4), reading 2 + 2 vec4
// from workgroup memory per k for 64 fmas. Its rows are 4·ty … + 3 and 64 + 4·ty …
// + 3 of the tile (columns likewise with tx), so neighbouring invocations read
// neighbouring vec4 (no bank conflicts).
// Double buffering: the next k-tile is fetched from global memory into registers
// while the current one is multiplied; with PINGPONG (needs 32 KiB of workgroup
// memory) the two tiles alternate between two workgroup buffers, one barrier per
// k-tile; without it one buffer and two barriers.
// Global loads are vec4 when the layout allows it (VEC_A / VEC_B: the stored rows'
// length and the offset are multiples of 4), else four scalar loads; any M, N, K.
//
// Split-K (SPLIT_K, the first of two passes; gemm_splitk.wgsl is the second): when
// M × N has too few tiles to fill a large GPU and K is deep (the ∇W of a large batch:
// 200 × 784 × 4096 is 14 tiles), workgroup row wid.y = s·⌈M/128⌉ + row tile multiplies
// only k-tiles s·p.split … (s + 1)·p.split − 1, and writes its raw sums to slice s of
// binding 3, an S × M × N scratch buffer, with no epilogue.
//
// Template values: TRANS_A, TRANS_B, ACCUMULATE, ADDEND, BIAS, STORE_Z (as gemm.wgsl),
//   VEC_A, VEC_B, PINGPONG, SPLIT_K. Needs activation.wgsl. Bindings: 0 uniform GemmParams,
//   1 A, 2 B (array<vec4<f32>> when VEC_A / VEC_B, else array<f32>), 3 C (read_write;
//   the scratch with SPLIT_K), 4 bias, 5 E, 6 Zout. Dispatch: (ceil(N / 128), ceil(M / 128)
//   × S) workgroups of 16 × 16 (S = 1 without SPLIT_K).

// GemmParams p, bias, E, Zout: gemm_common.wgsl; C and epilogue(): gemm_epilogue.wgsl.
#if ${VEC_A}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> A: array<f32>;
#endif
#if ${VEC_B}
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
#else
@group(0) @binding(2) var<storage, read> B: array<f32>;
#endif

const TILE: u32 = 128u;
const BK: u32 = 16u;
const Q: u32 = 32u;          // vec4 per k-row of a tile (TILE / 4)
const SLOT: u32 = 512u;      // vec4 per tile (BK · Q)
#if ${PINGPONG}
const STAGES: u32 = 2u;
#else
const STAGES: u32 = 1u;
#endif
// As[s·SLOT + k·Q + q] = op(A) rows 4q … 4q + 3 of the tile at k; Bs likewise for op(B)'s columns.
var<workgroup> As: array<vec4<f32>, 1024>;
var<workgroup> Bs: array<vec4<f32>, 1024>;

/** Four consecutive stored elements from element `idx`, of which the first `n` exist (others 0). */
fn fetch_a(idx: u32, n: u32) -> vec4<f32> {
#if ${VEC_A}
  if (n < 4u) { return vec4<f32>(0.0); }
  return A[idx / 4u];
#else
  var v = vec4<f32>(0.0);
  if (n > 0u) { v.x = A[idx]; }
  if (n > 1u) { v.y = A[idx + 1u]; }
  if (n > 2u) { v.z = A[idx + 2u]; }
  if (n > 3u) { v.w = A[idx + 3u]; }
  return v;
#endif
}
fn fetch_b(idx: u32, n: u32) -> vec4<f32> {
#if ${VEC_B}
  if (n < 4u) { return vec4<f32>(0.0); }
  return B[idx / 4u];
#else
  var v = vec4<f32>(0.0);
  if (n > 0u) { v.x = B[idx]; }
  if (n > 1u) { v.y = B[idx + 1u]; }
  if (n > 2u) { v.z = B[idx + 2u]; }
  if (n > 3u) { v.w = B[idx + 3u]; }
  return v;
#endif
}

/** How many of the 4 indices from `start` along a dimension of `len` exist, times whether `other` < `otherLen`. */
fn avail(start: u32, len: u32, other: u32, otherLen: u32) -> u32 {
  if (other >= otherLen || start >= len) { return 0u; }
  return min(4u, len - start);
}

// One thread's share of a k-tile: 2 vec4 of op(A) and 2 of op(B) (512 vec4 each over 256 threads).
// Slot e ∈ {t, t + 256}. Stored along k (A not transposed, B transposed): e = row·4 + kq,
// four k values of one row, scattered into As[k·Q + row/4] component row%4.
// Stored along rows (A transposed, B not): e = k·Q + q, one vec4 straight into As[e].
struct Fetched { a0: vec4<f32>, a1: vec4<f32>, b0: vec4<f32>, b1: vec4<f32> }

fn load_a(row0: u32, k0: u32, e: u32) -> vec4<f32> {
#if ${TRANS_A}
  let k = k0 + e / Q; let i = row0 + (e % Q) * 4u;
  return fetch_a(p.offA + k * p.M + i, avail(i, p.M, k, p.K));
#else
  let i = row0 + e / 4u; let k = k0 + (e % 4u) * 4u;
  return fetch_a(p.offA + i * p.K + k, avail(k, p.K, i, p.M));
#endif
}
fn load_b(col0: u32, k0: u32, e: u32) -> vec4<f32> {
#if ${TRANS_B}
  let j = col0 + e / 4u; let k = k0 + (e % 4u) * 4u;
  return fetch_b(p.offB + j * p.K + k, avail(k, p.K, j, p.N));
#else
  let k = k0 + e / Q; let j = col0 + (e % Q) * 4u;
  return fetch_b(p.offB + k * p.N + j, avail(j, p.N, k, p.K));
#endif
}

fn fetch_tile(row0: u32, col0: u32, k0: u32, t: u32) -> Fetched {
  return Fetched(load_a(row0, k0, t), load_a(row0, k0, t + 256u), load_b(col0, k0, t), load_b(col0, k0, t + 256u));
}

fn put_a(base: u32, e: u32, v: vec4<f32>) {
#if ${TRANS_A}
  As[base + e] = v;
#else
  let row = e / 4u; let k = (e % 4u) * 4u; let q = row / 4u; let c = row % 4u;
  As[base + k * Q + q][c] = v.x;
  As[base + (k + 1u) * Q + q][c] = v.y;
  As[base + (k + 2u) * Q + q][c] = v.z;
  As[base + (k + 3u) * Q + q][c] = v.w;
#endif
}
fn put_b(base: u32, e: u32, v: vec4<f32>) {
#if ${TRANS_B}
  let col = e / 4u; let k = (e % 4u) * 4u; let q = col / 4u; let c = col % 4u;
  Bs[base + k * Q + q][c] = v.x;
  Bs[base + (k + 1u) * Q + q][c] = v.y;
  Bs[base + (k + 2u) * Q + q][c] = v.z;
  Bs[base + (k + 3u) * Q + q][c] = v.w;
#else
  Bs[base + e] = v;
#endif
}

fn store_tile(stage: u32, t: u32, f: Fetched) {
  let base = stage * SLOT;
  put_a(base, t, f.a0);
  put_a(base, t + 256u, f.a1);
  put_b(base, t, f.b0);
  put_b(base, t + 256u, f.b1);
}

// SPLIT_K: where this workgroup's slice starts in the scratch (set once in main).
var<private> slice_base: u32;

fn store(i: u32, j: u32, acc: f32) {
  if (i >= p.M || j >= p.N) { return; }
#if ${SPLIT_K}
  C[slice_base + i * p.N + j] = acc;
#else
  epilogue(i, j, acc);
#endif
}

fn store4(i: u32, j: u32, v: vec4<f32>) {
  store(i, j, v.x);
  store(i, j + 1u, v.y);
  store(i, j + 2u, v.z);
  store(i, j + 3u, v.w);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tiles = (p.K + BK - 1u) / BK;
#if ${SPLIT_K}
  let rowTiles = (p.M + TILE - 1u) / TILE;
  let slice = wid.y / rowTiles;
  let row0 = (wid.y % rowTiles) * TILE;
  let kt0 = slice * p.split;
  let kt1 = min(tiles, kt0 + p.split);
  slice_base = slice * p.M * p.N;
#else
  let row0 = wid.y * TILE;
  let kt0 = 0u;
  let kt1 = tiles;
#endif
  let col0 = wid.x * TILE;
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  // cRH: tile row 4ty + R (R < 4) or 64 + 4ty + R − 4 (R ≥ 4), columns 4tx … + 3 (H = 0) or 64 + 4tx … (H = 1).
  // Named registers, no private array: nothing is indexed at run time.
  var c00 = vec4<f32>(); var c01 = vec4<f32>(); var c10 = vec4<f32>(); var c11 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>(); var c30 = vec4<f32>(); var c31 = vec4<f32>();
  var c40 = vec4<f32>(); var c41 = vec4<f32>(); var c50 = vec4<f32>(); var c51 = vec4<f32>();
  var c60 = vec4<f32>(); var c61 = vec4<f32>(); var c70 = vec4<f32>(); var c71 = vec4<f32>();
  var next = fetch_tile(row0, col0, kt0 * BK, t);
  store_tile(0u, t, next);
  workgroupBarrier();
  for (var kt = kt0; kt < kt1; kt++) {
    let cur = ((kt - kt0) % STAGES) * SLOT;
    // Issue the next tile's global loads before the arithmetic on this one.
    if (kt + 1u < kt1) { next = fetch_tile(row0, col0, (kt + 1u) * BK, t); }
    for (var k = 0u; k < BK; k++) {
      let a0 = As[cur + k * Q + ty];
      let a1 = As[cur + k * Q + 16u + ty];
      let b0 = Bs[cur + k * Q + tx];
      let b1 = Bs[cur + k * Q + 16u + tx];
      c00 += a0.x * b0; c01 += a0.x * b1;
      c10 += a0.y * b0; c11 += a0.y * b1;
      c20 += a0.z * b0; c21 += a0.z * b1;
      c30 += a0.w * b0; c31 += a0.w * b1;
      c40 += a1.x * b0; c41 += a1.x * b1;
      c50 += a1.y * b0; c51 += a1.y * b1;
      c60 += a1.z * b0; c61 += a1.z * b1;
      c70 += a1.w * b0; c71 += a1.w * b1;
    }
    if (kt + 1u < kt1) {
#if ${PINGPONG}
      // The other buffer was last read in iteration kt − 1, which every thread has left (barrier below).
      store_tile((kt - kt0 + 1u) % 2u, t, next);
#else
      workgroupBarrier();
      store_tile(0u, t, next);
#endif
    }
    workgroupBarrier();
  }
  let i0 = row0 + 4u * ty;
  let i1 = row0 + 64u + 4u * ty;
  let j0 = col0 + 4u * tx;
  let j1 = col0 + 64u + 4u * tx;
  store4(i0, j0, c00); store4(i0, j1, c01);
  store4(i0 + 1u, j0, c10); store4(i0 + 1u, j1, c11);
  store4(i0 + 2u, j0, c20); store4(i0 + 2u, j1, c21);
  store4(i0 + 3u, j0, c30); store4(i0 + 3u, j1, c31);
  store4(i1, j0, c40); store4(i1, j1, c41);
  store4(i1 + 1u, j0, c50); store4(i1 + 1u, j1, c51);
  store4(i1 + 2u, j0, c60); store4(i1 + 2u, j1, c61);
  store4(i1 + 3u, j0, c70); store4(i1 + 3u, j1, c71);
}
