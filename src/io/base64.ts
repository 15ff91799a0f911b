// Base64 of float64 vectors (little-endian bytes), so values round-trip exactly
// through JSON: optimizer state (src/train/state.ts) and whitening transforms
// (src/data/whitening.ts). Browser-safe (no Buffer).

import { SpecError } from '../spec.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let s = '';
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i]!;
      const b1 = i + 1 < end ? bytes[i + 1]! : 0;
      const b2 = i + 2 < end ? bytes[i + 2]! : 0;
      s += B64[b0 >> 2]! + B64[((b0 & 3) << 4) | (b1 >> 4)]!;
      s += i + 1 < end ? B64[((b1 & 15) << 2) | (b2 >> 6)]! : '=';
      s += i + 2 < end ? B64[b2 & 63]! : '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Decodes standard base64; errors (SpecError) start with `what`. */
export function base64Decode(s: string, what: string): Uint8Array {
  if (s.length % 4 !== 0) throw new SpecError(`${what}: base64 length ${s.length} is not a multiple of 4`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const c = [0, 1, 2, 3].map((k) => {
      const ch = s.charCodeAt(i + k);
      if (ch === 61 /* = */ && i + 4 === s.length && k >= 4 - pad) return 0;
      const v = ch < 128 ? B64_INDEX[ch]! : -1;
      if (v < 0) throw new SpecError(`${what}: invalid base64 character ${JSON.stringify(s[i + k])} at ${i + k}`);
      return v;
    });
    const n = (c[0]! << 18) | (c[1]! << 12) | (c[2]! << 6) | c[3]!;
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** The float64 values of v as little-endian bytes. */
export function float64ToBytes(v: Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  const out = new Uint8Array(v.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setFloat64(i * 8, v[i]!, true);
  return out;
}

/** Little-endian bytes back to float64 values; errors (SpecError) start with `what`. */
export function bytesToFloat64(b: Uint8Array, what: string): Float64Array {
  if (b.length % 8 !== 0) throw new SpecError(`${what}: ${b.length} bytes is not a whole number of float64 values`);
  if (LITTLE_ENDIAN) return new Float64Array(b.slice().buffer);
  const out = new Float64Array(b.length / 8);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
  return out;
}

/** base64 of v's float64 little-endian bytes. */
export function float64ToBase64(v: Float64Array): string {
  return base64Encode(float64ToBytes(v));
}

/** The float64 vector encoded by float64ToBase64; errors (SpecError) start with `what`. */
export function base64ToFloat64(s: string, what: string): Float64Array {
  return bytesToFloat64(base64Decode(s, what), what);
}
