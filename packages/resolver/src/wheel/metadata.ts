// Core metadata (METADATA / PKG-INFO / PEP 658 files): RFC 822-style headers, the parts the
// resolver needs.
import { ResolverError } from '../errors.js';
import type { CoreMetadata } from '../source.js';

/** Parses the header block of a core metadata file into (repeatable) fields, lowercased keys. */
export function parseHeaders(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let last: { key: string; index: number } | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') break; // the body (description) follows the first blank line
    if (/^[ \t]/.test(line) && last) {
      const list = fields.get(last.key)!;
      list[last.index] = `${list[last.index]}\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const list = fields.get(key) ?? [];
    list.push(value);
    fields.set(key, list);
    last = { key, index: list.length - 1 };
  }
  return fields;
}

/**
 * Reads name, version, `Requires-Dist`, `Requires-Python` and `Provides-Extra`.
 * @param label names the file in errors (e.g. `flask-3.1.0-py3-none-any.whl`)
 */
export function parseCoreMetadata(text: string, label: string): CoreMetadata {
  const h = parseHeaders(text);
  const name = h.get('name')?.[0];
  const version = h.get('version')?.[0];
  if (!name || !version) {
    throw new ResolverError(
      'ERR_WHEEL',
      `the core metadata of ${label} has no ${name ? 'Version' : 'Name'} field`,
      { userError: false },
    );
  }
  const requiresPython = h.get('requires-python')?.[0];
  return {
    name,
    version,
    requiresDist: h.get('requires-dist') ?? [],
    ...(requiresPython ? { requiresPython } : {}),
    providesExtra: h.get('provides-extra') ?? [],
  };
}
