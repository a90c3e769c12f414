// The key-value API's keys and values, checked against Cloudflare's limits before a write.
import { serialize } from 'node:v8';
import { BindingError, type BindingErrorCode } from '../errors.js';
import { utf8Length } from '../internal/args.js';

/** Cloudflare's limits for the key-value API of a Durable Object. */
export const DO_STORAGE_LIMITS = {
  maxKeyBytes: 2048,
  maxValueBytes: 128 * 1024,
  maxKeysPerCall: 128,
} as const;

/** An error of the storage of the Durable Object `label`, named in its message. */
export function storageError(
  label: string,
  code: BindingErrorCode,
  message: string,
  hint?: string,
): BindingError {
  return new BindingError(code, `Durable Object '${label}': ${message}`, hint ? { hint } : {});
}

/** `key` as a key of `op`: a string within the size limit. */
export function checkKey(label: string, op: string, key: unknown): string {
  if (typeof key !== 'string')
    throw storageError(
      label,
      'ERR_DO_KEY',
      `${op}(): keys are strings, got ${typeof key}`,
      'pass a string key',
    );
  const len = utf8Length(key);
  if (len > DO_STORAGE_LIMITS.maxKeyBytes)
    throw storageError(
      label,
      'ERR_DO_KEY',
      `${op}(): key is ${len} bytes, more than the limit of ${DO_STORAGE_LIMITS.maxKeyBytes}`,
      'use a shorter key',
    );
  return key;
}

/** `keys` as the keys of one call of `op`: within the limit of keys per call. */
export function checkKeys(label: string, op: string, keys: unknown[]): string[] {
  if (keys.length > DO_STORAGE_LIMITS.maxKeysPerCall)
    throw storageError(
      label,
      'ERR_DO_KEY',
      `${op}(): ${keys.length} keys in one call, more than the limit of ${DO_STORAGE_LIMITS.maxKeysPerCall}`,
      'split the call into several',
    );
  return keys.map((k) => checkKey(label, op, k));
}

/** `value` serialised for `put(key)`: defined, cloneable and within the size limit. */
export function encodeValue(label: string, key: string, value: unknown): Buffer {
  if (value === undefined)
    throw storageError(
      label,
      'ERR_DO_VALUE',
      `put(${JSON.stringify(key)}): the value is undefined`,
      'use delete() to remove a key',
    );
  let bytes: Buffer;
  try {
    bytes = serialize(value);
  } catch (error) {
    throw new BindingError(
      'ERR_DO_VALUE',
      `Durable Object '${label}': put(${JSON.stringify(key)}): the value cannot be stored (${(error as Error).message})`,
      {
        cause: error,
        hint: 'store structured-clone data: objects, arrays, Map, Set, Date, bytes, numbers, strings',
      },
    );
  }
  if (bytes.byteLength > DO_STORAGE_LIMITS.maxValueBytes)
    throw storageError(
      label,
      'ERR_DO_VALUE',
      `put(${JSON.stringify(key)}): the value is ${bytes.byteLength} bytes serialised, more than the limit of ${DO_STORAGE_LIMITS.maxValueBytes}`,
      'split it over several keys, or use sql.exec() for large rows',
    );
  return bytes;
}

/** The entries of `put({key: value, ...})` (or a Map), checked and serialised. */
export function encodeEntries(label: string, value: unknown): [string, Buffer][] {
  const pairs =
    value instanceof Map
      ? [...value.entries()]
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.entries(value)
        : null;
  if (!pairs)
    throw storageError(
      label,
      'ERR_DO_KEY',
      'put(): pass a key and a value, or an object of entries',
      'put("k", v) or put({k: v})',
    );
  checkKeys(
    label,
    'put',
    pairs.map(([k]) => k),
  );
  return pairs.map(([k, v]) => [k as string, encodeValue(label, k as string, v)]);
}
