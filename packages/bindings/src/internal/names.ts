import { createHash } from 'node:crypto';

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A file name for a user-given name (namespace id, database or bucket name). Names that are
 * plain stay readable; anything else (slashes, dots only, unicode, long) becomes a hash, so a
 * name can never point outside the state directory.
 */
export function safeFileName(name: string): string {
  if (SAFE.test(name) && !name.includes('..')) return name;
  return `h-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}
