// End to end in the real pinned Pyodide: the marker environment we evaluate with is the one
// Pyodide reports, every wheel tag Pyodide's own lock uses is one we accept, and a tree vendored
// by installWheels imports there (mounted as python_modules/, the way a worker sees it).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Downloader } from '../src/download.js';
import { evaluateMarker, pyodideMarkerEnvironment } from '../src/markers.js';
import { createSource } from '../src/package-index/create-source.js';
import { readPyodideLock } from '../src/pyodide-lock.js';
import { createTagPolicy } from '../src/tags.js';
import { installWheels } from '../src/vendor.js';
import { CATALOGUE, type IndexServer, startIndexServer } from './fixtures/index.js';

const lock = readPyodideLock(createRequire(import.meta.url).resolve('pyodide/pyodide-lock.json'));

describe('in the pinned Pyodide', () => {
  let pyodide: PyodideAPI;
  let server: IndexServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pyw-e2e-'));
    server = await startIndexServer({ projects: CATALOGUE });
    pyodide = await loadPyodide();
  }, 120_000);
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the marker environment we evaluate markers with', () => {
    const theirs = JSON.parse(
      String(
        pyodide.runPython(`
import json, os, platform, sys
iv = sys.implementation.version
json.dumps({
  "implementation_name": sys.implementation.name,
  "implementation_version": f"{iv.major}.{iv.minor}.{iv.micro}",
  "os_name": os.name,
  "platform_machine": platform.machine(),
  "platform_python_implementation": platform.python_implementation(),
  "platform_release": platform.release(),
  "platform_version": platform.version(),
  "platform_system": platform.system(),
  "python_full_version": platform.python_version(),
  "python_version": ".".join(platform.python_version_tuple()[:2]),
  "sys_platform": sys.platform,
})`),
      ),
    ) as Record<string, string>;
    expect(pyodideMarkerEnvironment(lock.info)).toEqual(theirs);
  });

  it('accepts the tags of every wheel in its lock', () => {
    const policy = createTagPolicy(lock.info);
    const rejected = [...lock.packages.values()]
      .filter((p) => p.file_name.endsWith('.whl') && policy.rank(p.file_name) === null)
      .map((p) => p.file_name);
    expect(rejected).toEqual([]);
  });

  it('imports a tree vendored into python_modules/', async () => {
    const env = pyodideMarkerEnvironment(lock.info);
    const downloader = new Downloader({ cacheDir: join(dir, 'cache') });
    const src = createSource(server.url, { downloader });
    // emscripten-shim pulls pyodide-http on emscripten only; check the marker agrees.
    const shimMeta = await src.getMetadata((await src.getProject('emscripten-shim'))!.files[0]!);
    const deps = shimMeta.requiresDist.filter((r) => {
      const marker = r.split(';')[1];
      return !marker || evaluateMarker(marker, env);
    });
    expect(deps).toEqual(['pyodide-http>=0.2; sys_platform == "emscripten"']);
    const picks: [string, string][] = [
      ['emscripten-shim', '1.0.0'],
      ['pyodide-http', '0.2.1'],
      ['python-dateutil', '2.9.0.post0'],
      ['six', '1.17.0'],
    ];
    const items = [];
    for (const [name, version] of picks) {
      const file = (await src.getProject(name))!.files.find((f) => f.version === version)!;
      items.push({ file, name, version });
    }
    const files = await downloader.downloadAll(items);
    const target = join(dir, 'project', 'python_modules');
    await installWheels({
      target,
      wheels: items.map((it, i) => ({
        name: it.name,
        version: it.version,
        filename: it.file.filename,
        path: files[i]!.path,
        sha256: files[i]!.sha256,
      })),
    });
    pyodide.FS.mkdirTree('/python_modules');
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: target }, '/python_modules');
    const out = pyodide.runPython(`
import sys, importlib.metadata as md
sys.path.insert(0, "/python_modules")
import emscripten_shim, pyodide_http, python_dateutil, six
" ".join([sys.platform, md.version("pyodide-http"), md.version("python-dateutil"), six.__version__])`);
    expect(String(out)).toBe('emscripten 0.2.1 2.9.0.post0 1.17.0');
  });
});
