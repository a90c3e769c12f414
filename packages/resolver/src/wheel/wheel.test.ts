import { describe, expect, it } from 'vitest';
import { buildWheel, wheelEntries } from '../../test/fixtures/wheel.js';
import { writeZip } from '../../test/fixtures/zip-write.js';
import { ResolverError } from '../errors.js';
import { openWheel, verifiedFiles } from './wheel.js';

const spec = {
  name: 'Demo.Pkg',
  version: '1.2.0',
  requiresDist: ['idna>=3', 'PySocks; extra == "socks"'],
  requiresPython: '>=3.9',
  extras: ['socks'],
};

function wheelError(entries: ReturnType<typeof wheelEntries>): string {
  try {
    verifiedFiles(openWheel(writeZip(entries), 'demo_pkg-1.2.0-py3-none-any.whl'));
  } catch (e) {
    expect(e).toBeInstanceOf(ResolverError);
    return (e as ResolverError).message;
  }
  throw new Error('expected a failure');
}

describe('openWheel', () => {
  it('reads core metadata from the .dist-info', () => {
    const w = buildWheel(spec);
    const wheel = openWheel(w.bytes, w.filename);
    expect(wheel.distInfo).toBe('demo_pkg-1.2.0.dist-info');
    expect(wheel.metadata()).toEqual({
      name: 'Demo.Pkg',
      version: '1.2.0',
      requiresDist: ['idna>=3', 'PySocks; extra == "socks"'],
      requiresPython: '>=3.9',
      providesExtra: ['socks'],
    });
  });

  it('refuses a wheel of an unknown major Wheel-Version', () => {
    const entries = wheelEntries(spec).map((e) =>
      e.name.endsWith('/WHEEL')
        ? { ...e, data: String(e.data).replace('Wheel-Version: 1.0', 'Wheel-Version: 2.0') }
        : e,
    );
    expect(() => openWheel(writeZip(entries), 'demo_pkg-1.2.0-py3-none-any.whl')).toThrow(
      /Wheel-Version 2\.0/,
    );
  });

  it('refuses a zip without METADATA', () => {
    expect(() => openWheel(writeZip([{ name: 'x.py', data: '' }]), 'x-1-py3-none-any.whl')).toThrow(
      /no \*\.dist-info\/METADATA/,
    );
  });
});

describe('verifiedFiles', () => {
  it('returns every file, checked, with .data/purelib folded to the top', () => {
    const w = buildWheel({
      ...spec,
      files: {
        'demo_pkg/__init__.py': 'X = 1\n',
        'demo_pkg-1.2.0.data/purelib/extra_mod.py': 'Y = 2\n',
        'demo_pkg-1.2.0.data/scripts/tool': '#!python\n',
      },
    });
    const files = verifiedFiles(openWheel(w.bytes, w.filename)).map((f) => f.path);
    expect(files).toContain('demo_pkg/__init__.py');
    expect(files).toContain('extra_mod.py');
    expect(files).not.toContain('tool');
    expect(files).toContain('demo_pkg-1.2.0.dist-info/RECORD');
  });

  it('refuses a file whose content does not match RECORD', () => {
    const entries = wheelEntries(spec).map((e) =>
      e.name.endsWith('__init__.py') ? { ...e, data: 'import os; os.system("evil")\n' } : e,
    );
    expect(wheelError(entries)).toContain('does not match its RECORD hash');
  });

  it('refuses a file missing from RECORD, and a RECORD row without its file', () => {
    const extra = [...wheelEntries(spec), { name: 'demo_pkg/sneaky.py', data: 'x' }];
    expect(wheelError(extra)).toContain('"demo_pkg/sneaky.py" is not listed in RECORD');
    const missing = wheelEntries(spec).filter((e) => !e.name.endsWith('__init__.py'));
    expect(wheelError(missing)).toContain('does not hold it');
  });

  it('refuses weak hashes', () => {
    const entries = wheelEntries(spec).map((e) =>
      e.name.endsWith('/RECORD')
        ? { ...e, data: String(e.data).replace(/^(demo_pkg\/__init__\.py),sha256=/m, '$1,md5=') }
        : e,
    );
    expect(wheelError(entries)).toContain('md5');
  });
});
