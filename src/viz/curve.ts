// Loss curves as standalone SVG. Browser-safe and pure.

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  points: Point[];
  /** CSS color; default from a fixed palette. */
  color?: string;
}

export interface CurveOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (points with y ≤ 0 are left out). */
  logY?: boolean;
  /** Pixels. Defaults 640 × 400. */
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" step (1, 2 or 5 × 10^k) giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/** Tick label: fixed decimals matching the step, or exponent form for very large/small values. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) {
    const [m, e] = v.toExponential(6).split('e') as [string, string];
    return `${String(Number(m))}e${Number(e)}`;
  }
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

interface Axis {
  lo: number;
  hi: number;
  ticks: { v: number; label: string }[];
}

function linearAxis(lo: number, hi: number, pad: boolean): Axis {
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const step = niceStep(hi - lo);
  if (pad) {
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
  }
  const ticks: Axis['ticks'] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    const v = k * step;
    ticks.push({ v, label: formatTick(Math.abs(v) < step * 1e-9 ? 0 : v, step) });
  }
  return { lo, hi, ticks };
}

// Log axis in log10 units.
function logAxis(lo: number, hi: number): Axis {
  let a = Math.log10(lo);
  let b = Math.log10(hi);
  if (b - a < 1e-12) {
    a -= 0.5;
    b += 0.5;
  }
  const ticks: Axis['ticks'] = [];
  const label = (v: number): string => formatTick(v, v);
  if (b - a >= 1) {
    a = Math.floor(a + 1e-9);
    b = Math.ceil(b - 1e-9);
    const every = Math.max(1, Math.ceil((b - a) / 8));
    for (let k = a; k <= b; k += every) ticks.push({ v: k, label: label(10 ** k) });
    if (b - a <= 2) {
      for (let k = a; k < b; k++) for (const m of [2, 5]) ticks.push({ v: k + Math.log10(m), label: label(m * 10 ** k) });
      ticks.sort((p, q) => p.v - q.v);
    }
  } else {
    // Less than a decade: nice linear ticks placed on the log scale.
    const lin = linearAxis(10 ** a, 10 ** b, false);
    for (const t of lin.ticks) if (t.v > 0) ticks.push({ v: Math.log10(t.v), label: t.label });
  }
  return { lo: a, hi: b, ticks };
}

/**
 * A line chart of one or more series as an SVG document: axes with tick labels,
 * light grid, optional title, axis labels and legend. Non-finite points (and, on
 * a log axis, y ≤ 0) break the line instead of distorting the scale.
 */
export function lossCurveSvg(points: Point[] | Series[], opts: CurveOptions = {}): string {
  const series: Series[] =
    points.length > 0 && 'points' in (points[0] as object) ? (points as Series[]) : [{ label: '', points: points as Point[] }];
  const W = opts.width ?? 640;
  const H = opts.height ?? 400;
  const logY = opts.logY === true;
  const ok = (p: Point): boolean => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0);
  let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
  for (const s of series) {
    for (const p of s.points) {
      if (!ok(p)) continue;
      xlo = Math.min(xlo, p.x);
      xhi = Math.max(xhi, p.x);
      ylo = Math.min(ylo, p.y);
      yhi = Math.max(yhi, p.y);
    }
  }
  const L = 72, R = 20, T = opts.title ? 40 : 18, B = opts.xLabel ? 52 : 34;
  const pw = W - L - R, ph = H - T - B;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  );
  if (opts.title) out.push(`<text x="${L + pw / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="#222">${esc(opts.title)}</text>`);
  if (xlo > xhi) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#888">no data</text>`, '</svg>');
    return out.join('\n');
  }
  const xa = linearAxis(xlo, xhi, false);
  const ya = logY ? logAxis(ylo, yhi) : linearAxis(ylo, yhi, true);
  const fx = (x: number): number => L + ((x - xa.lo) / (xa.hi - xa.lo)) * pw;
  const fy = (y: number): number => T + ph - (((logY ? Math.log10(y) : y) - ya.lo) / (ya.hi - ya.lo)) * ph;
  const fyAxis = (v: number): number => T + ph - ((v - ya.lo) / (ya.hi - ya.lo)) * ph;
  const r = (v: number): string => (Math.round(v * 100) / 100).toString();
  // Grid and ticks.
  out.push('<g stroke="#e6e6e6" stroke-width="1">');
  for (const t of xa.ticks) out.push(`<line x1="${r(fx(t.v))}" y1="${T}" x2="${r(fx(t.v))}" y2="${T + ph}"/>`);
  for (const t of ya.ticks) out.push(`<line x1="${L}" y1="${r(fyAxis(t.v))}" x2="${L + pw}" y2="${r(fyAxis(t.v))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#333" stroke-width="1"/>`);
  out.push('<g fill="#333">');
  for (const t of xa.ticks) out.push(`<text x="${r(fx(t.v))}" y="${T + ph + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  for (const t of ya.ticks) out.push(`<text x="${L - 6}" y="${r(fyAxis(t.v) + 4)}" text-anchor="end">${esc(t.label)}</text>`);
  out.push('</g>');
  if (opts.xLabel) out.push(`<text x="${L + pw / 2}" y="${H - 12}" text-anchor="middle" fill="#222">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    out.push(`<text transform="translate(16 ${T + ph / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(opts.yLabel)}${logY ? ' (log scale)' : ''}</text>`);
  }
  // Lines.
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const segs: string[][] = [[]];
    for (const p of s.points) {
      if (ok(p)) segs[segs.length - 1]!.push(`${r(fx(p.x))},${r(fy(p.y))}`);
      else if (segs[segs.length - 1]!.length > 0) segs.push([]);
    }
    for (const seg of segs) {
      if (seg.length === 1) {
        const [cx, cy] = seg[0]!.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${esc(color)}"/>`);
      } else if (seg.length > 1) {
        out.push(`<polyline fill="none" stroke="${esc(color)}" stroke-width="1.8" stroke-linejoin="round" points="${seg.join(' ')}"/>`);
      }
    }
  });
  // Legend.
  const named = series.filter((s) => s.label);
  if (named.length > 0) {
    const lw = 24 + Math.max(...named.map((s) => s.label.length)) * 7;
    const lx = L + pw - lw - 8;
    out.push(`<rect x="${lx}" y="${T + 8}" width="${lw}" height="${named.length * 18 + 6}" fill="#ffffff" fill-opacity="0.85" stroke="#ccc"/>`);
    series.forEach((s, k) => {
      if (!s.label) return;
      const i = named.indexOf(s);
      const y = T + 8 + 14 + i * 18;
      const color = s.color ?? PALETTE[k % PALETTE.length]!;
      out.push(`<line x1="${lx + 6}" y1="${y - 4}" x2="${lx + 20}" y2="${y - 4}" stroke="${esc(color)}" stroke-width="2.5"/>`);
      out.push(`<text x="${lx + 24}" y="${y}" fill="#222">${esc(s.label)}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n');
}
