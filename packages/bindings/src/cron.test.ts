import { describe, expect, it } from 'vitest';
import { parseCron } from './cron.js';

describe('parseCron', () => {
  const at = (iso: string) => new Date(iso);

  it('gives the next UTC run for the forms Cloudflare documents', () => {
    expect(parseCron('*/15 * * * *').next(at('2026-01-01T00:07:30Z')).toISOString()).toBe(
      '2026-01-01T00:15:00.000Z',
    );
    expect(parseCron('0 12 * * MON').next(at('2026-01-01T00:00:00Z')).toISOString()).toBe(
      '2026-01-05T12:00:00.000Z',
    );
    expect(parseCron('0 0 L * *').next(at('2026-02-03T00:00:00Z')).toISOString()).toBe(
      '2026-02-28T00:00:00.000Z',
    );
    expect(parseCron('30 9 * JAN,JUN 1-5').next(at('2026-02-01T00:00:00Z')).toISOString()).toBe(
      '2026-06-01T09:30:00.000Z',
    );
    expect(parseCron('0 0 * * 5#2').next(at('2026-03-01T00:00:00Z')).toISOString()).toBe(
      '2026-03-13T00:00:00.000Z',
    );
  });

  it('the next run is strictly after the given time, and matches() tells a firing minute', () => {
    const s = parseCron('0 * * * *');
    expect(s.next(at('2026-01-01T01:00:00Z')).toISOString()).toBe('2026-01-01T02:00:00.000Z');
    expect(s.matches(at('2026-01-01T01:00:42Z'))).toBe(true);
    expect(s.matches(at('2026-01-01T01:01:00Z'))).toBe(false);
  });

  it('refuses bad expressions, naming them', () => {
    expect(() => parseCron('* * *')).toThrow(
      /cron trigger "\* \* \*": has 3 fields, a cron trigger has 5/,
    );
    expect(() => parseCron('0 * * * * *')).toThrow(/has 6 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/cron trigger "61 \* \* \* \*"/);
    expect(() => parseCron('* * * * FOO')).toThrow(/ERR_CRON|cron trigger/);
  });
});
