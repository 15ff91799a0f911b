import { describe, expect, it } from 'vitest';
import { formatTick, lossCurveSvg, niceStep } from '../src/viz/curve.js';

function texts(svg: string): string[] {
  return Array.from(svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g), (m) => m[1]!);
}

function balanced(svg: string): boolean {
  // Every opened element is closed or self-closing.
  const open = (svg.match(/<[a-z]+[\s>]/g) ?? []).length;
  const selfClosed = (svg.match(/\/>/g) ?? []).length;
  const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
  return open === selfClosed + closed;
}

describe('lossCurveSvg', () => {
  const pts = Array.from({ length: 101 }, (_, i) => ({ x: i * 4, y: 2 * Math.exp(-i / 20) + 0.1 }));

  it('draws axes with nice tick labels, title and axis labels', () => {
    const svg = lossCurveSvg(pts, { title: 'Sparse AE <64-25-64>', xLabel: 'iteration', yLabel: 'J(W,b)' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(balanced(svg)).toBe(true);
    const t = texts(svg);
    expect(t).toContain('Sparse AE &lt;64-25-64&gt;');
    expect(t).toContain('iteration');
    expect(t).toContain('J(W,b)');
    for (const x of ['0', '100', '200', '300', '400']) expect(t).toContain(x);
    for (const y of ['0', '0.5', '1.0', '1.5', '2.0', '2.5']) expect(t).toContain(y);
    expect(svg.match(/<polyline/g)!.length).toBe(1);
    const coords = svg.match(/points="([^"]*)"/)![1]!.split(' ');
    expect(coords.length).toBe(101);
  });

  it('uses decades on a log axis, drops y ≤ 0 and breaks the line at non-finite values', () => {
    const data = [...pts, { x: 404, y: NaN }, { x: 408, y: 0.05 }, { x: 412, y: 0.04 }, { x: 416, y: 0 }];
    const svg = lossCurveSvg(data, { logY: true, yLabel: 'loss' });
    const t = texts(svg);
    for (const y of ['0.01', '0.1', '1', '10']) expect(t).toContain(y);
    expect(t).toContain('loss (log scale)');
    expect(svg.match(/<polyline/g)!.length).toBe(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('draws several series with a legend, and says when there is no data', () => {
    const svg = lossCurveSvg([
      { label: 'train', points: pts },
      { label: 'test', points: pts.map((p) => ({ x: p.x, y: p.y * 1.1 })) },
    ]);
    expect(texts(svg)).toEqual(expect.arrayContaining(['train', 'test']));
    expect(svg.match(/<polyline/g)!.length).toBe(2);
    expect(lossCurveSvg([])).toContain('no data');
    expect(lossCurveSvg([{ x: 1, y: -1 }], { logY: true })).toContain('no data');
    // A single point or a flat line still gets a usable axis.
    const flat = lossCurveSvg([{ x: 0, y: 3 }, { x: 1, y: 3 }]);
    expect(flat).not.toMatch(/NaN|Infinity/);
    expect(texts(flat)).toContain('3.0');
  });

  it('picks nice steps and formats ticks', () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(1)).toBe(0.2);
    expect(niceStep(400)).toBe(100);
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(2000, 500)).toBe('2000');
    expect(formatTick(1e-4, 1e-4)).toBe('1e-4');
    expect(formatTick(2.5e7, 5e6)).toBe('2.5e7');
  });
});
