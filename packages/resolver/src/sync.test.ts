import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyodideLockInfo } from '../test/differential-sources.js';
import {
  buildWheel,
  CATALOGUE,
  type IndexServer,
  PYODIDE_TAG,
  startIndexServer,
} from '../test/fixtures/index.js';
import type { ResolverError } from './errors.js';
import { parsePylock } from './lock/pylock.js';
import type { SyncProgressEvent } from './progress.js';
import { syncProject } from './sync.js';

const NATIVE = 'cp314-cp314-manylinux_2_17_x86_64';

let root: string;
let server: IndexServer;
let other: IndexServer;
let pyodideLockFile: string;
let pyodideBase: string;
let cacheDir: string;

/** A pyodide-lock.json with the real `info` and one native package whose wheel sits in a local dir. */
async function writePyodideLock(dir: string): Promise<void> {
  const wheels = join(dir, 'pyodide-wheels');
  const w = buildWheel({ name: 'fastnum', version: '2.0', tag: PYODIDE_TAG, dir: wheels });
  pyodideBase = `${pathToFileURL(wheels).href}/`;
  pyodideLockFile = join(dir, 'pyodide-lock.json');
  await writeFile(
    pyodideLockFile,
    JSON.stringify({
      info: { ...pyodideLockInfo(), version: '0.0.0-test' },
      packages: {
        fastnum: {
          name: 'fastnum',
          version: '2.0',
          file_name: w.filename,
          sha256: w.sha256,
          depends: [],
          imports: ['fastnum'],
          install_dir: 'site',
          package_type: 'package',
        },
      },
    }),
  );
}

async function project(name: string, deps: string[], extra = ''): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'pyproject.toml'),
    `[project]\nname = "${name}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\ndependencies = ${JSON.stringify(deps)}\n${extra}`,
  );
  return dir;
}

const base = () => ({ pyodideLockFile, pyodidePackageBaseUrl: pyodideBase, cacheDir, env: {} });
const pins = (r: { packages: { name: string; version: string }[] }) =>
  Object.fromEntries(r.packages.map((p) => [p.name, p.version]));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sync-'));
  cacheDir = join(root, 'cache');
  await writePyodideLock(root);
  server = await startIndexServer({
    projects: [
      ...CATALOGUE,
      {
        name: 'fastnum',
        releases: [
          { version: '2.0', tags: [NATIVE] },
          { version: '1.0', tags: [NATIVE] },
        ],
      },
    ],
  });
  other = await startIndexServer({
    projects: [
      { name: 'six', releases: [{ version: '1.16.0', tags: ['py2.py3-none-any'] }] },
      // A library that declares Cloudflare's SDK as a dependency, as some do.
      {
        name: 'cf-helper',
        releases: [
          {
            version: '1.0',
            tags: ['py3-none-any'],
            requiresDist: ['workers-runtime-sdk>=1.0', 'six'],
          },
        ],
      },
    ],
    formats: ['html'],
  });
});
afterAll(async () => {
  await Promise.all([server.close(), other.close()]);
  await rm(root, { recursive: true, force: true });
});

describe('syncProject', () => {
  it('resolves, locks, downloads and installs; a second run is a no-op', async () => {
    const dir = await project('site', ['flask>=3', 'fastnum']);
    const events: SyncProgressEvent[] = [];
    const r = await syncProject({
      ...base(),
      projectDir: dir,
      indexUrl: server.url,
      onProgress: (e) => events.push(e),
    });
    expect(r.resolved).toBe(true);
    expect(r.installed).toBe(true);
    expect(pins(r)).toMatchObject({ flask: '3.1.0', werkzeug: '3.1.3', fastnum: '2.0' });
    // The native package comes from Pyodide's set, everything else from the index.
    expect(r.packages.find((p) => p.name === 'fastnum')!.source).toMatch(/^pyodide-lock:/);
    expect(r.packages.find((p) => p.name === 'flask')!.source).toBe(server.url);
    expect(existsSync(join(dir, 'python_modules', 'flask', '__init__.py'))).toBe(true);
    expect(existsSync(join(dir, 'python_modules', 'fastnum', '__init__.py'))).toBe(true);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('resolve-start');
    expect(types).toContain('resolve-done');
    expect(types).toContain('download-done');
    expect(types.at(-1)).toBe('install-done');

    const lock = parsePylock(await readFile(r.lockPath, 'utf8'));
    const flask = lock.packages.find((p) => p.name === 'flask')!;
    expect(flask.wheels[0]!.hashes.sha256).toBe(
      server.files.get('flask-3.1.0-py3-none-any.whl')!.sha256,
    );
    expect(flask.index).toBe(server.url);

    const again = await syncProject({ ...base(), projectDir: dir, indexUrl: server.url });
    expect(again).toMatchObject({ resolved: false, installed: false });
    expect(pins(again)).toEqual(pins(r));

    // Offline, even a fresh resolve works from what the online run cached.
    const before = server.requests.length;
    const offline = await syncProject({
      ...base(),
      projectDir: dir,
      indexUrl: server.url,
      offline: true,
      upgrade: true,
    });
    expect(offline.resolved).toBe(true);
    expect(pins(offline)).toEqual(pins(r));
    expect(server.requests.length).toBe(before);

    // Offline with nothing cached for the index: Pyodide's set still serves what it has, and a
    // project nobody has says how to fix it.
    const fresh = { ...base(), cacheDir: join(root, 'empty-cache'), offline: true };
    const native = await project('offline-native', ['fastnum']);
    const n = await syncProject({ ...fresh, projectDir: native, indexUrl: server.url });
    expect(pins(n)).toEqual({ fastnum: '2.0' });
    const missing = await project('offline-missing', ['six']);
    await expect(
      syncProject({ ...fresh, projectDir: missing, indexUrl: server.url }),
    ).rejects.toMatchObject({
      code: 'ERR_OFFLINE',
      message: expect.stringContaining('offline mode forbids'),
      hint: expect.stringContaining('run once online'),
    });
  });

  it('prefers the pins of an existing lock it cannot reuse as is', async () => {
    const dir = await project('pinned', ['flask']);
    const wheel = (f: string) =>
      `wheels = [{ name = "${f}", url = "${server.origin}/files/${f}", hashes = { sha256 = "${server.files.get(f)!.sha256}" } }]`;
    // A lock from another tool (no [tool.pyworkers]): not trusted as is, its pins preferred.
    await writeFile(
      join(dir, 'pylock.toml'),
      `lock-version = "1.0"\ncreated-by = "other"\n\n[[packages]]\nname = "flask"\nversion = "3.0.3"\n${wheel('flask-3.0.3-py3-none-any.whl')}\n\n[[packages]]\nname = "werkzeug"\nversion = "3.0.6"\n${wheel('werkzeug-3.0.6-py3-none-any.whl')}\n`,
    );
    const r = await syncProject({ ...base(), projectDir: dir, indexUrl: server.url });
    expect(r.resolved).toBe(true);
    expect(pins(r)).toMatchObject({ flask: '3.0.3', werkzeug: '3.0.6', blinker: '1.9.0' });
    const up = await syncProject({
      ...base(),
      projectDir: dir,
      indexUrl: server.url,
      upgrade: true,
    });
    expect(pins(up)).toMatchObject({ flask: '3.1.0', werkzeug: '3.1.3' });
  });

  it('installs from a uv.lock that matches pyproject.toml without resolving', async () => {
    const dir = await project('uvuser', ['flask<3.1']);
    const file = (f: string) => server.files.get(f)!;
    const entry = (name: string, version: string, filename: string, deps: string[] = []) =>
      `[[package]]\nname = "${name}"\nversion = "${version}"\nsource = { registry = "${server.url}" }\n` +
      `dependencies = [${deps.map((d) => `{ name = "${d}" }`).join(', ')}]\n` +
      `wheels = [{ url = "${server.origin}/files/${filename}", hash = "sha256:${file(filename).sha256}", size = ${file(filename).bytes.length} }]\n`;
    const uvLock = [
      'version = 1\nrevision = 3\nrequires-python = ">=3.12"\n',
      entry('blinker', '1.8.2', 'blinker-1.8.2-py3-none-any.whl'),
      entry('click', '8.1.8', 'click-8.1.8-py3-none-any.whl'),
      entry('flask', '3.0.3', 'flask-3.0.3-py3-none-any.whl', [
        'blinker',
        'click',
        'itsdangerous',
        'jinja2',
        'werkzeug',
      ]),
      entry('itsdangerous', '2.1.2', 'itsdangerous-2.1.2-py3-none-any.whl'),
      entry('jinja2', '3.1.4', 'jinja2-3.1.4-py3-none-any.whl', ['markupsafe']),
      entry('markupsafe', '2.1.5', 'markupsafe-2.1.5-py3-none-any.whl'),
      entry('werkzeug', '3.0.6', 'werkzeug-3.0.6-py3-none-any.whl', ['markupsafe']),
      '[[package]]\nname = "uvuser"\nversion = "0.1.0"\nsource = { virtual = "." }\ndependencies = [{ name = "flask" }]\n\n[package.metadata]\nrequires-dist = [{ name = "flask", specifier = "<3.1" }]\n',
    ].join('\n');
    await writeFile(join(dir, 'uv.lock'), uvLock);
    const r = await syncProject({ ...base(), projectDir: dir, indexUrl: server.url });
    expect(r.resolved).toBe(false);
    expect(pins(r)).toEqual({
      blinker: '1.8.2',
      click: '8.1.8',
      flask: '3.0.3',
      itsdangerous: '2.1.2',
      jinja2: '3.1.4',
      markupsafe: '2.1.5',
      werkzeug: '3.0.6',
    });
    expect(existsSync(r.lockPath)).toBe(true);

    const up = await syncProject({
      ...base(),
      projectDir: dir,
      indexUrl: server.url,
      upgrade: true,
    });
    expect(up.resolved).toBe(true);
    expect(pins(up)).toMatchObject({ flask: '3.0.3', werkzeug: '3.1.3', blinker: '1.9.0' });
  });

  it("satisfies Cloudflare's SDK packages with the runtime, never asking an index", async () => {
    const dir = await project(
      'cloudflare-style',
      ['six', 'workers-runtime-sdk>=1.1.1', 'cf-helper'],
      '\n[dependency-groups]\ndev = ["workers-py", "workers-runtime-sdk"]\n',
    );
    const before = other.requests.length;
    const r = await syncProject({ ...base(), projectDir: dir, indexUrl: other.url });
    expect(pins(r)).toEqual({ six: '1.16.0', 'cf-helper': '1.0' });
    expect(r.provided).toEqual(['workers-runtime-sdk>=1.1.1']);
    const asked = other.requests.slice(before).map((q) => q.path);
    expect(asked.some((p) => p.includes('workers'))).toBe(false);
    expect(existsSync(join(dir, 'python_modules', 'workers_runtime_sdk'))).toBe(false);
  });

  it('takes indexes from env unless an option says otherwise', async () => {
    const dir = await project('envy', ['six']);
    const viaEnv = await syncProject({
      ...base(),
      projectDir: dir,
      env: { UV_INDEX_URL: other.url },
    });
    expect(pins(viaEnv).six).toBe('1.16.0');
    const viaOption = await syncProject({
      ...base(),
      projectDir: dir,
      env: { UV_INDEX_URL: other.url },
      indexUrl: server.url,
    });
    expect(viaOption.resolved).toBe(true);
    expect(pins(viaOption).six).toBe('1.17.0');
  });

  it('reads [[tool.uv.index]] and index pins from pyproject.toml', async () => {
    const dir = await project(
      'pinned-index',
      ['six', 'python-dateutil'],
      `[[tool.uv.index]]\nname = "old"\nurl = "${other.url}"\nexplicit = true\n[tool.uv.sources]\nsix = { index = "old" }\n`,
    );
    const r = await syncProject({ ...base(), projectDir: dir, indexUrl: server.url });
    expect(pins(r)).toMatchObject({ six: '1.16.0', 'python-dateutil': '2.9.0.post0' });
  });

  it('fails with the conflict in plain words and writes nothing', async () => {
    const dir = await project('clash', ['fastapi==0.92.0', 'starlette>=0.27']);
    const e = (await syncProject({ ...base(), projectDir: dir, indexUrl: server.url }).catch(
      (x) => x,
    )) as ResolverError;
    expect(e.code).toBe('ERR_NO_SOLUTION');
    expect(e.message).toContain('fastapi 0.92.0 needs starlette<0.26.0,>=0.25.0');
    expect(existsSync(join(dir, 'pylock.toml'))).toBe(false);
    expect(existsSync(join(dir, 'python_modules'))).toBe(false);
  });

  it('explains a missing pyproject.toml and an unknown extra', async () => {
    await expect(syncProject({ ...base(), projectDir: join(root, 'nowhere') })).rejects.toThrow(
      /pyproject\.toml not found/,
    );
    const dir = await project('extras', ['six']);
    await expect(syncProject({ ...base(), projectDir: dir, extras: ['nope'] })).rejects.toThrow(
      /has no extra "nope"/,
    );
  });

  it('installs the extras asked for, following extras that name the project itself', async () => {
    const dir = await project(
      'withextras',
      ['six'],
      '[project.optional-dependencies]\nhttp = ["httpx[http2]"]\ntime = ["python-dateutil"]\nall = ["withextras[http,time]"]\n',
    );
    const plain = await syncProject({ ...base(), projectDir: dir, indexUrl: server.url });
    expect(pins(plain)).toEqual({ six: '1.17.0' });
    const all = await syncProject({
      ...base(),
      projectDir: dir,
      indexUrl: server.url,
      extras: ['all'],
    });
    expect(all.resolved).toBe(true);
    expect(pins(all)).toMatchObject({
      six: '1.17.0',
      httpx: '0.28.1',
      h2: '4.1.0',
      'python-dateutil': '2.9.0.post0',
    });
    expect(existsSync(join(dir, 'python_modules', 'h2', '__init__.py'))).toBe(true);
  });
});
