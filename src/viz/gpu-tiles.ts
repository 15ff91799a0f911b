// Feature tiles drawn on the GPU straight from a weight buffer (no readback).
// Browser-safe; also works in Node on any GPUTexture (tests).
//
// The same picture as featureTiles (tiles.ts, UFLDL's display_network): tile i
// shows row i of W (nOut × nIn, row-major, starting at element `offset` of the
// buffer — e.g. GpuModel.thetaBuffer at layout.slots[0].w), as
//   x_j = W_ij / √(Σ_j W_ij²), divided by max_j |x_j| (contrast per tile),
// with [−1, 1] mapped to black … white (0 → mid gray), tiles in a grid separated
// by a dark 1-pixel border. Two passes in one submit: a compute pass writes each
// row's L2 norm and max |x_j| to a small stats buffer (one workgroup per row),
// and a render pass draws one full-screen triangle whose fragment shader reads
// the weight and its row's stats.

import type { GpuModel } from '../gpu/model.js';

export interface GpuTilesOptions {
  /** Rows of W (hidden units): one tile each. */
  nOut: number;
  /** Columns of W (inputs): pixels per tile. */
  nIn: number;
  /** Tile width in pixels. Default √nIn (nIn must then be a perfect square). */
  tileWidth?: number;
  /** Tiles per grid row. Default ⌈√nOut⌉. */
  cols?: number;
  /** Border in pixels around and between tiles. Default 1. */
  padding?: number;
  /** Gray level 0 … 255 of the border. Default 0 (black). */
  background?: number;
  /** Texture format of the targets (a canvas: navigator.gpu.getPreferredCanvasFormat()). Default 'rgba8unorm'. */
  format?: GPUTextureFormat;
}

const STATS_WG = 64;

const SHADER = /* wgsl */ `
struct Params {
  offset: u32, nOut: u32, nIn: u32, tileW: u32,
  tileH: u32, cols: u32, pad: u32, bg: f32,
};
@group(0) @binding(0) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;

@group(1) @binding(0) var<storage, read_write> statsOut: array<vec2<f32>>;
@group(1) @binding(1) var<storage, read> statsIn: array<vec2<f32>>;

var<workgroup> ss: array<f32, ${STATS_WG}>;
var<workgroup> mx: array<f32, ${STATS_WG}>;

// One workgroup per row i: (‖W_i‖₂, max_j |W_ij| / ‖W_i‖₂).
@compute @workgroup_size(${STATS_WG})
fn stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = wg.x;
  var s = 0.0;
  var m = 0.0;
  if (i < P.nOut) {
    let base = P.offset + i * P.nIn;
    for (var j = li; j < P.nIn; j += ${STATS_WG}u) {
      let w = W[base + j];
      s += w * w;
      m = max(m, abs(w));
    }
  }
  ss[li] = s;
  mx[li] = m;
  workgroupBarrier();
  for (var h = ${STATS_WG / 2}u; h > 0u; h >>= 1u) {
    if (li < h) {
      ss[li] += ss[li + h];
      mx[li] = max(mx[li], mx[li + h]);
    }
    workgroupBarrier();
  }
  if (li == 0u && i < P.nOut) {
    let norm = sqrt(ss[0]);
    statsOut[i] = vec2<f32>(norm, select(0.0, mx[0] / norm, norm > 0.0));
  }
}

@vertex
fn vs(@builtin(vertex_index) k: u32) -> @builtin(position) vec4<f32> {
  let x = f32((k << 1u) & 2u) * 2.0 - 1.0;
  let y = f32(k & 2u) * 2.0 - 1.0;
  return vec4<f32>(x, y, 0.0, 1.0);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
  let bg = vec4<f32>(P.bg, P.bg, P.bg, 1.0);
  let x = u32(pos.x);
  let y = u32(pos.y);
  if (x < P.pad || y < P.pad) { return bg; }
  let cw = P.tileW + P.pad;
  let ch = P.tileH + P.pad;
  let gx = (x - P.pad) / cw;
  let gy = (y - P.pad) / ch;
  let lx = (x - P.pad) % cw;
  let ly = (y - P.pad) % ch;
  if (lx >= P.tileW || ly >= P.tileH || gx >= P.cols) { return bg; }
  let i = gy * P.cols + gx;
  if (i >= P.nOut) { return bg; }
  let st = statsIn[i];
  var v = 0.0;
  if (st.x > 0.0 && st.y > 0.0) {
    let w = W[P.offset + i * P.nIn + ly * P.tileW + lx];
    v = (w / st.x) / st.y;
  }
  // As featureTiles: round((v + 1) · 127.5) / 255.
  let g = round((clamp(v, -1.0, 1.0) + 1.0) * 127.5) / 255.0;
  return vec4<f32>(g, g, g, 1.0);
}
`;

function checkInt(v: number, what: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`GpuFeatureTiles: ${what} must be an integer ≥ ${min}, got ${v}`);
}

/** The GPU renderer of feature tiles. One per (device, shape); reuse it for every frame. */
export class GpuFeatureTiles {
  /** Size in pixels of the picture (set a canvas to it). */
  readonly width: number;
  readonly height: number;
  readonly format: GPUTextureFormat;
  private readonly params: GPUBuffer;
  private readonly stats: GPUBuffer;
  private readonly compute: GPUComputePipeline;
  private readonly render: GPURenderPipeline;
  private readonly groups = new WeakMap<GPUBuffer, { compute: [GPUBindGroup, GPUBindGroup]; render: [GPUBindGroup, GPUBindGroup] }>();
  private offset = -1;
  readonly nOut: number;
  readonly nIn: number;

  constructor(readonly device: GPUDevice, opts: GpuTilesOptions) {
    const { nOut, nIn } = opts;
    checkInt(nOut, 'nOut', 1);
    checkInt(nIn, 'nIn', 1);
    this.nOut = nOut;
    this.nIn = nIn;
    const tileW = opts.tileWidth ?? Math.round(Math.sqrt(nIn));
    checkInt(tileW, 'tileWidth', 1);
    if (nIn % tileW !== 0) throw new RangeError(`GpuFeatureTiles: tileWidth ${tileW} does not divide nIn = ${nIn} (pass tileWidth)`);
    const tileH = nIn / tileW;
    const cols = opts.cols ?? Math.max(1, Math.ceil(Math.sqrt(nOut)));
    checkInt(cols, 'cols', 1);
    const pad = opts.padding ?? 1;
    checkInt(pad, 'padding', 0);
    const rows = Math.ceil(nOut / cols);
    this.width = cols * tileW + (cols + 1) * pad;
    this.height = rows * tileH + (rows + 1) * pad;
    this.format = opts.format ?? 'rgba8unorm';
    const bg = (opts.background ?? 0) / 255;

    const U = (globalThis as unknown as { GPUBufferUsage: typeof GPUBufferUsage }).GPUBufferUsage;
    this.params = device.createBuffer({ size: 32, usage: U.UNIFORM | U.COPY_DST, label: 'feature tiles params' });
    const p = new ArrayBuffer(32);
    new Uint32Array(p).set([0, nOut, nIn, tileW, tileH, cols, pad]);
    new Float32Array(p, 28, 1)[0] = bg;
    device.queue.writeBuffer(this.params, 0, p);
    this.stats = device.createBuffer({ size: Math.max(16, nOut * 8), usage: U.STORAGE, label: 'feature tiles stats' });

    const module = device.createShaderModule({ code: SHADER, label: 'feature tiles' });
    this.compute = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'stats' }, label: 'feature tile stats' });
    this.render = device.createRenderPipeline({
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format: this.format }] },
      primitive: { topology: 'triangle-list' },
      label: 'feature tiles',
    });
  }

  private bindGroups(weights: GPUBuffer): { compute: [GPUBindGroup, GPUBindGroup]; render: [GPUBindGroup, GPUBindGroup] } {
    let g = this.groups.get(weights);
    if (!g) {
      const d = this.device;
      const mk = (layout: GPUBindGroupLayout, entries: GPUBindGroupEntry[]): GPUBindGroup => d.createBindGroup({ layout, entries });
      g = {
        compute: [
          mk(this.compute.getBindGroupLayout(0), [{ binding: 0, resource: { buffer: weights } }, { binding: 2, resource: { buffer: this.params } }]),
          mk(this.compute.getBindGroupLayout(1), [{ binding: 0, resource: { buffer: this.stats } }]),
        ],
        render: [
          mk(this.render.getBindGroupLayout(0), [{ binding: 0, resource: { buffer: weights } }, { binding: 2, resource: { buffer: this.params } }]),
          mk(this.render.getBindGroupLayout(1), [{ binding: 1, resource: { buffer: this.stats } }]),
        ],
      };
      this.groups.set(weights, g);
    }
    return g;
  }

  /**
   * Records the two passes into `encoder`: tiles of the nOut × nIn matrix that
   * starts at f32 element `offset` of `weights` (a STORAGE buffer), drawn into
   * `target` (a texture view of this.width × this.height, of this.format).
   */
  encode(encoder: GPUCommandEncoder, weights: GPUBuffer, offset: number, target: GPUTextureView): void {
    checkInt(offset, 'offset', 0);
    if ((offset + this.nOut * this.nIn) * 4 > weights.size) {
      throw new RangeError(`GpuFeatureTiles: ${this.nOut} × ${this.nIn} weights at element ${offset} run past the ${weights.size}-byte buffer`);
    }
    if (offset !== this.offset) {
      this.device.queue.writeBuffer(this.params, 0, Uint32Array.of(offset));
      this.offset = offset;
    }
    const g = this.bindGroups(weights);
    const cp = encoder.beginComputePass({ label: 'feature tile stats' });
    cp.setPipeline(this.compute);
    cp.setBindGroup(0, g.compute[0]);
    cp.setBindGroup(1, g.compute[1]);
    cp.dispatchWorkgroups(this.nOut);
    cp.end();
    const rp = encoder.beginRenderPass({
      colorAttachments: [{ view: target, loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 1 } }],
      label: 'feature tiles',
    });
    rp.setPipeline(this.render);
    rp.setBindGroup(0, g.render[0]);
    rp.setBindGroup(1, g.render[1]);
    rp.draw(3);
    rp.end();
  }

  /** Draws into a canvas context (configured here on first use with this device and format; the canvas is resized to the picture). */
  draw(context: GPUCanvasContext, weights: GPUBuffer, offset: number): void {
    const canvas = context.canvas as HTMLCanvasElement | OffscreenCanvas;
    if (canvas.width !== this.width || canvas.height !== this.height) {
      canvas.width = this.width;
      canvas.height = this.height;
    }
    if (!configured.has(context) || configured.get(context) !== this.device) {
      context.configure({ device: this.device, format: this.format, alphaMode: 'opaque' });
      configured.set(context, this.device);
    }
    const enc = this.device.createCommandEncoder({ label: 'feature tiles' });
    this.encode(enc, weights, offset, context.getCurrentTexture().createView());
    this.device.queue.submit([enc.finish()]);
  }

  destroy(): void {
    this.params.destroy();
    this.stats.destroy();
  }
}

const configured = new WeakMap<GPUCanvasContext, GPUDevice>();

/**
 * A renderer for the first weight layer of a GPU model (W(1), hidden units × inputs),
 * and a function that draws the model's current θ with it — no readback.
 */
export function modelFeatureTiles(
  model: Pick<GpuModel, 'thetaBuffer' | 'layout' | 'ctx'>,
  opts: Omit<GpuTilesOptions, 'nOut' | 'nIn'> = {},
): { tiles: GpuFeatureTiles; draw(context: GPUCanvasContext): void } {
  const s = model.layout.slots[0]!;
  const tiles = new GpuFeatureTiles(model.ctx.device, { ...opts, nOut: s.nOut, nIn: s.nIn });
  return { tiles, draw: (context) => tiles.draw(context, model.thetaBuffer, s.w) };
}
