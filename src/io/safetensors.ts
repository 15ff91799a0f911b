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

export function decodeSafetensors(bytes: Uint8Array, name = 'safetensors file'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new FormatError(`${name} is ${bytes.length} bytes long: too short for a safetensors header`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length) throw new FormatError(`${name}: header length ${n} does not fit in ${bytes.length} bytes (corrupt or truncated file)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new FormatError(`${name}: header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + n;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32' && e.dtype !== 'F64') throw new FormatError(`${name}: tensor ${key} has dtype ${e.dtype}; only F32 and F64 are supported`);
    const size = e.dtype === 'F32' ? 4 : 8;
    const [b, end] = e.data_offsets ?? [];
    const count = Array.isArray(e.shape) ? e.shape.reduce((a, c) => a * c, 1) : NaN;
    if (!Number.isInteger(b) || !Number.isInteger(end) || end - b !== count * size || dataStart + end > bytes.length) {
      throw new FormatError(`${name}: tensor ${key} (shape [${e.shape}], offsets [${e.data_offsets}]) does not match the file's ${bytes.length - dataStart} data bytes`);
    }
    const copy = bytes.slice(dataStart + b, dataStart + end);
    const data = e.dtype === 'F32' ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
    tensors[key] = { dtype: e.dtype, shape: e.shape, data };
  }
  return { tensors, metadata };
}
