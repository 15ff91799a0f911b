// Fashion-MNIST (60 000 train / 10 000 test 28 × 28 grayscale images, 10 classes)
// from Debian's `dataset-fashion-mnist` package. Node only.
//
// Debian installs the four gzipped IDX files under /usr/share/datasets/fashion-mnist/:
//   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
//   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
// $FASHION_MNIST_DIR, when set, is searched first (plain or .gz files).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabeledSet } from './labels.js';
import { loadIdxDataset } from './idx-node.js';
import { aptGet } from './apt.js';

export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';
export const FASHION_MNIST_INSTALL = `apt-get install -y ${FASHION_MNIST_PACKAGE}`;
/** Where Debian's package puts the files, then other conventional prefixes. */
export const FASHION_MNIST_DIRS = ['/usr/share/datasets/fashion-mnist', '/usr/local/share/datasets/fashion-mnist'];
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

function findFile(dir: string, base: string): string | null {
  for (const name of [base + '.gz', base]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The directories searched, in order. */
export function fashionMnistSearchPath(): string[] {
  const env = process.env.FASHION_MNIST_DIR;
  return env ? [env, ...FASHION_MNIST_DIRS] : [...FASHION_MNIST_DIRS];
}

/** The first directory of the search path (default: $FASHION_MNIST_DIR, then FASHION_MNIST_DIRS) that holds all four IDX files, or null. */
export function locateFashionMnist(searchPath: string[] = fashionMnistSearchPath()): string | null {
  for (const dir of searchPath) {
    if (Object.values(FILES).every((f) => findFile(dir, f) !== null)) return dir;
  }
  return null;
}

const cache = new Map<string, { train: LabeledSet; test: LabeledSet }>();

/**
 * Fashion-MNIST's 60 000 training and 10 000 test images, pixels scaled to [0, 1],
 * rows of 784 pixels (row-major 28 × 28), 10 classes (FASHION_MNIST_CLASSES).
 * Cached in memory per (directory, dtype). Float64 needs 440 MB; pass dtype 'float32' to halve it.
 */
export function loadFashionMnist(
  opts: { dir?: string; searchPath?: string[]; dtype?: 'float64' | 'float32' } = {},
): { train: LabeledSet; test: LabeledSet } {
  const searchPath = opts.searchPath ?? fashionMnistSearchPath();
  const dir = opts.dir ?? locateFashionMnist(searchPath);
  if (!dir) {
    throw new Error(
      `Fashion-MNIST not found in ${searchPath.join(', ')}. Install Debian's package ` +
        `(\`sudo ${FASHION_MNIST_INSTALL}\`, or call installFashionMnist()), or set FASHION_MNIST_DIR to a directory ` +
        `holding ${Object.values(FILES).join(', ')} (optionally .gz)`,
    );
  }
  const dtype = opts.dtype ?? 'float64';
  const key = `${dir}\0${dtype}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const file = (base: string): string => {
    const p = findFile(dir, base);
    if (!p) throw new Error(`Fashion-MNIST: ${join(dir, base)}[.gz] is missing`);
    return p;
  };
  const train = loadIdxDataset(file(FILES.trainImages), file(FILES.trainLabels), { dtype, classes: 10 });
  const test = loadIdxDataset(file(FILES.testImages), file(FILES.testLabels), { dtype, classes: 10 });
  if (train.X.cols !== 784 || test.X.cols !== 784) {
    throw new Error(`Fashion-MNIST in ${dir}: expected 28 × 28 images, got ${train.X.cols} and ${test.X.cols} pixels per image`);
  }
  const out = { train, test };
  cache.set(key, out);
  return out;
}

/**
 * Installs Debian's `dataset-fashion-mnist` with `apt-get install -y` (through `sudo -n`
 * when not root; runs `apt-get update` first if apt does not know the package yet).
 * Resolves to the directory that now holds the files.
 */
export async function installFashionMnist(opts: { echo?: boolean } = {}): Promise<string> {
  const found = locateFashionMnist();
  if (found) return found;
  await aptGet(['install', '-y', '--no-install-recommends', FASHION_MNIST_PACKAGE], {
    purpose: `installing Fashion-MNIST (${FASHION_MNIST_PACKAGE})`,
    privileged: true,
    echo: opts.echo,
  });
  const dir = locateFashionMnist();
  if (!dir) throw new Error(`${FASHION_MNIST_PACKAGE} was installed but its files are not in ${FASHION_MNIST_DIRS.join(' or ')}`);
  return dir;
}
