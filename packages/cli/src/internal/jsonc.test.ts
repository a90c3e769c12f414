import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, jsonKeyLine, stripJsonc } from './jsonc.js';

describe('stripJsonc', () => {
  it('drops comments and trailing commas but not look-alikes inside strings', () => {
    const text = `{
  // line comment
  "url": "https://example.com//path", /* block */
  "glob": "a/*b*/c",
  "list": [1, 2,],
  "obj": { "a": "x,", },
}`;
    const stripped = stripJsonc(text);
    expect(stripped.split('\n').length).toBe(text.split('\n').length);
    expect(JSON.parse(stripped)).toEqual({
      url: 'https://example.com//path',
      glob: 'a/*b*/c',
      list: [1, 2],
      obj: { a: 'x,' },
    });
  });
});

describe('jsonErrorOffset and jsonKeyLine', () => {
  it('finds where JSON breaks and which line holds a key', () => {
    expect(jsonErrorOffset('{"a": 1}')).toBeUndefined();
    const bad = '{\n  "a": 1\n  "b": 2\n}';
    expect(bad.slice(jsonErrorOffset(bad))).toMatch(/^"b"/);
    expect(jsonKeyLine('{\n  "vars": {\n    "X": 1\n  }\n}', ['vars', 'X'])).toBe(3);
  });
});
