// Natural photographs for sparse-autoencoder and whitening experiments, taken from
// Debian's `python3-skimage` package (scikit-image's sample images). Node only.
//
// First call: `apt-get download python3-skimage` (no install, no Python needed) into
// a temporary folder of the cache, `dpkg -x` it, copy the chosen photographs from
// .../skimage/data/ into the cache and delete the rest. Later calls read the cache;
// within a process the decoded images are kept in memory.
//
// Cache: $WGNN_CACHE_DIR/skimage, else $XDG_CACHE_HOME/webgpu-nn/skimage, else
// ~/.cache/webgpu-nn/skimage.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { aptGet, dpkg } from './apt.js';
import { loadImage } from './images-node.js';
import type { GrayImage } from './gray.js';

export const SKIMAGE_PACKAGE = 'python3-skimage';

/**
 * Photographs of natural scenes and objects in skimage/data/ (skimage 0.19, Debian 12).
 * Left out: synthetic or tiny test images (checkers, palettes, phantom, logo, text, page,
 * horse silhouette), microscopy (cell, ihc, retina, microaneurysms), hubble (mostly black).
 */
export const NATURAL_IMAGE_FILES = [
  'astronaut.png',
  'brick.png',
  'camera.png',
  'chelsea.png',
  'coffee.png',
  'grass.png',
  'gravel.png',
  'moon.png',
  'motorcycle_left.png',
  'motorcycle_right.png',
  'rocket.jpg',
] as const;

export function naturalImagesCacheDir(): string {
  if (process.env.WGNN_CACHE_DIR) return join(process.env.WGNN_CACHE_DIR, 'skimage');
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'webgpu-nn', 'skimage');
}

function cachedFiles(dir: string): string[] {
  return NATURAL_IMAGE_FILES.filter((f) => existsSync(join(dir, f)));
}

/** Finds the directory `skimage/data` inside an extracted package tree. */
function findSkimageData(root: string, depth = 0): string | null {
  if (depth > 8) return null;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return null;
  }
  for (const e of entries) {
    const p = join(root, e);
    if (e === 'skimage' && existsSync(join(p, 'data')) && statSync(join(p, 'data')).isDirectory()) return join(p, 'data');
  }
  for (const e of entries) {
    const p = join(root, e);
    if (statSync(p).isDirectory()) {
      const hit = findSkimageData(p, depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}

/**
 * Downloads python3-skimage with apt-get, extracts it with dpkg and copies the
 * photographs into `dir`. Resolves to the files now cached.
 */
export async function fetchNaturalImages(dir = naturalImagesCacheDir(), opts: { echo?: boolean } = {}): Promise<string[]> {
  const purpose = `fetching natural images (Debian package ${SKIMAGE_PACKAGE})`;
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, '.fetch-'));
  try {
    // apt-get download works as any user (it writes to the current directory).
    await aptGet(['download', SKIMAGE_PACKAGE], { purpose, privileged: false, cwd: work, echo: opts.echo });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`${purpose}: apt-get download left no .deb in ${work}`);
    const tree = join(work, 'tree');
    await dpkg('dpkg-deb', ['-x', join(work, deb), tree], purpose);
    const data = findSkimageData(tree);
    if (!data) throw new Error(`${purpose}: ${deb} has no skimage/data folder`);
    const copied: string[] = [];
    for (const f of NATURAL_IMAGE_FILES) {
      const src = join(data, f);
      if (!existsSync(src)) continue;
      // Copy then rename, so a concurrent reader never sees half a file.
      const tmp = join(work, f + '.part');
      copyFileSync(src, tmp);
      renameSync(tmp, join(dir, f));
      copied.push(f);
    }
    if (copied.length === 0) throw new Error(`${purpose}: none of ${NATURAL_IMAGE_FILES.join(', ')} is in ${deb}`);
    writeFileSync(join(dir, 'SOURCE.txt'), `Extracted from the Debian package ${deb} (scikit-image sample data, skimage/data/).\n`);
    return copied;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const memo = new Map<string, Promise<GrayImage[]>>();

/**
 * The natural photographs of NATURAL_IMAGE_FILES as grayscale images in [0, 1]
 * (each `name` is its file name). Fetched once with apt-get/dpkg into the cache
 * directory (see naturalImagesCacheDir), then read from there.
 */
export function naturalImages(opts: { cacheDir?: string; echo?: boolean } = {}): Promise<GrayImage[]> {
  const dir = opts.cacheDir ?? naturalImagesCacheDir();
  let p = memo.get(dir);
  if (!p) {
    p = (async () => {
      // A complete cache has every listed file; a package version lacking some is
      // remembered by SOURCE.txt, written only after a fetch.
      let files = cachedFiles(dir);
      if (files.length < NATURAL_IMAGE_FILES.length && !(files.length > 0 && existsSync(join(dir, 'SOURCE.txt')))) {
        try {
          files = await fetchNaturalImages(dir, { echo: opts.echo });
        } catch (e) {
          throw new Error(
            `${(e as Error).message}\nnaturalImages needs Debian's apt-get and dpkg (to fetch ${SKIMAGE_PACKAGE}) and write access to ${dir}. ` +
              `Alternatively put the photographs (PNG/JPEG) in a folder and use loadImageFolder(dir).`,
          );
        }
      }
      return files.map((f) => loadImage(join(dir, f)));
    })();
    memo.set(dir, p);
    p.catch(() => memo.delete(dir));
  }
  return p;
}
