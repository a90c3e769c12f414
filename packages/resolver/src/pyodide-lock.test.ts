import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildWheel, startIndexServer } from '../test/fixtures/index.js';
import { Downloader } from './download.js';
import { ResolverError } from './errors.js';
import {
  PyodideLockSource,
  parsePyodideLock,
  pyodideCdnUrl,
  readPyodideLock,
} from './pyodide-lock.js';
import { createTagPolicy } from './tags.js';

const LOCK_FILE = createRequire(import.meta.url).resolve('pyodide/pyodide-lock.json');

describe('readPyodideLock (the pinned Pyodide)', () => {
  const lock = readPyodideLock(LOCK_FILE);

  it('reads the info block and the version from the package beside it', () => {
    expect(lock.info).toEqual({
      abi_version: '2026_0',
      arch: 'wasm32',
      platform: 'emscripten_5_0_3',
      python: '3.14.2',
    });
    expect(lock.version).toBe('314.0.7');
    expect(lock.packages.size).toBeGreaterThan(300);
  });

  it('offers its wheels with hashes and CDN URLs, and dependencies without network', async () => {
    const src = new PyodideLockSource(lock);
    expect(src.url).toBe('pyodide-lock:314.0.7');
    const page = (await src.getProject('Pydantic_Core'))!;
    expect(page.files).toHaveLength(1);
    const file = page.files[0]!;
    expect(file.filename).toMatch(/^pydantic_core-.*-cp314-cp314-pyemscripten_2026_0_wasm32\.whl$/);
    expect(file.url).toBe(`${pyodideCdnUrl('314.0.7')}${file.filename}`);
    expect(file.hashes.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(createTagPolicy(lock.info).rank(file.filename)).not.toBeNull();
    const meta = await src.getMetadata(file);
    expect(meta.name.toLowerCase().replace(/_/g, '-')).toBe('pydantic-core');
    expect(meta.requiresDist).toContain('typing-extensions');
  });

  it('leaves out shared libraries and test bundles, and dependencies on them', async () => {
    const src = new PyodideLockSource(lock, { baseUrl: 'http://127.0.0.1:1/pyodide' });
    expect(await src.getProject('libopenblas')).toBeNull();
    expect(await src.getProject('mpmath-tests')).toBeNull();
    expect(await src.getProject('not-a-pyodide-package')).toBeNull();
    // inspice depends on the libngspice shared library in the pinned lock.
    const inspice = (await src.getProject('inspice'))!;
    const deps = (await src.getMetadata(inspice.files[0]!)).requiresDist;
    expect(deps).toContain('numpy');
    expect(deps).not.toContain('libngspice');
    expect(inspice.files[0]!.url.startsWith('http://127.0.0.1:1/pyodide/')).toBe(true);
  });
});

describe('PyodideLockSource downloads', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pyw-plock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('downloads a lock wheel from the base URL, checked against the lock hash', async () => {
    const wheel = buildWheel({ name: 'tinylib', version: '1.0', requiresDist: [] });
    const server = await startIndexServer({
      projects: [{ name: 'tinylib', releases: [{ version: '1.0' }] }],
    });
    try {
      const text = JSON.stringify({
        info: {
          abi_version: '2026_0',
          arch: 'wasm32',
          platform: 'emscripten_5_0_3',
          python: '3.14.2',
        },
        packages: {
          tinylib: {
            name: 'tinylib',
            version: '1.0',
            file_name: wheel.filename,
            sha256: wheel.sha256,
            depends: [],
            package_type: 'package',
            install_dir: 'site',
            imports: ['tinylib'],
          },
        },
      });
      const lock = parsePyodideLock(text, join(dir, 'pyodide-lock.json'));
      expect(() => new PyodideLockSource(lock)).toThrow(/pyodidePackageBaseUrl/);
      const src = new PyodideLockSource(lock, { baseUrl: `${server.origin}/files` });
      const file = (await src.getProject('tinylib'))!.files[0]!;
      const got = await new Downloader({ cacheDir: dir }).download({
        file,
        name: 'tinylib',
        version: '1.0',
      });
      expect(got.sha256).toBe(wheel.sha256);
    } finally {
      await server.close();
    }
  });

  it('reports a malformed lock with ERR_PYODIDE_LOCK and the path of the bad field', () => {
    const path = join(dir, 'pyodide-lock.json');
    writeFileSync(
      path,
      JSON.stringify({
        info: { abi_version: 'x', arch: 'wasm32', platform: 'p', python: '3.14.2' },
        packages: { a: { name: 'a' } },
      }),
    );
    let err: unknown;
    try {
      readPyodideLock(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResolverError);
    expect((err as ResolverError).code).toBe('ERR_PYODIDE_LOCK');
    expect((err as ResolverError).message).toContain('.packages.a.version');
  });
});
