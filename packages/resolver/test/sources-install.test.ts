// Integration: the fixture index (HTTP, PEP 691 and 503), a fixture Pyodide lock with a CDN on
// 127.0.0.1, markers and tags for Pyodide, parallel downloads into the cache, vendoring, and an
// offline re-run from the cache; the result is imported by a real Python.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { satisfies } from '@renovatebot/pep440';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Downloader } from '../src/download.js';
import { evaluateMarker, pyodideMarkerEnvironment } from '../src/markers.js';
import { createSource } from '../src/package-index/create-source.js';
import type { SyncProgressEvent } from '../src/progress.js';
import { PyodideLockSource, readPyodideLock } from '../src/pyodide-lock.js';
import { parseRequirement } from '../src/requirement.js';
import type { DistFile, PackageSource } from '../src/source.js';
import { createTagPolicy } from '../src/tags.js';
import { installWheels } from '../src/vendor.js';
import {
  buildProjectFiles,
  CATALOGUE,
  type IndexServer,
  PYODIDE_TAG,
  startIndexServer,
} from './fixtures/index.js';
import { referencePython } from './reference-python.js';

const info = {
  abi_version: '2026_0',
  arch: 'wasm32',
  platform: 'emscripten_5_0_3',
  python: '3.14.2',
};
const env = pyodideMarkerEnvironment(info);
const tags = createTagPolicy(info);

/** The best installable file of `version` (lowest tag rank), or the reasons none fits. */
function bestFile(files: DistFile[], version: string): DistFile | string[] {
  const ofVersion = files.filter((f) => f.version === version);
  const ranked = ofVersion
    .map((f) => ({ f, c: tags.check(f.filename) }))
    .sort((a, b) => (a.c.ok ? a.c.rank : 1e9) - (b.c.ok ? b.c.rank : 1e9));
  const first = ranked[0];
  return first?.c.ok
    ? first.f
    : ranked.map((r) => (r.c.ok ? '' : `${r.f.filename}: ${r.c.reason}`));
}

/** Pinned installs: fetch each pin's metadata, follow Requires-Dist with markers, collect files. */
async function collect(sources: PackageSource[], pins: Record<string, string>, roots: string[]) {
  const chosen = new Map<
    string,
    { name: string; version: string; file: DistFile; source: PackageSource }
  >();
  const queue = roots.map((r) => parseRequirement(r));
  while (queue.length) {
    const req = queue.shift()!;
    if (req.marker && !evaluateMarker(req.marker, env)) continue;
    if (chosen.has(req.key)) continue;
    const version = pins[req.key];
    if (!version) throw new Error(`test pins lack ${req.key}`);
    if (req.specifier) expect(satisfies(version, req.specifier)).toBe(true);
    for (const source of sources) {
      const page = await source.getProject(req.key);
      if (!page) continue;
      const file = bestFile(page.files, version);
      if (Array.isArray(file)) continue;
      chosen.set(req.key, { name: req.key, version, file, source });
      const meta = await source.getMetadata(file);
      for (const dep of meta.requiresDist) {
        const d = parseRequirement(dep);
        if (!d.marker || evaluateMarker(d.marker, env, req.extras))
          queue.push({ ...d, marker: '' });
      }
      break;
    }
    if (!chosen.has(req.key)) throw new Error(`no source has ${req.key} ${version}`);
  }
  return [...chosen.values()];
}

describe('sources + downloads + vendoring against the fixture index', () => {
  let index: IndexServer;
  let cdn: IndexServer;
  let dir: string;
  let lockFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pyw-int-'));
    index = await startIndexServer({ projects: CATALOGUE });
    // A Pyodide lock of its own, whose wheels live on a second local server (the "CDN").
    const pyodideProjects = [
      { name: 'pyodide-http', releases: [{ version: '0.2.2' }] },
      { name: 'regex', releases: [{ version: '2024.11.6', tags: [PYODIDE_TAG] }] },
    ];
    cdn = await startIndexServer({ projects: pyodideProjects });
    const packages: Record<string, object> = {};
    for (const [key, p] of buildProjectFiles(pyodideProjects)) {
      const f = p.files[0]!;
      packages[key] = {
        name: p.name,
        version: f.version,
        file_name: f.filename,
        sha256: f.sha256,
        depends: [],
        package_type: 'package',
        install_dir: 'site',
        imports: [key.replace(/-/g, '_')],
      };
    }
    lockFile = join(dir, 'pyodide-lock.json');
    writeFileSync(lockFile, JSON.stringify({ info, packages }));
  });
  afterAll(async () => {
    await index.close();
    await cdn.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs a marker-dependent tree from the index and Pyodide, then again offline from the cache', async () => {
    const cacheDir = join(dir, 'cache');
    const events: SyncProgressEvent[] = [];
    const downloader = new Downloader({
      cacheDir,
      concurrency: 4,
      onProgress: (e) => events.push(e),
    });
    const sources = [
      createSource(index.url, { downloader, name: 'fixture' }),
      new PyodideLockSource(readPyodideLock(lockFile), { baseUrl: `${cdn.origin}/files/` }),
    ];
    const pins = {
      'emscripten-shim': '1.0.0',
      'pyodide-http': '0.2.2',
      httpx: '0.28.1',
      anyio: '4.8.0',
      idna: '3.10',
      sniffio: '1.3.1',
      certifi: '2025.1.31',
      httpcore: '1.0.7',
      h11: '0.14.0',
      h2: '4.1.0',
      hpack: '4.0.0',
      hyperframe: '6.0.1',
      'fast-json': '1.0.0',
      regex: '2024.11.6',
    };
    // pyodide-http: the index has 0.2.1, Pyodide's lock 0.2.2; the pin picks Pyodide's build.
    const sourcesByPin = [sources[1]!, sources[0]!];
    const chosen = await collect(sourcesByPin, pins, [
      'emscripten-shim',
      'httpx[http2]',
      'fast-json',
      'regex',
    ]);
    expect(chosen.map((c) => c.name).sort()).toEqual(Object.keys(pins).sort());
    // Markers: requests is only for non-emscripten; tomli only for Python < 3.11.
    expect(chosen.find((c) => c.name === 'requests')).toBeUndefined();
    expect(chosen.find((c) => c.name === 'fast-json')!.file.filename).toBe(
      `fast_json-1.0.0-${PYODIDE_TAG}.whl`,
    );
    expect(chosen.find((c) => c.name === 'regex')!.file.url.startsWith(cdn.origin)).toBe(true);

    const items = chosen.map((c) => ({ file: c.file, name: c.name, version: c.version }));
    const files = await downloader.downloadAll(items);
    expect(files.every((f) => !f.cached)).toBe(true);
    expect(events.filter((e) => e.type === 'download-done')).toHaveLength(chosen.length);

    const target = join(dir, 'project', 'python_modules');
    const wheels = chosen.map((c, i) => ({
      name: c.name,
      version: c.version,
      filename: c.file.filename,
      path: files[i]!.path,
      sha256: files[i]!.sha256,
    }));
    expect((await installWheels({ target, wheels })).installed).toBe(true);
    expect(readdirSync(target)).toEqual(
      expect.arrayContaining(['httpx', 'pyodide_http', 'regex', 'h2']),
    );

    if (referencePython()) {
      const out = execFileSync(
        'python3',
        [
          '-c',
          'import httpx, h2, regex, pyodide_http; print(httpx.__version__, regex.__version__, pyodide_http.__version__)',
        ],
        { env: { ...process.env, PYTHONPATH: target } },
      );
      expect(out.toString().trim()).toBe('0.28.1 2024.11.6 0.2.2');
    }

    // Offline, with both servers' pages and files only in the cache: same set, no requests.
    const before = index.requests.length + cdn.requests.length;
    const offline = new Downloader({ cacheDir, offline: true });
    const offlineSources = [
      new PyodideLockSource(readPyodideLock(lockFile), { baseUrl: `${cdn.origin}/files/` }),
      createSource(index.url, { downloader: offline, name: 'fixture' }),
    ];
    const again = await collect(offlineSources, pins, [
      'emscripten-shim',
      'httpx[http2]',
      'fast-json',
      'regex',
    ]);
    const cached = await offline.downloadAll(
      again.map((c) => ({ file: c.file, name: c.name, version: c.version })),
    );
    expect(cached.every((f) => f.cached)).toBe(true);
    expect(index.requests.length + cdn.requests.length).toBe(before);
    expect((await installWheels({ target, wheels })).installed).toBe(false);
  });

  it('explains why a native-only or sdist-only release cannot be installed', async () => {
    const src = createSource(index.url, {
      downloader: new Downloader({ cacheDir: join(dir, 'c2') }),
    });
    const native = bestFile((await src.getProject('native-only-ext'))!.files, '1.2.0');
    expect(native).toEqual(
      expect.arrayContaining([
        expect.stringContaining('native platform (manylinux_2_17_x86_64)'),
        expect.stringContaining('Pyodide ABI 2024_0'),
        expect.stringContaining('source distribution'),
      ]),
    );
    const sdist = bestFile((await src.getProject('legacy-sdist-only'))!.files, '1.0.0');
    expect(sdist).toEqual([expect.stringContaining('never builds')]);
  });
});
