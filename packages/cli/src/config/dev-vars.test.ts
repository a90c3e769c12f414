import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { parseDevVars } from './dev-vars.js';

describe('parseDevVars', () => {
  it('reads KEY=value lines the way wrangler .dev.vars files are written', () => {
    expect(
      parseDevVars(
        [
          '# local secrets',
          'API_TOKEN=abc123',
          'export REGION = eu-west  # trailing comment',
          'GREETING="hello # not a comment\\nsecond line"',
          "RAW='a\\nb'",
          '',
          'EMPTY=',
        ].join('\n'),
      ),
    ).toEqual({
      API_TOKEN: 'abc123',
      REGION: 'eu-west',
      GREETING: 'hello # not a comment\nsecond line',
      RAW: 'a\\nb',
      EMPTY: '',
    });
  });

  it('names the file and line of a bad entry and how to fix it', () => {
    try {
      parseDevVars('OK=1\nnot a secret\n', '/p/.dev.vars');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect(e).toMatchObject({ where: '/p/.dev.vars:2' });
      expect((e as CliError).hint).toMatch(/NAME=value/);
    }
    expect(() => parseDevVars('A="open', 'f')).toThrow(/unclosed " quote/);
  });
});
