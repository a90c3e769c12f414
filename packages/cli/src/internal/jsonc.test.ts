import { describe, expect, it } from 'vitest';
import { jsonKeyLine, parseJsonc } from './jsonc.js';

describe('parseJsonc', () => {
  it('takes comments and trailing commas but not look-alikes inside strings', () => {
    const text = `{
  // line comment
  "url": "https://example.com//path", /* block */
  "glob": "a/*b*/c",
  "list": [1, 2,],
  "obj": { "a": "x,", },
}`;
    expect(parseJsonc(text)).toEqual({
      url: 'https://example.com//path',
      glob: 'a/*b*/c',
      list: [1, 2],
      obj: { a: 'x,' },
    });
  });

  it('says on which line the JSON breaks', () => {
    expect(() => parseJsonc('{\n  "a": 1\n  "b": 2\n}')).toThrow(
      expect.objectContaining({ line: 3, message: expect.stringMatching(/line 3/) }),
    );
  });
});

describe('jsonKeyLine', () => {
  it('finds the key at a path, not a same-named key elsewhere or inside a string', () => {
    const text = `{
  "note": "\\"main\\": is not here",
  "env": { "staging": { "main": "other.py" } },
  "vars": {
    "X": 1
  },
  "main": "src/entry.py",
  "routes": ["/a", "/b"]
}`;
    expect(jsonKeyLine(text, ['main'])).toBe(7);
    expect(jsonKeyLine(text, ['vars', 'X'])).toBe(5);
    expect(jsonKeyLine(text, ['env', 'staging', 'main'])).toBe(3);
    expect(jsonKeyLine(text, ['routes', 1])).toBe(8);
    // The deepest part that exists; nothing when even the first key is missing.
    expect(jsonKeyLine(text, ['vars', 'MISSING'])).toBe(4);
    expect(jsonKeyLine(text, ['compatibility_date'])).toBeUndefined();
  });
});
