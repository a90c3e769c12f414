// A small TOML emitter for lock files: one layout, stable key order, inline tables for
// small records (as in PEP 751's example), so diffs of a lock stay readable.

/** A TOML value this emitter writes. */
export type TomlValue = string | number | boolean | TomlValue[] | { [key: string]: TomlValue };

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** A key, quoted when it is not a bare key. */
export function tomlKey(key: string): string {
  return BARE_KEY.test(key) ? key : JSON.stringify(key);
}

/** A value on one line (JSON string escapes are valid TOML basic-string escapes). */
export function tomlInline(value: TomlValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlInline).join(', ')}]`;
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${tomlKey(k)} = ${tomlInline(v)}`).join(', ')} }`;
}

/** `key = value` lines of a table; arrays of inline tables get one element per line. */
export function tomlLines(table: Record<string, TomlValue | undefined>): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(table)) {
    if (v === undefined) continue;
    if (
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((x) => typeof x === 'object' && !Array.isArray(x))
    ) {
      out.push(`${tomlKey(k)} = [`, ...v.map((x) => `    ${tomlInline(x)},`), ']');
    } else out.push(`${tomlKey(k)} = ${tomlInline(v)}`);
  }
  return out.join('\n');
}
