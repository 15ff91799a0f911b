// sums.wgsl — the scalar parts of J in few dispatches (Kernels.sums: the data
// term, weight decay, KL sparsity, … of one evaluation), each bitwise the same
// as one reduce.wgsl sum (sum_partial, then sum_final) per term.
//
// sums_partial (stage 1, one dispatch per group of terms): up to SUMS_MAX_BUFFERS
//   input buffers v0 … v5 are bound (bindings cannot be indexed at run time:
//   load() switches on the index). Term r of the group has tasks[r] =
//   (count, T, base), (offX, offY, first workgroup), (ρ); its map and bindings
//   are template values, so each term's switches fold away at compile time. Its
//   invocation t < T walks k = t, t + T, … (sum_partial's grid stride and T, so
//   the same elements meet in the same order) and writes
//   partials[base + t] = Σ map(x[offX + k], y[offY + k]) (maps as reduce.wgsl).
//   Template values: V1 … V5 (buffer j is bound; v0 always is), TASKS (table
//   size); per term r: M{r} (its map), X{r} and Y{r} (its bindings), R{r}
//   (r > 0: term r exists).
//   Bindings: 0 uniform SumsParams, 1 partials (read_write), 2 + j buffer j.
//   Dispatch: Σ ceil(T / 64) workgroups over the group's terms, back to back
//   (term r's from workgroup tasks[r].b.z; no idle workgroups).
// sums_final (FINAL, stage 2, ONE dispatch for all terms): workgroup g handles
//   the terms that add into one slot, in their order: for each, lane_sum.wgsl sums
//   its partials (as sum_final), and lane 0 adds scale·total into scalars[slot]. Terms of one
//   slot share a workgroup, so their += never race and keep their order.
//   Bindings: 0 uniform FinalParams, 1 partials, 2 scalars (read_write).
//   Dispatch: the number of distinct slots.

#if ${FINAL}
// groups[g] = (first, end) of the slot's terms in terms[]; terms[r] = (base, T, slot, scale bits).
struct FinalParams { groups: array<vec4<u32>, ${TASKS}>, terms: array<vec4<u32>, ${TASKS}> }
@group(0) @binding(0) var<uniform> fp: FinalParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;

@compute @workgroup_size(64)
fn sums_final(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let g = fp.groups[wid.x];
  for (var r = g.x; r < g.y; r++) {
    let term = fp.terms[r];
    let total = lane_sum(term.x, term.y, lid.x); // lane_sum.wgsl
    if (lid.x == 0u) { scalars[term.z] += bitcast<f32>(term.w) * total; }
  }
}
#else
struct Task { a: vec4<u32>, b: vec4<u32>, c: vec4<f32> }
// head.x: terms in this group. tasks[r].b.z: term r's first workgroup.
struct SumsParams { head: vec4<u32>, tasks: array<Task, ${TASKS}> }
@group(0) @binding(0) var<uniform> sp: SumsParams;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
// v0 … v5: vector_inputs.wgsl (rendered with this file; V6 … V14 false).

fn load(j: u32, i: u32) -> f32 {
  switch j {
#if ${V1}
    case 1u: { return v1[i]; }
#endif
#if ${V2}
    case 2u: { return v2[i]; }
#endif
#if ${V3}
    case 3u: { return v3[i]; }
#endif
#if ${V4}
    case 4u: { return v4[i]; }
#endif
#if ${V5}
    case 5u: { return v5[i]; }
#endif
    default: { return v0[i]; }
  }
}

// sum_partial's loop over reduce.wgsl's map. Called with the map and the
// bindings as constants (template values per term), so that both switches fold
// away: a software adapter runs every case of a switch it cannot fold, here for
// every element.
fn term_partial(map: u32, xb: u32, yb: u32, task: Task, t: u32) -> f32 {
  let n = task.a.x;
  let T = task.a.y;
  let ox = task.b.x;
  let oy = task.b.y;
  let rho = task.c.x;
  var s = 0.0;
  switch map {
    case MAP_SQUARE: { for (var k = t; k < n; k += T) { let v = load(xb, ox + k); s += v * v; } }
    case MAP_ABS: { for (var k = t; k < n; k += T) { s += abs(load(xb, ox + k)); } }
    case MAP_KL: { for (var k = t; k < n; k += T) { let v = load(xb, ox + k); s += rho * log(rho / v) + (1.0 - rho) * log((1.0 - rho) / (1.0 - v)); } }
    case MAP_DOT: { for (var k = t; k < n; k += T) { s += load(xb, ox + k) * load(yb, oy + k); } }
    case MAP_HALF_SQ_DIFF: { for (var k = t; k < n; k += T) { let d = load(xb, ox + k) - load(yb, oy + k); s += 0.5 * d * d; } }
    case MAP_BCE_LOGITS: { for (var k = t; k < n; k += T) { let v = load(xb, ox + k); s += max(v, 0.0) + log(1.0 + exp(-abs(v))) - load(yb, oy + k) * v; } }
    default: { for (var k = t; k < n; k += T) { s += load(xb, ox + k); } }
  }
  return s;
}

@compute @workgroup_size(64)
fn sums_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // The workgroups are the terms' ceil(T / 64) each, back to back.
  var r = 0u;
  for (var i = 1u; i < sp.head.x; i++) {
    if (wid.x >= sp.tasks[i].b.z) { r = i; }
  }
  let task = sp.tasks[r];
  let t = (wid.x - task.b.z) * 64u + li;
  if (t >= task.a.y) { return; }
  var s = 0.0;
  switch r {
    case 0u: { s = term_partial(${M0}u, ${X0}u, ${Y0}u, task, t); }
#if ${R1}
    case 1u: { s = term_partial(${M1}u, ${X1}u, ${Y1}u, task, t); }
#endif
#if ${R2}
    case 2u: { s = term_partial(${M2}u, ${X2}u, ${Y2}u, task, t); }
#endif
#if ${R3}
    case 3u: { s = term_partial(${M3}u, ${X3}u, ${Y3}u, task, t); }
#endif
#if ${R4}
    case 4u: { s = term_partial(${M4}u, ${X4}u, ${Y4}u, task, t); }
#endif
#if ${R5}
    case 5u: { s = term_partial(${M5}u, ${X5}u, ${Y5}u, task, t); }
#endif
#if ${R6}
    case 6u: { s = term_partial(${M6}u, ${X6}u, ${Y6}u, task, t); }
#endif
#if ${R7}
    case 7u: { s = term_partial(${M7}u, ${X7}u, ${Y7}u, task, t); }
#endif
#if ${R8}
    case 8u: { s = term_partial(${M8}u, ${X8}u, ${Y8}u, task, t); }
#endif
#if ${R9}
    case 9u: { s = term_partial(${M9}u, ${X9}u, ${Y9}u, task, t); }
#endif
#if ${R10}
    case 10u: { s = term_partial(${M10}u, ${X10}u, ${Y10}u, task, t); }
#endif
#if ${R11}
    case 11u: { s = term_partial(${M11}u, ${X11}u, ${Y11}u, task, t); }
#endif
#if ${R12}
    case 12u: { s = term_partial(${M12}u, ${X12}u, ${Y12}u, task, t); }
#endif
#if ${R13}
    case 13u: { s = term_partial(${M13}u, ${X13}u, ${Y13}u, task, t); }
#endif
#if ${R14}
    case 14u: { s = term_partial(${M14}u, ${X14}u, ${Y14}u, task, t); }
#endif
#if ${R15}
    case 15u: { s = term_partial(${M15}u, ${X15}u, ${Y15}u, task, t); }
#endif
    default: {}
  }
  partials[task.a.z + t] = s;
}
#endif
