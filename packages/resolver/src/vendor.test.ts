import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildWheel,
  sha256Hex,
  type WheelSpec,
  wheelEntries,
  wheelFilename,
} from '../test/fixtures/wheel.js';
import { writeZip, type ZipEntryInput } from '../test/fixtures/zip-write.js';
import { referencePython } from '../test/reference-python.js';
import { ResolverError } from './errors.js';
import { INSTALL_MARKER, type InstallWheel, installWheels } from './vendor.js';

let dir: string;
let target: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pyw-vendor-'));
  target = join(dir, 'project', 'python_modules');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function wheel(spec: WheelSpec): InstallWheel {
  const w = buildWheel({ ...spec, dir: join(dir, 'wheels') });
  return {
    name: spec.name,
    version: spec.version,
    filename: w.filename,
    path: w.path!,
    sha256: w.sha256,
  };
}

function rawWheel(spec: WheelSpec, edit: (e: ZipEntryInput[]) => ZipEntryInput[]): InstallWheel {
  const bytes = writeZip(edit(wheelEntries(spec)));
  const filename = wheelFilename(spec);
  const path = join(dir, 'wheels', filename);
  mkdirSync(join(dir, 'wheels'), { recursive: true });
  writeFileSync(path, bytes);
  return { name: spec.name, version: spec.version, filename, path, sha256: sha256Hex(bytes) };
}

async function error(p: Promise<unknown>): Promise<ResolverError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ResolverError);
  return e as ResolverError;
}

const siblings = () => readdirSync(join(dir, 'project')).sort();

describe('installWheels', () => {
  const flask = { name: 'Flask', version: '3.1.0', requiresDist: ['Werkzeug>=3.1'] };
  const werkzeug = {
    name: 'Werkzeug',
    version: '3.1.3',
    files: {
      'werkzeug/__init__.py': '__version__ = "3.1.3"\nfrom .routing import Map\n',
      'werkzeug/routing.py': 'class Map:\n    pass\n',
    },
  };

  it('unpacks wheels at the top level, like site-packages, and records the set', async () => {
    const result = await installWheels({ target, wheels: [wheel(flask), wheel(werkzeug)] });
    expect(result).toMatchObject({ installed: true, packages: 2 });
    expect(result.files).toBe(9);
    expect(readdirSync(target).sort()).toEqual([
      INSTALL_MARKER,
      'flask',
      'flask-3.1.0.dist-info',
      'werkzeug',
      'werkzeug-3.1.3.dist-info',
    ]);
    expect(readFileSync(join(target, 'werkzeug', 'routing.py'), 'utf8')).toContain('class Map');
    expect(siblings()).toEqual(['python_modules']);
  });

  it.skipIf(!referencePython())('produces a tree Python imports from', async () => {
    await installWheels({ target, wheels: [wheel(flask), wheel(werkzeug)] });
    const out = execFileSync(
      'python3',
      [
        '-c',
        'import flask, werkzeug, importlib.metadata as m; print(flask.__version__, werkzeug.Map.__name__, m.version("werkzeug"))',
      ],
      { env: { ...process.env, PYTHONPATH: target } },
    );
    expect(out.toString().trim()).toBe('3.1.0 Map 3.1.3');
  });

  it('is a no-op when the marker matches, and reinstalls when the tree was pruned or the set changed', async () => {
    const wheels = [wheel(flask), wheel(werkzeug)];
    await installWheels({ target, wheels });
    writeFileSync(join(target, 'sentinel'), 'kept by a no-op');
    expect((await installWheels({ target, wheels: [...wheels].reverse() })).installed).toBe(false);
    expect(existsSync(join(target, 'sentinel'))).toBe(true);
    rmSync(join(target, 'werkzeug'), { recursive: true });
    const repaired = await installWheels({ target, wheels });
    expect(repaired.installed).toBe(true);
    expect(existsSync(join(target, 'werkzeug', 'routing.py'))).toBe(true);
    const again = await installWheels({ target, wheels: [wheels[1]!] });
    expect(again.installed).toBe(true);
    expect(existsSync(join(target, 'sentinel'))).toBe(false);
    expect(existsSync(join(target, 'flask'))).toBe(false);
    expect(siblings()).toEqual(['python_modules']);
  });

  it('leaves the previous tree untouched when a wheel fails its RECORD check', async () => {
    await installWheels({ target, wheels: [wheel(flask)] });
    const tampered = rawWheel(werkzeug, (entries) =>
      entries.map((e) => (e.name === 'werkzeug/routing.py' ? { ...e, data: 'import os\n' } : e)),
    );
    const err = await error(installWheels({ target, wheels: [wheel(flask), tampered] }));
    expect(err.code).toBe('ERR_WHEEL');
    expect(err.userError).toBe(true);
    expect(err.message).toContain('werkzeug/routing.py');
    expect(readdirSync(target).sort()).toEqual([INSTALL_MARKER, 'flask', 'flask-3.1.0.dist-info']);
    expect(siblings()).toEqual(['python_modules']);
  });

  it.each([
    ['a ".." entry', { name: '../../escaped.py', data: 'x' }, 'contains ".."'],
    ['an absolute path', { name: '/tmp/escaped.py', data: 'x' }, 'absolute path'],
    ['a symlink', { name: 'werkzeug/link', data: '/etc/passwd', mode: 0o120777 }, 'symlink'],
  ])('refuses a wheel with %s and writes nothing', async (_label, evil, why) => {
    const bad = rawWheel(werkzeug, (entries) => [evil, ...entries]);
    const err = await error(installWheels({ target, wheels: [bad] }));
    expect(err.code).toBe('ERR_WHEEL');
    expect(err.message).toContain(why);
    expect(existsSync(target)).toBe(false);
    expect(existsSync(join(dir, 'escaped.py'))).toBe(false);
    expect(siblings()).toEqual([]);
  });

  it('checks the wheel file against its locked sha256', async () => {
    const w = wheel(flask);
    const err = await error(installWheels({ target, wheels: [{ ...w, sha256: 'a'.repeat(64) }] }));
    expect(err.code).toBe('ERR_HASH_MISMATCH');
    expect(err.message).toContain(w.filename);
  });

  it('refuses two wheels that write the same file', async () => {
    const clash = wheel({
      name: 'werkzeug-fork',
      version: '1.0',
      files: { 'werkzeug/routing.py': 'x = 1\n' },
    });
    const err = await error(installWheels({ target, wheels: [wheel(werkzeug), clash] }));
    expect(err.code).toBe('ERR_INSTALL');
    expect(err.message).toMatch(/both contain werkzeug\/routing\.py/);
  });

  it('reports a file/directory clash between wheels as ERR_INSTALL, leaving nothing behind', async () => {
    const a = wheel({ name: 'aaa', version: '1.0', files: { 'shared/x.py': 'x = 1\n' } });
    const b = wheel({ name: 'bbb', version: '1.0', files: { shared: 'not a directory\n' } });
    const err = await error(installWheels({ target, wheels: [a, b] }));
    expect(err.code).toBe('ERR_INSTALL');
    expect(siblings()).toEqual([]);
  });

  it('cleans up the leftovers of an interrupted sync', async () => {
    const { utimesSync } = await import('node:fs');
    const stale = join(dir, 'project', 'python_modules.tmp-deadbeef');
    mkdirSync(join(stale, 'half'), { recursive: true });
    const old = new Date(Date.now() - 3600_000);
    utimesSync(stale, old, old);
    await installWheels({ target, wheels: [wheel(flask)] });
    expect(siblings()).toEqual(['python_modules']);
  });
});
