import { BindingError } from '../errors.js';

/** Byte length of a string in UTF-8. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Bytes from what a worker may send as a body: string, Uint8Array, ArrayBuffer or a view. */
export function toBytes(value: unknown): Uint8Array | null {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

/** An options object (or undefined/null) from a positional argument. */
export function optionsArg(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)) {
    return value as Record<string, unknown>;
  }
  throw new BindingError(
    'ERR_BINDING_ARGS',
    `${where}: options must be an object, got ${describe(value)}`,
  );
}

/** A short description of a value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value === 'string'
    ? `the string ${JSON.stringify(value.slice(0, 40))}`
    : typeof value;
}

/** A string argument or a clear error. */
export function stringArg(where: string, name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  throw new BindingError(
    'ERR_BINDING_ARGS',
    `${where}: ${name} must be a string, got ${describe(value)}`,
  );
}

/** An optional finite number. */
export function numberOpt(where: string, name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  throw new BindingError(
    'ERR_BINDING_ARGS',
    `${where}: ${name} must be a number, got ${describe(value)}`,
  );
}
