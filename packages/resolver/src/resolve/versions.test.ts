import { describe, expect, it } from 'vitest';
import {
  isPrerelease,
  matchesSpecifier,
  pinsExactly,
  specifierAllowsPrereleases,
  versionKey,
} from './versions.js';

describe('PEP 440 helpers', () => {
  it('gives equal versions one key and different ones different keys', () => {
    expect(versionKey('1.0')).toBe(versionKey('1.0.0'));
    expect(versionKey('1.0RC1')).toBe(versionKey('1.0rc1'));
    expect(versionKey('1.0-1')).toBe(versionKey('1.0.post1'));
    const distinct = [
      '1.0',
      '1.0.post0',
      '1.0.post1',
      '1.0.dev0',
      '1.0.post1.dev2',
      '1.0+local',
      '2!1.0',
    ];
    expect(new Set(distinct.map(versionKey)).size).toBe(distinct.length);
  });

  it('tells pre-releases and explicit pre-release specifiers', () => {
    expect(isPrerelease('1.1.dev0')).toBe(true);
    expect(isPrerelease('1.0.post1')).toBe(false);
    expect(specifierAllowsPrereleases('>=1.0b1')).toBe(true);
    expect(specifierAllowsPrereleases('>=1.0,<2')).toBe(false);
    expect(specifierAllowsPrereleases('==1.*')).toBe(false);
  });

  it('matches specifiers and exact pins', () => {
    expect(matchesSpecifier('1.4.9', '~=1.4.0')).toBe(true);
    expect(matchesSpecifier('1.5.0', '~=1.4.0')).toBe(false);
    expect(matchesSpecifier('1.0.post1', '>=1.0')).toBe(true);
    expect(pinsExactly('==2.3.0', '2.3')).toBe(true);
    expect(pinsExactly('>=2.3.0', '2.3.0')).toBe(false);
    expect(pinsExactly('==2.*', '2.3.0')).toBe(false);
  });
});
