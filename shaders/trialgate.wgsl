// trialgate.wgsl — whether a speculated line-search trial runs at all
// (GpuObjective.evaluateTrials). Each trial after the first is recorded as
// indirect dispatches whose workgroup counts sit in `args`; this kernel runs
// first in that trial's submit and zeroes them when the trial is not needed:
// the search (linesearch.wgsl's `state`) is done and returned the step θ
// already sits at. Then θ, ∇J, J's parts and the dots all stay those of that
// step, which is what the skipped evaluation would have recomputed, and the
// trial costs one tiny dispatch instead of a whole cost-and-gradient pass.
//
// A trial that runs needs J's parts and the dot sums zeroed (they accumulate);
// the evaluation's own clear is not recorded when it is gated, so it is here.
//
// `state` as linesearch.wgsl, plus two slots after the search's (LS_STATE_SLOTS):
//   [at]     the step θ sits at (the last evaluation that ran)
//   [at + 1] the number of gated trials that ran (read back as a count)

struct GateUniform { argsBase: u32, nArgs: u32, nScalars: u32, nDots: u32, at: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: GateUniform;
@group(0) @binding(1) var<storage, read_write> state: array<f32>;
@group(0) @binding(2) var<storage, read_write> args: array<u32>;
@group(0) @binding(3) var<storage, read_write> scalars: array<f32>;
@group(0) @binding(4) var<storage, read_write> dots: array<f32>;

const DONE = 2.0;

var<workgroup> run: u32;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
  if (i == 0u) {
    // The search still bracketing or zooming evaluates its next trial; a search
    // that is done evaluates only when the step it returned is not θ's.
    let needed = state[0] != DONE || state[1] != state[u.at];
    run = select(0u, 1u, needed);
  }
  let go = workgroupUniformLoad(&run);
  if (go == 0u) {
    for (var j = i; j < u.nArgs; j += 64u) { args[u.argsBase + j] = 0u; }
    return;
  }
  for (var j = i; j < u.nScalars; j += 64u) { scalars[j] = 0.0; }
  for (var j = i; j < u.nDots; j += 64u) { dots[j] = 0.0; }
  if (i == 0u) {
    state[u.at] = state[1];
    state[u.at + 1u] += 1.0;
  }
}
