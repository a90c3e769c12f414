/** A zod issue path as a TOML/JSON key path: `.packages[2].name` (empty for the root). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}
