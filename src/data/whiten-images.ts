// Whitening of whole images in the frequency domain, as Olshausen & Field did
// for the images of the UFLDL sparse autoencoder exercise (its IMAGES.mat): each
// image's spectrum is multiplied by the filter R(f) = f·exp(−(f/f₀)⁴), f₀ = 0.4·N,
// which flattens natural images' 1/f amplitude spectrum and damps the highest
// frequencies. Browser-safe.

import { SpecError } from '../spec.js';
import type { GrayImage } from './gray.js';

/** In-place radix-2 FFT of (re, im) of length n (a power of two); inverse when `inverse`. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) (re[i] = re[i]! / n), (im[i] = im[i]! / n);
}

/** 2-D FFT of an n × n complex array, row-major, in place. */
function fft2(re: Float64Array, im: Float64Array, n: number, inverse: boolean): void {
  const r = new Float64Array(n);
  const i = new Float64Array(n);
  for (let y = 0; y < n; y++) {
    r.set(re.subarray(y * n, (y + 1) * n));
    i.set(im.subarray(y * n, (y + 1) * n));
    fft(r, i, inverse);
    re.set(r, y * n);
    im.set(i, y * n);
  }
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) (r[y] = re[y * n + x]!), (i[y] = im[y * n + x]!);
    fft(r, i, inverse);
    for (let y = 0; y < n; y++) (re[y * n + x] = r[y]!), (im[y * n + x] = i[y]!);
  }
}

/**
 * The centred square crop of side 2^k (the largest that fits), mean removed,
 * whitened by R(f) = f·exp(−(f/f₀)⁴), f₀ = 0.4·N, and scaled to unit variance.
 */
export function whitenImage(img: GrayImage): GrayImage {
  let n = 1;
  while (n * 2 <= Math.min(img.width, img.height)) n *= 2;
  if (n < 8) throw new SpecError(`whitenImage: image ${img.name ?? ''} (${img.width} × ${img.height}) is too small`);
  const x0 = Math.floor((img.width - n) / 2);
  const y0 = Math.floor((img.height - n) / 2);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  let mean = 0;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) mean += re[y * n + x] = img.data[(y0 + y) * img.width + x0 + x]!;
  mean /= n * n;
  for (let k = 0; k < n * n; k++) re[k] = re[k]! - mean;
  fft2(re, im, n, false);
  const f0 = 0.4 * n;
  for (let y = 0; y < n; y++) {
    const fy = y < n / 2 ? y : y - n;
    for (let x = 0; x < n; x++) {
      const fx = x < n / 2 ? x : x - n;
      const f = Math.hypot(fx, fy);
      const g = f * Math.exp(-((f / f0) ** 4));
      re[y * n + x] = re[y * n + x]! * g;
      im[y * n + x] = im[y * n + x]! * g;
    }
  }
  fft2(re, im, n, true);
  let ss = 0;
  for (let k = 0; k < n * n; k++) ss += re[k]! * re[k]!;
  const std = Math.sqrt(ss / (n * n)) || 1;
  const data = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) data[k] = re[k]! / std;
  return { width: n, height: n, data, name: img.name };
}
