// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON { name: { dtype, shape, data_offsets: [begin, end] },
// "__metadata__": { string: string } }, then the tensors' bytes. Browser-safe.

export type DType = 'F32' | 'F64';

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array;
}

export class FormatError extends Error {
  override name = 'FormatError';
}

export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new FormatError(`tensor ${name}: shape [${t.shape}] needs ${count} values, has ${t.data.length}`);
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned.
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const t = tensors[name]!;
    const want = t.dtype === 'F32' ? Float32Array : Float64Array;
    const arr = t.data instanceof want ? t.data : want.from(t.data);
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), at);
    at += arr.byteLength;
  }
  return out;
}

/**
 * Decodes a safetensors file, refusing (FormatError naming the file and the
 * tensor) anything not well formed: a header length that does not fit, a
 * header that is not UTF-8 JSON of an object, entries that are not
 * { dtype, shape, data_offsets }, shapes that are not lists of integers ≥ 0,
 * data_offsets that are not a pair of integers 0 ≤ begin ≤ end, sizes that do
 * not match dtype × shape, tensors that overlap, leave gaps or run past the
 * end, bytes after the last tensor, and __metadata__ that is not an object of
 * strings.
 */
export function decodeSafetensors(bytes: Uint8Array, name = 'safetensors file'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${name}: expected the file's bytes (a Uint8Array)`);
  if (bytes.length < 8) throw new FormatError(`${name} is ${bytes.length} bytes long: too short for a safetensors header`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 < 2n || n64 > BigInt(bytes.length - 8)) throw new FormatError(`${name}: header length ${n64} does not fit in ${bytes.length} bytes (corrupt or truncated file)`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new FormatError(`${name}: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw new FormatError(`${name}: header must be a JSON object, got ${kind(header)}`);
  const dataStart = 8 + n;
  const dataBytes = bytes.length - dataStart;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  const spans: { key: string; begin: number; end: number }[] = [];
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isObject(entry)) throw new FormatError(`${name}: __metadata__ must be an object of strings, got ${kind(entry)}`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new FormatError(`${name}: __metadata__.${k} must be a string, got ${kind(v)}`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const where = `${name}: tensor ${key}`;
    if (key === '__proto__' || key === '') throw new FormatError(`${where} has a name that is not allowed`);
    if (!isObject(entry)) throw new FormatError(`${where} must be an object { dtype, shape, data_offsets }, got ${kind(entry)}`);
    const extra = Object.keys(entry).find((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra !== undefined) throw new FormatError(`${where} has an unknown field ${JSON.stringify(extra)} (expected dtype, shape, data_offsets)`);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (dtype !== 'F32' && dtype !== 'F64') throw new FormatError(`${where} has dtype ${JSON.stringify(dtype)}; only F32 and F64 are supported`);
    const size = dtype === 'F32' ? 4 : 8;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FormatError(`${where}: shape must be a list of integers ≥ 0, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) {
      throw new FormatError(`${where}: data_offsets must be a pair of integers [begin, end], got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin < 0 || end < begin) throw new FormatError(`${where}: data_offsets [${begin}, ${end}] must satisfy 0 ≤ begin ≤ end`);
    if (end > dataBytes) throw new FormatError(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${dataBytes} data bytes`);
    // Compare sizes without forming a product that could overflow: the count cannot exceed the data bytes.
    let count = 1;
    for (const d of shape as number[]) count = Math.min(count * d, dataBytes + 1);
    if ((end - begin) !== count * size) throw new FormatError(`${where}: shape [${shape}] of ${dtype} needs ${count * size} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    spans.push({ key, begin, end });
    tensors[key] = { dtype, shape: [...(shape as number[])], data: new Float64Array(0) };
  }
  // The tensors must tile the data section exactly: no overlap, no gap, nothing after the last.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin < at) throw new FormatError(`${name}: tensor ${s.key} (data_offsets [${s.begin}, ${s.end}]) overlaps the tensor before it`);
    if (s.begin > at) throw new FormatError(`${name}: ${s.begin - at} bytes of the data section before tensor ${s.key} belong to no tensor`);
    at = s.end;
  }
  if (at !== dataBytes) throw new FormatError(`${name}: ${dataBytes - at} bytes after the last tensor belong to no tensor (corrupt file)`);
  for (const s of spans) {
    const t = tensors[s.key]!;
    const copy = bytes.slice(dataStart + s.begin, dataStart + s.end);
    t.data = t.dtype === 'F32' ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
  }
  return { tensors, metadata };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `the ${typeof v} ${String(v)}`;
}
