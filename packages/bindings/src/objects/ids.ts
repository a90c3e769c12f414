import { createHash, randomBytes } from 'node:crypto';
import { BindingError } from '../errors.js';

// An id is 32 bytes as 64 hex digits, like Cloudflare's: 24 bytes that name the object (a hash of
// the name, or random) and 8 bytes of a checksum keyed by the namespace, so `idFromString` can
// refuse an id that some other namespace made (Cloudflare refuses those too).
const BODY = 24;
const HEX = /^[0-9a-f]{64}$/;

function checksum(namespace: string, body: Buffer): Buffer {
  return createHash('sha256')
    .update('pyworkers-do-check\0')
    .update(namespace)
    .update('\0')
    .update(body)
    .digest()
    .subarray(0, 32 - BODY);
}

function make(namespace: string, body: Buffer): string {
  return Buffer.concat([body, checksum(namespace, body)]).toString('hex');
}

/** The id `idFromName(name)` gives in `namespace`: the same name always names the same object. */
export function idFromName(namespace: string, name: string): string {
  const body = createHash('sha256')
    .update('pyworkers-do-name\0')
    .update(namespace)
    .update('\0')
    .update(name)
    .digest()
    .subarray(0, BODY);
  return make(namespace, body);
}

/** A new random id in `namespace` (`newUniqueId()`). */
export function newUniqueId(namespace: string): string {
  return make(namespace, randomBytes(BODY));
}

/** True when `id` is a well-formed id that `namespace` made. */
export function isIdOf(namespace: string, id: string): boolean {
  if (!HEX.test(id)) return false;
  const raw = Buffer.from(id, 'hex');
  return raw.subarray(BODY).equals(checksum(namespace, raw.subarray(0, BODY)));
}

/** `idFromString(id)`: the id itself, or a clear error when it is not one of this namespace's. */
export function idFromString(namespace: string, binding: string, id: unknown): string {
  if (typeof id !== 'string' || !HEX.test(id)) {
    throw new BindingError(
      'ERR_DO_ID',
      `Durable Object binding '${binding}': idFromString() needs 64 hex digits, got ${typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id}`,
      { hint: 'pass a string that id.toString() gave for an id of this namespace' },
    );
  }
  if (!isIdOf(namespace, id)) {
    throw new BindingError(
      'ERR_DO_ID',
      `Durable Object binding '${binding}': id ${id} was not made by this namespace (${namespace})`,
      { hint: 'ids only work in the namespace (class) that made them' },
    );
  }
  return id;
}
