import { describe, expect, it } from 'vitest';
import { lineOf, scanToml } from './toml-scan.js';

const DOC = `# comment with = and [brackets]
title = "x"
text = """
many
lines [not a table]
"""

[tool.pyworkers]
vars = { A = "1", "quoted.key" = 'lit' }
routes = [
  "/a",   # first
  { host = "h", path = "/p" },
]

[[servers]]
name = "one"

[[servers]]
name = "two"
`;

describe('scanToml', () => {
  it('gives the line of keys, inline-table keys, array elements and array tables', () => {
    expect(lineOf(DOC, ['title'])).toBe(2);
    expect(lineOf(DOC, ['tool', 'pyworkers'])).toBe(8);
    expect(lineOf(DOC, ['tool', 'pyworkers', 'vars', 'quoted.key'])).toBe(9);
    expect(lineOf(DOC, ['tool', 'pyworkers', 'routes', 1])).toBe(12);
    expect(lineOf(DOC, ['tool', 'pyworkers', 'routes', 1, 'path'])).toBe(12);
    expect(lineOf(DOC, ['servers', 1, 'name'])).toBe(19);
    // A missing key is reported where its table is.
    expect(lineOf(DOC, ['tool', 'pyworkers', 'limits', 'memory_mb'])).toBe(8);
  });

  it('skips multi-line strings instead of reading tables inside them', () => {
    const paths = scanToml(DOC).map((n) => n.path.join('.'));
    expect(paths).not.toContain('not a table');
    expect(paths).toContain('text');
  });
});
