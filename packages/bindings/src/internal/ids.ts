import { randomBytes } from 'node:crypto';

/** A new random id (hex) for a blob, version or upload. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}
