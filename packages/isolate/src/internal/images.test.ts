import { describe, expect, it } from 'vitest';
import { nonZeroRuns } from './images.js';

describe('nonZeroRuns', () => {
  it('merges adjacent literal and reference spans and skips zero ones', () => {
    expect(
      nonZeroRuns([
        { kind: 'literal', start: 0, end: 4096 },
        { kind: 'reference', start: 4096, end: 12288 },
        { kind: 'zero', start: 12288, end: 20480 },
        { kind: 'literal', start: 20480, end: 20580 },
      ]),
    ).toEqual([0, 12288, 20480, 20580]);
    expect(nonZeroRuns([{ kind: 'zero', start: 0, end: 4096 }])).toEqual([]);
  });
});
