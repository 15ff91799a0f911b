import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePng, readPng, writeFileAtomic, writePng } from '../src/viz/png-node.js';
import { featureTiles } from '../src/viz/tiles.js';
import { decodeGray } from '../src/data/images.js';
import { lossCurveSvg } from '../src/viz/curve.js';
import { Rng } from '../src/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnn-png-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writePng', () => {
  it('round-trips an image through pngjs, atomically, creating folders', () => {
    const rng = new Rng(9);
    const W = Float64Array.from({ length: 25 * 64 }, () => rng.normal());
    const img = featureTiles(W, 25, 64, { zoom: 2 });
    const path = join(dir, 'sub', 'features.png');
    writePng(path, img);
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['features.png']); // no temporary file left
    const back = readPng(path);
    expect(back.width).toBe(img.width);
    expect(back.height).toBe(img.height);
    expect(Buffer.compare(Buffer.from(back.rgba), Buffer.from(img.rgba))).toBe(0);
    // The data loader reads it as the same gray levels.
    const g = decodeGray(readFileSync(path), path);
    for (let p = 0; p < g.data.length; p += 97) expect(Math.round(g.data[p]! * 255)).toBe(img.rgba[p * 4]);
    // Overwriting replaces the file whole.
    writePng(path, { width: 1, height: 1, rgba: Uint8ClampedArray.from([1, 2, 3, 255]) });
    expect(Array.from(readPng(path).rgba)).toEqual([1, 2, 3, 255]);
  });

  it('reports bad sizes and unwritable paths', () => {
    expect(() => encodePng({ width: 2, height: 2, rgba: new Uint8ClampedArray(4) })).toThrow(/2 × 2 needs 16 bytes, got 4/);
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => writePng(join(dir, 'file', 'x.png'), { width: 1, height: 1, rgba: new Uint8ClampedArray(4) })).toThrow(/file/);
    expect(() => readPng(join(dir, 'file'))).toThrow(/cannot read PNG .*file/);
  });

  it('writes an SVG loss curve as text', () => {
    const path = join(dir, 'loss.svg');
    writeFileAtomic(path, lossCurveSvg([{ x: 0, y: 1 }, { x: 1, y: 0.5 }], { title: 'loss' }));
    expect(readFileSync(path, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });
});
