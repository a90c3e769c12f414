/** The part of a zod issue (v3 or v4) the formatter reads, so this package needs no zod. */
export interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  readonly keys?: readonly string[];
}

/** A zod issue path as a TOML/JSON key path: `.packages[2].name` (empty for the root). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/**
 * The one formatting of zod failures: each issue as `root.key[2]: message`, an unknown key
 * named by its own path. `root` is how the reader knows the value (`[tool.pyworkers]`,
 * `manifest`); issues beyond `max` are counted, not listed.
 * @example formatIssues(result.error.issues, { root: '[tool.pyworkers]' })
 * // '[tool.pyworkers].routes[2]: expected string'
 */
export function formatIssues(
  issues: readonly IssueLike[],
  options: { root?: string; max?: number } = {},
): string {
  const max = options.max ?? 3;
  const shown = issues.slice(0, max).map((issue) => {
    const unknownKey = issue.code === 'unrecognized_keys' && issue.keys?.length;
    const path = unknownKey ? [...issue.path, issue.keys![0]!] : issue.path;
    const message = unknownKey ? `unknown key "${issue.keys![0]}"` : issue.message;
    const where = `${options.root ?? ''}${issuePath(path)}`.replace(/^\./, '');
    return `${where || '(top level)'}: ${message}`;
  });
  if (issues.length > max) shown.push(`and ${issues.length - max} more`);
  return shown.join('; ');
}
