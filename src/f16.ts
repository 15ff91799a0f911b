// IEEE 754 binary16 ("half") on the host: a number → its 16-bit pattern with one
// round-to-nearest-even (straight from float64, no double rounding through f32),
// back to a number exactly, and a packer in WGSL's pack2x16float layout (element
// 2k in the low 16 bits of word k, 2k + 1 in the high 16; an odd count pads the
// last high half with 0). The GPU reads the words with unpack2x16float (core
// WGSL, no shader-f16 feature), so the data's storage halves while every
// arithmetic operation stays float32.
//
// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Normals
// 2^(e−15)·(1 + f/1024) for e in 1…30, largest 65504; subnormals f·2⁻²⁴ for
// e = 0 (down to 5.96e−8, smallest normal 2⁻¹⁴ ≈ 6.10e−5) — kept, not flushed:
// unpack2x16float on SwiftShader (and any conforming WGSL) returns them exactly.

import { SpecError } from './errors.js';

/** The largest finite half: (2 − 2⁻¹⁰)·2¹⁵. Values rounding above it (|x| ≥ 65520) overflow. */
export const F16_MAX = 65504;

const view = new DataView(new ArrayBuffer(8));

/** Round half to even of a non-negative m whose fraction is exact (m < 2⁵³). */
function roundHalfEven(m: number): number {
  const f = Math.floor(m);
  const d = m - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The half bits of `x` rounded to nearest, ties to even (±Infinity for |x| ≥ 65520, 0x7e00 for NaN). */
export function toF16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  // The exponent of a as a float64 (exact, from its bits; a float64 subnormal is far below 2⁻²⁴).
  view.setFloat64(0, a);
  const e = ((view.getUint32(0) >>> 20) & 0x7ff) - 1023;
  if (e < -14) {
    // Subnormal range: multiples of 2⁻²⁴ (a rounded 1024 is the smallest normal, 0x0400, itself).
    return sign | roundHalfEven(a * 2 ** 24);
  }
  // a = m·2^(e−10) with m in [1024, 2048): round m, carry into the exponent.
  let m = roundHalfEven(a * 2 ** (10 - e));
  let ex = e;
  if (m === 2048) {
    m = 1024;
    ex++;
  }
  if (ex > 15) return sign | 0x7c00;
  return sign | ((ex + 15) << 10) | (m - 1024);
}

/** The value of half bits `h` (exact in float64). */
export function fromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1024 + f) * 2 ** (e - 25);
}

/** x rounded to the nearest half (ties to even), as a number. */
export function roundF16(x: number): number {
  return fromF16Bits(toF16Bits(x));
}

/**
 * Refuses a value that overflows a half (rounds to ±Infinity: |x| ≥ 65520),
 * naming it and where it sits. `what` names the matrix, `cols` its width.
 */
function overflow(what: string, x: number, i: number, cols: number): SpecError {
  return new SpecError(`${what}[${Math.floor(i / cols)}][${i % cols}] = ${x} overflows half precision (dataPrecision 'f16' holds |x| ≤ ${F16_MAX}); use dataPrecision 'f32' or rescale the data`);
}

/**
 * values[start … start + count) as halves packed two per u32 (pack2x16float
 * layout; an odd count pads with a zero half). `what`/`cols` name a refused
 * value: `what`[row][col] counted from `start`'s row 0 of the matrix.
 */
export function packF16(values: ArrayLike<number>, start = 0, count = values.length - start, what = 'X', cols = 1): Uint32Array {
  const out = new Uint32Array(Math.ceil(count / 2));
  for (let k = 0; k < count; k++) {
    const x = values[start + k]!;
    const h = toF16Bits(x);
    if ((h & 0x7c00) === 0x7c00 && Number.isFinite(x)) throw overflow(what, x, start + k, cols);
    out[k >>> 1]! |= (k & 1 ? h << 16 : h) >>> 0;
  }
  return out;
}

/** A copy of `values` with each one rounded to the nearest half (the values an f16 data set holds); refuses overflow as packF16. */
export function roundedToF16(values: ArrayLike<number>, what = 'X', cols = 1): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const r = roundF16(x);
    if (!Number.isFinite(r) && Number.isFinite(x)) throw overflow(what, x, i, cols);
    out[i] = r;
  }
  return out;
}

/** The storage precisions of a data set's examples (DatasetOptions.dataPrecision). */
export const DATA_PRECISIONS = ['f32', 'f16'] as const;
export type DataPrecision = (typeof DATA_PRECISIONS)[number];

/** Checks a dataPrecision option: 'f32' (default) or 'f16'. */
export function checkDataPrecision(v: unknown, key = 'dataPrecision'): DataPrecision {
  if (v === undefined) return 'f32';
  if (v !== 'f32' && v !== 'f16') throw new SpecError(`${key} must be 'f32' or 'f16', got ${JSON.stringify(v)}`);
  return v;
}
