// Strict shapes for every object a user writes (configuration files, network
// specs, optimizer and model options): a small declarative schema per object
// lists its known keys and their types. `checkShape` refuses an unknown key
// (suggesting the nearest known one) and a value of the wrong type (saying
// what it got), so a typo or a string where a number belongs never trains
// with a default. Ranges and cross-field rules stay with the code that uses
// the values (resolveSpec, the optimizers, checkConfig).

import { SpecError } from './errors.js';

/** The type of one field. */
export type Shape =
  | 'number'
  | 'integer'
  | 'boolean'
  | 'string'
  | 'function'
  /** Anything (checked elsewhere). */
  | 'any'
  | { readonly list: Shape }
  | { readonly anyOf: readonly Shape[]; readonly describe: string }
  | ObjectShape
  | TaggedShape;

/** An object with known keys; `required` keys must be present. */
export interface ObjectShape {
  readonly fields: Readonly<Record<string, Shape>>;
  readonly required?: readonly string[];
  /** A hint shown with a missing required key, e.g. "a path to an IDX images file". */
  readonly hints?: Readonly<Record<string, string>>;
}

/**
 * An object whose known keys depend on one tag key (e.g. `method`, `source`,
 * `type`): `variants[tag]` lists the other keys of that variant.
 */
export interface TaggedShape {
  readonly tag: string;
  readonly variants: Readonly<Record<string, ObjectShape>>;
}

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key nearest to `key` (case-insensitive edit distance, at most about a third of its length), or null. */
export function nearestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const a = key.toLowerCase();
    const b = k.toLowerCase();
    // Same word in another case, or an abbreviation (eps → epsilon), count as close.
    const d = a === b ? 0.5 : a.length >= 3 && (b.startsWith(a) || a.startsWith(b)) ? 1 : editDistance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.ceil(key.length / 3)) ? best : null;
}

/** "the string \"no\"", "the number 3", "null", "a list", "an object", "true". */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list ${short(v)}`;
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number':
      return `the number ${v}`;
    case 'boolean':
      return String(v);
    case 'object':
      return ArrayBuffer.isView(v) ? `a ${v.constructor.name}` : `an object ${short(v)}`;
    case 'undefined':
      return 'nothing';
    default:
      return `a ${typeof v}`;
  }
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function expected(s: Shape): string {
  if (typeof s === 'string') {
    return { number: 'a number', integer: 'an integer', boolean: 'true or false', string: 'a string', function: 'a function', any: 'a value' }[s];
  }
  if ('list' in s) return 'a list';
  if ('anyOf' in s) return s.describe;
  return 'an object';
}

function matches(v: unknown, s: Shape): boolean {
  switch (s) {
    case 'number':
      return typeof v === 'number' && !Number.isNaN(v);
    case 'integer':
      return typeof v === 'number' && (Number.isInteger(v) || v === Infinity);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'function':
      return typeof v === 'function';
    case 'any':
      return true;
  }
  if ('list' in s) return Array.isArray(v);
  if ('anyOf' in s) return s.anyOf.some((a) => matches(v, a));
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * Checks `value` against `shape`; `path` names it in messages (e.g. "network",
 * "optimizer"; "" for the top level). Throws SpecError naming the key and path.
 */
export function checkShape(value: unknown, shape: Shape, path: string): void {
  const name = path || 'the value';
  if (!matches(value, shape)) throw new SpecError(`${name} must be ${expected(shape)}, got ${describeValue(value)}`);
  if (typeof shape === 'string') return;
  if ('list' in shape) {
    (value as unknown[]).forEach((item, i) => checkShape(item, shape.list, `${path}[${i}]`));
    return;
  }
  if ('anyOf' in shape) {
    // The first alternative of the value's own kind decides (a string, a list, an object).
    const alt = shape.anyOf.find((a) => matches(value, a));
    if (alt) checkShape(value, alt, path);
    return;
  }
  const obj = value as Record<string, unknown>;
  if ('tag' in shape) {
    const tags = Object.keys(shape.variants);
    const tag = obj[shape.tag];
    if (typeof tag !== 'string' || !Object.hasOwn(shape.variants, tag)) {
      throw new SpecError(`${join(path, shape.tag)} must be one of ${tags.join(', ')}, got ${typeof tag === 'string' ? JSON.stringify(tag) : describeValue(tag)}`);
    }
    const variant = shape.variants[tag]!;
    const all = new Set(tags.flatMap((t) => Object.keys(shape.variants[t]!.fields)));
    for (const key of Object.keys(obj)) {
      if (key === shape.tag || Object.hasOwn(variant.fields, key)) continue;
      if (all.has(key)) {
        const owners = tags.filter((t) => Object.hasOwn(shape.variants[t]!.fields, key));
        throw new SpecError(`${join(path, key)} does not apply to ${join(path, shape.tag)} ${tag} (it is a setting of ${owners.join(', ')})`);
      }
    }
    checkObject(obj, variant, path, [shape.tag, ...Object.keys(variant.fields)]);
    return;
  }
  checkObject(obj, shape, path, Object.keys(shape.fields));
}

function checkObject(obj: Record<string, unknown>, shape: ObjectShape, path: string, known: string[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const near = nearestKey(key, known);
    throw new SpecError(`${join(path, key)} is not a known key${near ? ` (did you mean ${join(path, near)}?)` : ` (known keys: ${known.join(', ')})`}`);
  }
  for (const key of shape.required ?? []) {
    if (obj[key] === undefined) {
      const hint = shape.hints?.[key];
      throw new SpecError(`${join(path, key)} is required${hint ? ` (${hint})` : ''}`);
    }
  }
  for (const [key, s] of Object.entries(shape.fields)) {
    // undefined is "not set" (the library's optional fields); JSON has no undefined.
    if (obj[key] !== undefined) checkShape(obj[key], s, join(path, key));
  }
}
