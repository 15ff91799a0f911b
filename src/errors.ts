// The engine's error for a bad network spec, option or data shape: its message
// names the offending value. Its own module so that spec.ts and the schema
// checker (schema.ts) can both throw it without importing each other.

export class SpecError extends Error {
  override name = 'SpecError';
}
