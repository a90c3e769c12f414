import { describe, expect, it } from 'vitest';
import { ResolverError } from './errors.js';
import { normalizeName, parseRequirement } from './requirement.js';

describe('parseRequirement', () => {
  it('splits name, extras, specifier and marker', () => {
    expect(
      parseRequirement('Flask_Login[Extra1, b] >= 2.0 , <3 ; python_version >= "3.12"'),
    ).toEqual({
      name: 'Flask_Login',
      key: 'flask-login',
      extras: ['extra1', 'b'],
      specifier: '>=2.0,<3',
      marker: 'python_version >= "3.12"',
    });
    expect(parseRequirement('requests').specifier).toBe('');
    expect(parseRequirement('pkg @ https://example.invalid/pkg-1.0-py3-none-any.whl').url).toBe(
      'https://example.invalid/pkg-1.0-py3-none-any.whl',
    );
  });

  it('names the bad requirement in its error', () => {
    expect(() => parseRequirement('flask >> 2')).toThrow(ResolverError);
    expect(() => parseRequirement('flask >> 2')).toThrow(/invalid requirement "flask >> 2"/);
  });

  it('normalises names per PEP 503', () => {
    expect(normalizeName('Zope.Interface__X')).toBe('zope-interface-x');
  });
});
