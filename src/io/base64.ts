// Base64 of float64 vectors (little-endian bytes), so values round-trip exactly
// through JSON: optimizer state (src/optim/state.ts) and whitening transforms
// (src/data/whitening.ts). Browser-safe (no Buffer).

import { SpecError } from '../spec.js';

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

// Standard base64 through btoa/atob (Node ≥ 16 and browsers): a character-by-character
// encoder took seconds for an L-BFGS state of a 100 000-parameter model, which a
// Ctrl-C checkpoint cannot afford.
export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 0x8000) parts.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  return btoa(parts.join(''));
}

/** Decodes standard base64; errors (SpecError) start with `what`. */
export function base64Decode(s: string, what: string): Uint8Array {
  if (s.length % 4 !== 0) throw new SpecError(`${what}: base64 length ${s.length} is not a multiple of 4`);
  const bad = s.search(/[^A-Za-z0-9+/=]|=(?=[^=])|={3}/);
  if (bad >= 0) throw new SpecError(`${what}: invalid base64 character ${JSON.stringify(s[bad])} at ${bad}`);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
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
