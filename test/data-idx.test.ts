import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx, idxImages, imagesToMatrix, isGzip, parseIdx } from '../src/data/idx.js';
import { loadIdxDataset, loadIdxImages, loadIdxLabels } from '../src/data/idx-node.js';
import { loadFashionMnist, locateFashionMnist } from '../src/data/fashion.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnn-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A hand-built file: 2 images of 2 × 3 pixels.
const images = Uint8Array.from([
  0x00, 0x00, 0x08, 0x03, // magic 0x00000803
  0x00, 0x00, 0x00, 0x02, // count 2
  0x00, 0x00, 0x00, 0x02, // rows 2
  0x00, 0x00, 0x00, 0x03, // cols 3
  0, 51, 102, 153, 204, 255,
  255, 0, 255, 0, 255, 0,
]);
const labels = Uint8Array.from([0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x02, 7, 3]);

describe('parseIdx', () => {
  it('reads big-endian dimensions and the data of a hand-built image file', () => {
    const idx = parseIdx(images, 'tiny-images');
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 51, 102, 153, 204, 255, 255, 0, 255, 0, 255, 0]);
    const im = idxImages(idx, 'tiny-images');
    expect(im).toMatchObject({ count: 2, height: 2, width: 3 });
    const X = imagesToMatrix(im);
    expect(X.rows).toBe(2);
    expect(X.cols).toBe(6);
    expect(Array.from(X.data.subarray(0, 6))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(Array.from(parseIdx(labels, 'tiny-labels').data)).toEqual([7, 3]);
  });

  it('reads dimensions ≥ 2^24 (unsigned, big-endian)', () => {
    const bytes = encodeIdx([1, 1], [9]);
    expect(bytes.subarray(0, 4)).toEqual(Uint8Array.from([0, 0, 8, 2]));
    expect(parseIdx(bytes, 'x').dims).toEqual([1, 1]);
    const big = new Uint8Array(8);
    big.set([0, 0, 8, 1, 0x01, 0x00, 0x00, 0x00]);
    expect(() => parseIdx(big, 'big')).toThrow(/big: truncated IDX file: dimensions 16777216 need 16777224 bytes/);
  });

  it('encodeIdx is the inverse of parseIdx', () => {
    expect(encodeIdx([2, 2, 3], parseIdx(images, 'a').data)).toEqual(images);
  });

  it('names the file on a bad magic number', () => {
    const bad = images.slice();
    bad[0] = 0x12;
    expect(() => parseIdx(bad, 'data/bad.idx')).toThrow(/data\/bad\.idx: not an IDX file: bad magic number 0x12000803/);
    const float = images.slice();
    float[2] = 0x0d;
    expect(() => parseIdx(float, 'f.idx')).toThrow(/f\.idx: IDX element type 0x0d/);
    const zeroDims = Uint8Array.from([0, 0, 8, 0]);
    expect(() => parseIdx(zeroDims, 'z.idx')).toThrow(/z\.idx: bad magic number 0x00000800: zero dimensions/);
  });

  it('names the file on truncation, in the header or the data, and on trailing bytes', () => {
    expect(() => parseIdx(images.subarray(0, 3), 'short.idx')).toThrow(/short\.idx: truncated IDX file: 3 bytes/);
    expect(() => parseIdx(images.subarray(0, 10), 'hdr.idx')).toThrow(/hdr\.idx: truncated IDX file: 10 bytes, but the header of a 3-dimensional array needs 16/);
    expect(() => parseIdx(images.subarray(0, images.length - 1), 'cut.idx')).toThrow(
      /cut\.idx: truncated IDX file: dimensions 2 × 2 × 3 need 28 bytes \(16 header \+ 12 data\), the file has 27/,
    );
    const long = new Uint8Array(images.length + 2);
    long.set(images);
    expect(() => parseIdx(long, 'long.idx')).toThrow(/long\.idx: IDX file has 2 bytes beyond/);
  });

  it('refuses gzip bytes with a hint', () => {
    const gz = gzipSync(images);
    expect(isGzip(gz)).toBe(true);
    expect(() => parseIdx(gz, 'g.gz')).toThrow(/g\.gz: is gzip-compressed/);
  });
});

describe('IDX files on disk', () => {
  const imgPath = join(dir, 'imgs-idx3-ubyte');
  const gzPath = join(dir, 'imgs-idx3-ubyte.gz');
  const labPath = join(dir, 'labels-idx1-ubyte.gz');
  writeFileSync(imgPath, images);
  writeFileSync(gzPath, gzipSync(images));
  writeFileSync(labPath, gzipSync(labels));

  it('reads plain and gzip-compressed files alike', () => {
    expect(loadIdxImages(gzPath)).toEqual(loadIdxImages(imgPath));
    expect(Array.from(loadIdxLabels(labPath))).toEqual([7, 3]);
    const set = loadIdxDataset(gzPath, labPath);
    expect(set.X.rows).toBe(2);
    expect(set.classes).toBe(8);
    expect(Array.from(set.labels)).toEqual([7, 3]);
  });

  it('reports corrupt gzip, missing files, wrong kinds and count mismatches with the file names', () => {
    const broken = join(dir, 'broken.gz');
    writeFileSync(broken, gzipSync(images).subarray(0, 20));
    expect(() => loadIdxImages(broken)).toThrow(/broken\.gz: corrupt or truncated gzip data/);
    expect(() => loadIdxImages(join(dir, 'nope'))).toThrow(/cannot read IDX file .*nope/);
    expect(() => loadIdxLabels(imgPath)).toThrow(/imgs-idx3-ubyte: an IDX label file has 1 dimension/);
    expect(() => loadIdxImages(labPath)).toThrow(/labels-idx1-ubyte\.gz: an IDX image file has 3 dimensions/);
    const three = join(dir, 'three-labels.gz');
    writeFileSync(three, gzipSync(encodeIdx([3], [1, 2, 3])));
    expect(() => loadIdxDataset(gzPath, three)).toThrow(/imgs-idx3-ubyte\.gz holds 2 images but .*three-labels\.gz holds 3 labels/);
  });
});

describe('Fashion-MNIST location', () => {
  // A fake installation: 28 × 28 images, 3 train and 2 test, gzipped like Debian's.
  const fake = join(dir, 'fashion');
  const img = (count: number): Uint8Array => encodeIdx([count, 28, 28], Array.from({ length: count * 784 }, (_, i) => i % 256));
  it('finds a directory with the four files and loads it', () => {
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'train-images-idx3-ubyte.gz'), gzipSync(img(3)));
    writeFileSync(join(fake, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([3], [9, 0, 4])));
    writeFileSync(join(fake, 't10k-images-idx3-ubyte'), img(2));
    writeFileSync(join(fake, 't10k-labels-idx1-ubyte'), encodeIdx([2], [1, 2]));
    expect(locateFashionMnist([join(dir, 'missing'), fake])).toBe(fake);
    const { train, test } = loadFashionMnist({ searchPath: [fake], dtype: 'float32' });
    expect(train.X.rows).toBe(3);
    expect(train.X.cols).toBe(784);
    expect(train.X.data).toBeInstanceOf(Float32Array);
    expect(train.classes).toBe(10);
    expect(Array.from(test.labels)).toEqual([1, 2]);
    expect(train.X.data[255]).toBe(1);
  });

  it('says how to install it when absent', () => {
    expect(locateFashionMnist([join(dir, 'missing')])).toBeNull();
    expect(() => loadFashionMnist({ searchPath: [join(dir, 'missing')] })).toThrow(/Fashion-MNIST not found in .*missing.*apt-get install -y dataset-fashion-mnist/);
    expect(() => loadFashionMnist({ dir: join(dir, 'missing') })).toThrow(/train-images-idx3-ubyte\[\.gz\] is missing/);
  });
});
