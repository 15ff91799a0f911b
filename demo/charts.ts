// The demo's pictures drawn on the page: the cost chart (training and held-out
// J and the parts of J, log scale, bounded history), the ρ̂ histogram (axis
// scaled to the data, one unit highlighted), the held-out inputs with what the
// network saw and its reconstructions, and the inputs that excite one unit most.
// Canvases take their container's width and the screen's devicePixelRatio.

import type { Matrix } from '../src/matrix.js';
import { SeriesHistory } from './history.js';

/** Sizes a canvas to its CSS box × devicePixelRatio; returns a context in CSS pixels. */
export function fitCanvas(cv: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(cssWidth * dpr));
  const h = Math.max(1, Math.round(cssHeight * dpr));
  if (cv.width !== w) cv.width = w;
  if (cv.height !== h) cv.height = h;
  cv.style.width = `${cssWidth}px`;
  cv.style.height = `${cssHeight}px`;
  const g = cv.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssWidth, cssHeight);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, cssWidth, cssHeight);
  return g;
}

/** The width a canvas may take: its parent's content box. */
export function availableWidth(cv: HTMLElement, max = 720): number {
  const p = cv.parentElement!;
  const cs = getComputedStyle(p);
  const w = p.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return Math.max(120, Math.min(max, Math.floor(w) - 2));
}

export const SERIES = [
  { key: 'train', name: 'J, training batch', color: '#111', dash: [] as number[] },
  { key: 'heldOut', name: 'J, held out', color: '#d62728', dash: [6, 3] },
  { key: 'data', name: 'reconstruction ½‖x̂ − x‖²', color: '#1f77b4', dash: [] },
  { key: 'weightDecay', name: 'weight decay (λ/2)ΣW²', color: '#ff7f0e', dash: [] },
  { key: 'sparsity', name: 'sparsity βΣKL(ρ‖ρ̂ⱼ)', color: '#2ca02c', dash: [] },
  { key: 'contractive', name: 'contractive λc‖J_f‖²', color: '#9467bd', dash: [] },
  { key: 'kl', name: 'KL(q(z|x) ‖ N(0, I))', color: '#e377c2', dash: [] },
] as const;
export type SeriesKey = (typeof SERIES)[number]['key'];

export class CostChart {
  readonly series = new Map<SeriesKey, SeriesHistory>(SERIES.map((s) => [s.key, new SeriesHistory(400)]));
  divergence: { step: number; text: string } | null = null;
  /** The training curve's name (mini-batch methods: the batch; L-BFGS: all examples). */
  trainName = 'J, training batch';
  /** Names that differ by mode (a VAE's data term is the reconstruction −log p(x|z)). */
  names: Partial<Record<SeriesKey, string>> = {};
  firstStep = 0;
  lastStep = 0;

  clear(firstStep: number): void {
    for (const s of this.series.values()) s.clear();
    this.divergence = null;
    this.firstStep = firstStep;
    this.lastStep = firstStep;
  }

  push(key: SeriesKey, step: number, value: number): void {
    this.series.get(key)!.push(step, value);
    this.lastStep = Math.max(this.lastStep, step);
  }

  /** Series with something to draw (a part that stays 0 is left out). */
  visible(): (typeof SERIES)[number][] {
    return SERIES.filter((s) => this.series.get(s.key)!.all.some((b) => b.max > 0));
  }

  draw(cv: HTMLCanvasElement, legend: HTMLElement): void {
    const W = availableWidth(cv);
    const H = Math.round(Math.min(260, Math.max(170, W * 0.45)));
    const g = fitCanvas(cv, W, H);
    const shown = this.visible();
    legend.innerHTML = shown
      .map((s) => `<span><i style="border-top:2px ${s.dash.length ? 'dashed' : 'solid'} ${s.color}"></i>${s.key === 'train' ? this.trainName : (this.names[s.key] ?? s.name)}</span>`)
      .join('');
    const L = 48;
    const R = 8;
    const T = 8;
    const B = 34;
    const pw = W - L - R;
    const ph = H - T - B;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#444';
    // Axis titles.
    g.save();
    g.translate(11, T + ph / 2);
    g.rotate(-Math.PI / 2);
    g.textAlign = 'center';
    g.fillText('cost per example (log)', 0, 0);
    g.restore();
    g.textAlign = 'center';
    g.fillText('training step', L + pw / 2, H - 4);
    g.textAlign = 'left';
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of shown) {
      for (const b of this.series.get(s.key)!.all) {
        if (b.min > 0) lo = Math.min(lo, b.min);
        if (b.max > 0) hi = Math.max(hi, b.max);
      }
    }
    if (!(hi > 0)) {
      g.fillStyle = '#888';
      g.fillText('The cost appears here once training starts.', L + 8, T + 20);
      return;
    }
    const llo = Math.log10(lo);
    const lhi = Math.max(Math.log10(hi), llo + 0.3);
    const x0 = this.firstStep;
    const x1 = Math.max(this.lastStep, x0 + 10);
    const X = (s: number): number => L + ((s - x0) / (x1 - x0)) * pw;
    const Y = (v: number): number => T + (1 - (Math.log10(v) - llo) / (lhi - llo)) * ph;
    g.strokeStyle = '#e3e3e3';
    g.fillStyle = '#555';
    g.textAlign = 'right';
    // Gridlines at 1, 2, 5 × 10ᵉ, or only at powers of ten when decades are short.
    const marks = ph / (lhi - llo) < 60 ? [1] : [1, 2, 5];
    for (let e = Math.floor(llo); e <= Math.ceil(lhi); e++) {
      for (const m of marks) {
        const v = m * 10 ** e;
        if (Math.log10(v) < llo - 1e-9 || Math.log10(v) > lhi + 1e-9) continue;
        g.beginPath();
        g.moveTo(L, Y(v));
        g.lineTo(L + pw, Y(v));
        g.stroke();
        g.fillText(v < 1e-3 || v >= 1e5 ? v.toExponential(0) : String(+v.toPrecision(2)), L - 4, Y(v) + 4);
      }
    }
    g.textAlign = 'left';
    g.fillText(String(x0), L, T + ph + 14);
    g.textAlign = 'right';
    g.fillText(String(x1), L + pw, T + ph + 14);
    g.textAlign = 'left';
    g.strokeStyle = '#999';
    g.strokeRect(L, T, pw, ph);
    for (const s of shown) {
      const h = this.series.get(s.key)!;
      g.strokeStyle = s.color;
      g.setLineDash(s.dash);
      g.lineWidth = 1.5;
      g.beginPath();
      let started = false;
      for (const b of h.all) {
        if (!(b.last > 0)) continue;
        const x = X(b.lastStep);
        if (started) g.lineTo(x, Y(b.last));
        else g.moveTo(x, Y(b.last));
        started = true;
      }
      g.stroke();
      g.setLineDash([]);
      // The spread of the readings merged into each bucket.
      g.globalAlpha = 0.25;
      g.lineWidth = 1;
      g.beginPath();
      for (const b of h.all) {
        if (b.max > b.min && b.min > 0) {
          const x = X(b.step + h.width / 2);
          g.moveTo(x, Y(b.min));
          g.lineTo(x, Y(b.max));
        }
      }
      g.stroke();
      g.globalAlpha = 1;
    }
    if (this.divergence) {
      const x = Math.min(L + pw - 1, X(this.divergence.step));
      g.strokeStyle = '#c00';
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(x, T);
      g.lineTo(x, T + ph);
      g.stroke();
      g.lineWidth = 1;
      g.fillStyle = '#c00';
      g.textAlign = x > L + pw / 2 ? 'right' : 'left';
      g.fillText(this.divergence.text, x + (x > L + pw / 2 ? -4 : 4), T + 14);
      g.textAlign = 'left';
    }
  }
}

/** Histogram of ρ̂ with the axis scaled to the data; ρ (the target) in red, one unit's ρ̂ in orange. */
export function drawRhoHistogram(cv: HTMLCanvasElement, values: Float32Array | null, rho: number | null, unit: number | null): void {
  const W = availableWidth(cv);
  const H = 170;
  const g = fitCanvas(cv, W, H);
  g.font = '11px system-ui, sans-serif';
  if (!values || values.length === 0) {
    g.fillStyle = '#888';
    g.fillText('ρ̂ appears once the model is built.', 10, 20);
    return;
  }
  let max = 0;
  let mean = 0;
  for (const v of values) {
    if (Number.isFinite(v)) max = Math.max(max, v);
    mean += v / values.length;
  }
  const top = Math.max(max * 1.05, rho !== null ? rho * 1.5 : 0, 1e-3);
  const bins = Math.max(10, Math.min(40, Math.floor(W / 12)));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.max(0, Math.floor((v / top) * bins)))]!++;
  const cmax = Math.max(1, ...counts);
  const L = 8;
  const T = 36;
  const B = 32;
  const pw = W - 2 * L;
  const ph = H - T - B;
  const X = (v: number): number => L + (v / top) * pw;
  g.fillStyle = '#1f77b4';
  counts.forEach((c, i) => {
    const bh = (c / cmax) * ph;
    g.fillRect(L + (i * pw) / bins, T + ph - bh, Math.max(1, pw / bins - 1), bh);
  });
  g.strokeStyle = '#999';
  g.beginPath();
  g.moveTo(L, T + ph + 0.5);
  g.lineTo(L + pw, T + ph + 0.5);
  g.stroke();
  const mark = (v: number, color: string, label: string, row: number): void => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(X(v), 3 + 13 * row);
    g.lineTo(X(v), T + ph);
    g.stroke();
    g.lineWidth = 1;
    g.fillStyle = color;
    const right = X(v) > W / 2;
    g.textAlign = right ? 'right' : 'left';
    g.fillText(label, X(v) + (right ? -4 : 4), 12 + 13 * row);
    g.textAlign = 'left';
  };
  if (rho !== null) mark(rho, '#d00', `target ρ = ${rho}`, 0);
  if (unit !== null && unit < values.length) mark(values[unit]!, '#e67e00', `unit ${unit + 1}: ρ̂ = ${values[unit]!.toPrecision(3)}`, 1);
  g.fillStyle = '#444';
  g.fillText('0', L, H - 18);
  g.textAlign = 'right';
  g.fillText(top.toPrecision(2), L + pw, H - 18);
  g.textAlign = 'center';
  g.fillText(`average activation ρ̂ⱼ over the held-out set (mean ${mean.toPrecision(3)})`, W / 2, H - 4);
  g.textAlign = 'left';
}

/** One small canvas reused for every tile (drawn, then copied scaled). */
let scratch: HTMLCanvasElement | null = null;

/** A gray image of one row of `m`, `zoom` screen pixels per input pixel, values in [lo, hi] → black … white. */
function putRow(g: CanvasRenderingContext2D, m: Matrix, row: number, side: number, x: number, y: number, size: number, lo: number, hi: number): void {
  const img = new ImageData(side, side);
  for (let p = 0; p < side * side; p++) {
    const v = Math.round(((m.data[row * m.cols + p]! - lo) / (hi - lo)) * 255);
    const c = Math.max(0, Math.min(255, v));
    img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = c;
    img.data[4 * p + 3] = 255;
  }
  scratch ??= document.createElement('canvas');
  const tmp = scratch;
  if (tmp.width !== side || tmp.height !== side) [tmp.width, tmp.height] = [side, side];
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(tmp, x, y, size, size);
}

/**
 * Rows of labeled images: the clean inputs, what the network saw (when corrupted)
 * and the reconstructions. Examples that do not fit one line wrap into blocks.
 */
export function drawReconstructions(cv: HTMLCanvasElement, rows: { label: string; m: Matrix }[], side: number, range: [number, number]): void {
  const W = availableWidth(cv);
  const n = rows[0]?.m.rows ?? 0;
  const labelW = 86;
  const gap = 3;
  const fit = Math.max(1, Math.min(n, Math.floor((W - labelW) / (side + gap))));
  const blocks = Math.ceil(n / fit);
  // Balanced blocks (5 + 5 rather than 8 + 2).
  const perLine = Math.ceil(n / blocks);
  const size = Math.max(8, Math.min(Math.max(side * 3, 56), Math.floor((W - labelW) / perLine) - gap));
  const blockH = rows.length * (size + gap) + gap;
  const H = blocks * blockH + (blocks - 1) * 6;
  const g = fitCanvas(cv, W, H);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#333';
  for (let bl = 0; bl < blocks; bl++) {
    rows.forEach((r, i) => {
      const y = bl * (blockH + 6) + gap + i * (size + gap);
      g.fillText(r.label, 2, y + size / 2 + 4);
      for (let k = bl * perLine; k < Math.min(n, (bl + 1) * perLine); k++) putRow(g, r.m, k, side, labelW + (k - bl * perLine) * (size + gap), y, size, range[0], range[1]);
    });
  }
}

/** The held-out inputs (rows of `heldOut`) that excite one unit most, in one line. */
export function drawTopInputs(cv: HTMLCanvasElement, heldOut: Matrix, rows: number[], side: number, range: [number, number]): void {
  const W = availableWidth(cv);
  const gap = 3;
  const size = Math.max(side, Math.min(side * 2, Math.floor((W - gap * rows.length) / Math.max(1, rows.length))));
  const g = fitCanvas(cv, W, size + 2 * gap);
  rows.forEach((r, k) => putRow(g, heldOut, r, side, k * (size + gap), gap, size, range[0], range[1]));
}

/** Images (rows of `m`, side × side) in a grid of `cols` columns, touching, as large as the width allows. */
export function drawImageGrid(cv: HTMLCanvasElement, m: Matrix, side: number, cols: number, range: [number, number], maxWidth = 480): void {
  const W = Math.min(maxWidth, availableWidth(cv));
  const rows = Math.ceil(m.rows / cols);
  const size = Math.max(4, Math.floor(W / cols));
  const g = fitCanvas(cv, size * cols, size * rows);
  for (let k = 0; k < m.rows; k++) putRow(g, m, k, side, (k % cols) * size, Math.floor(k / cols) * size, size, range[0], range[1]);
}

/** An RGBA picture (viz/latent.ts latentScatter) scaled to the canvas width, with a caption line below. */
export function drawRgba(cv: HTMLCanvasElement, img: { width: number; height: number; rgba: Uint8ClampedArray }, caption: string, maxWidth = 480): void {
  const W = Math.min(maxWidth, availableWidth(cv));
  const H = Math.round((W * img.height) / img.width);
  const g = fitCanvas(cv, W, H + 16);
  scratch ??= document.createElement('canvas');
  const tmp = scratch;
  [tmp.width, tmp.height] = [img.width, img.height];
  tmp.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(tmp, 0, 0, W, H);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#333';
  g.fillText(caption, 2, H + 12);
}
