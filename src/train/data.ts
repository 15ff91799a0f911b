// Loads and preprocesses the examples a configuration names. Node only.

import { readFileSync } from 'node:fs';
import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { loadMnist } from '../data/mnist.js';
import { loadFashionMnist } from '../data/fashion.js';
import { loadIdxDataset, loadIdxImages } from '../data/idx-node.js';
import { imagesToMatrix } from '../data/idx.js';
import { parseCsv } from '../data/csv.js';
import { naturalImages } from '../data/natural.js';
import { loadImageFolder } from '../data/images-node.js';
import { whitenImage } from '../data/whiten-images.js';
import { normalizePatches, samplePatches } from '../data/patches.js';
import { applyWhitening, fitPCA, whiteningFromJSON, whiteningToJSON, zcaWhiten, type WhiteningJSON } from '../data/whitening.js';
import { filterClasses, selectRows, type LabeledSet } from '../data/labels.js';
import type { DataConfig, WhitenConfig } from './config.js';

export interface Examples {
  X: Matrix;
  labels?: Uint8Array;
}

export interface TrainingData {
  train: Examples;
  test?: Examples;
  classes?: number;
  /** Width × height when each example is an image (for pictures of features and reconstructions). */
  image: { width: number; height: number } | null;
  /** What was applied to the raw examples; saved with the model. */
  preprocessing: { whitening: WhiteningJSON | null; patches?: { size: number; normalize: string; whitenImages?: boolean; zcaEpsilon?: number } };
}

function limitRows(set: LabeledSet, limit?: number): LabeledSet {
  if (!limit || limit >= set.X.rows) return set;
  return selectRows(set, Array.from({ length: limit }, (_, i) => i));
}

function labeled(set: LabeledSet): Examples {
  return { X: set.X, labels: set.labels };
}

function squareSide(cols: number): { width: number; height: number } | null {
  const s = Math.round(Math.sqrt(cols));
  return s * s === cols ? { width: s, height: s } : null;
}

async function loadRaw(d: DataConfig, seed: number): Promise<Omit<TrainingData, 'preprocessing'> & { patches?: TrainingData['preprocessing']['patches'] }> {
  switch (d.source) {
    case 'mnist':
    case 'fashion-mnist': {
      let { train, test } = d.source === 'mnist' ? loadMnist({ seed, testFraction: d.testFraction }) : loadFashionMnist({ dtype: 'float32' });
      if (d.classes) {
        train = filterClasses(train, d.classes);
        test = filterClasses(test, d.classes);
      }
      train = limitRows(train, d.limit);
      return { train: labeled(train), test: labeled(test), classes: train.classes, image: { width: 28, height: 28 } };
    }
    case 'idx': {
      if (d.labels) {
        const train = limitRows(loadIdxDataset(d.images, d.labels), d.limit);
        const test = d.testImages && d.testLabels ? loadIdxDataset(d.testImages, d.testLabels) : undefined;
        const img = loadIdxImages(d.images);
        return { train: labeled(train), test: test && labeled(test), classes: train.classes, image: { width: img.width, height: img.height } };
      }
      const img = loadIdxImages(d.images);
      let X = imagesToMatrix(img);
      if (d.limit && d.limit < X.rows) X = { rows: d.limit, cols: X.cols, data: X.data.subarray(0, d.limit * X.cols) };
      return { train: { X }, image: { width: img.width, height: img.height } };
    }
    case 'csv': {
      const parsed = parseCsv(readFileSync(d.path, 'utf8'), { header: d.header, labelColumn: d.labelColumn, name: d.path });
      let X = parsed.X;
      let labels = parsed.labels;
      if (d.limit && d.limit < X.rows) {
        X = { rows: d.limit, cols: X.cols, data: X.data.subarray(0, d.limit * X.cols) };
        labels = labels?.subarray(0, d.limit);
      }
      return { train: { X, labels }, classes: parsed.classes, image: squareSide(X.cols) };
    }
    case 'natural':
    case 'images': {
      let images = d.source === 'natural' ? await naturalImages() : loadImageFolder(d.dir);
      if (d.patches.whitenImages) images = images.map(whitenImage);
      let raw = samplePatches(images, { count: d.patches.count, size: d.patches.size, seed });
      const eps = d.patches.zcaEpsilon;
      if (eps !== undefined) raw = zcaWhiten(raw, fitPCA(raw, { epsilon: eps }));
      const normalize = d.patches.normalize ?? 'ufldl';
      const X = normalize === 'ufldl' ? normalizePatches(raw) : raw;
      return { train: { X }, image: { width: d.patches.size, height: d.patches.size }, patches: { size: d.patches.size, normalize, whitenImages: !!d.patches.whitenImages, ...(eps !== undefined ? { zcaEpsilon: eps } : {}) } };
    }
  }
}

/** Loads, samples, normalizes and (optionally) whitens the training data; the test set gets the same transform. */
export async function loadTrainingData(d: DataConfig, seed: number, whiten?: WhitenConfig): Promise<TrainingData> {
  const raw = await loadRaw(d, seed);
  let whitening: WhiteningJSON | null = null;
  let { train, test } = raw;
  if (whiten) {
    const fit = fitPCA(train.X, { epsilon: whiten.epsilon });
    whitening = whiteningToJSON(fit, { kind: whiten.kind, k: whiten.components });
    const w = whiteningFromJSON(whitening);
    train = { ...train, X: applyWhitening(train.X, w) };
    if (test) test = { ...test, X: applyWhitening(test.X, w) };
  }
  if (train.X.rows === 0) throw new SpecError(`data source ${d.source} produced no examples`);
  return {
    train,
    test,
    classes: raw.classes,
    image: whitening?.kind === 'pca' ? null : raw.image,
    preprocessing: { whitening, patches: raw.patches },
  };
}
