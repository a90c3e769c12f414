import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CATALOGUE,
  type FixtureProject,
  type IndexServer,
  JSON_TYPE,
  startIndexServer,
  writeFileIndex,
  writeWheelDir,
} from '../../test/fixtures/index.js';
import { Downloader } from '../download.js';
import { ResolverError } from '../errors.js';
import { createSource } from './create-source.js';
import { SimpleIndexSource } from './simple-index.js';
import { WheelDirSource } from './wheel-dir.js';

const pick = (...names: string[]): FixtureProject[] =>
  CATALOGUE.filter((p) => names.includes(p.name));

let cacheDir: string;
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'pyw-idx-'));
});
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

async function error(p: Promise<unknown>): Promise<ResolverError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ResolverError);
  return e as ResolverError;
}

describe.each([
  ['PEP 691 JSON', ['html', 'json'] as ('html' | 'json')[]],
  ['PEP 503 HTML only', ['html'] as ('html' | 'json')[]],
])('SimpleIndexSource over %s', (_label, formats) => {
  let server: IndexServer;
  beforeAll(async () => {
    server = await startIndexServer({ projects: CATALOGUE, formats });
  });
  afterAll(() => server.close());

  it('lists files with hashes, requires-python, yanks and metadata URLs', async () => {
    const src = new SimpleIndexSource({
      url: server.url,
      name: 'fixture',
      downloader: new Downloader({ cacheDir }),
    });
    const page = (await src.getProject('URLLIB3'))!;
    expect(page.name).toBe('urllib3');
    expect(page.files.map((f) => [f.filename, f.version, f.yanked])).toEqual([
      ['urllib3-1.26.20-py2.py3-none-any.whl', '1.26.20', false],
      ['urllib3-2.2.3-py3-none-any.whl', '2.2.3', false],
      ['urllib3-2.3.0-py3-none-any.whl', '2.3.0', 'Broke proxies; use 2.2.3'],
    ]);
    const f = page.files[1]!;
    expect(f.hashes.sha256).toBe(server.files.get(f.filename)!.sha256);
    expect(f.requiresPython).toBe('>=3.8');
    expect(f.source).toBe('fixture');
    expect(f.url).toBe(`${server.origin}/files/${f.filename}`);
    expect(f.metadataUrl).toBe(`${f.url}.metadata`);
    expect(f.metadataHashes?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const accept = server.requests.find((r) => r.path === '/simple/urllib3/')!.accept;
    expect(accept.startsWith(JSON_TYPE)).toBe(true);
  });

  it('reads metadata from the PEP 658 file without downloading the wheel', async () => {
    const src = new SimpleIndexSource({
      url: server.url,
      downloader: new Downloader({ cacheDir }),
    });
    const page = (await src.getProject('requests'))!;
    const meta = await src.getMetadata(page.files.at(-1)!);
    expect(meta).toMatchObject({
      name: 'requests',
      version: '2.32.3',
      providesExtra: ['socks', 'use-chardet-on-py3'],
    });
    expect(meta.requiresDist).toContain('PySocks!=1.5.7,>=1.5.6; extra == "socks"');
    expect(server.requests.some((r) => r.path === `/files/${page.files.at(-1)!.filename}`)).toBe(
      false,
    );
  });

  it('returns null for a project the index does not have', async () => {
    const src = new SimpleIndexSource({
      url: server.url,
      downloader: new Downloader({ cacheDir }),
    });
    expect(await src.getProject('no-such-project')).toBeNull();
  });
});

describe('SimpleIndexSource metadata and failures', () => {
  it('falls back to the wheel METADATA when the index offers no metadata file', async () => {
    const server = await startIndexServer({ projects: pick('idna'), metadataFiles: false });
    try {
      const src = new SimpleIndexSource({
        url: server.url,
        downloader: new Downloader({ cacheDir }),
      });
      const file = (await src.getProject('idna'))!.files.at(-1)!;
      expect(file.metadataUrl).toBeUndefined();
      expect(await src.getMetadata(file)).toMatchObject({
        name: 'idna',
        version: '3.10',
        requiresPython: '>=3.6',
      });
      expect(server.requests.some((r) => r.path === `/files/${file.filename}`)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('checks the metadata file against its hash', async () => {
    const server = await startIndexServer({ projects: pick('idna') });
    try {
      const src = new SimpleIndexSource({
        url: server.url,
        downloader: new Downloader({ cacheDir }),
      });
      const file = (await src.getProject('idna'))!.files.at(-1)!;
      const err = await error(
        src.getMetadata({ ...file, metadataHashes: { sha256: 'f'.repeat(64) } }),
      );
      expect(err.code).toBe('ERR_HASH_MISMATCH');
      expect(err.message).toContain('metadata of idna-3.10-py3-none-any.whl');
    } finally {
      await server.close();
    }
  });

  it('serves cached pages and metadata offline, and explains a miss', async () => {
    const server = await startIndexServer({ projects: pick('idna', 'six') });
    const online = new SimpleIndexSource({
      url: server.url,
      downloader: new Downloader({ cacheDir }),
    });
    const file = (await online.getProject('idna'))!.files.at(-1)!;
    await online.getMetadata(file);
    await server.close();
    const offline = new SimpleIndexSource({
      url: server.url,
      downloader: new Downloader({ cacheDir, offline: true }),
    });
    expect((await offline.getProject('idna'))!.files).toHaveLength(3);
    expect((await offline.getMetadata(file)).version).toBe('3.10');
    const err = await error(offline.getProject('six'));
    expect(err.code).toBe('ERR_OFFLINE');
    expect(err.message).toContain('offline mode forbids');
    expect(err.hint).toContain('run once online');
  });

  it('revalidates cached pages with If-None-Match and reuses them on 304', async () => {
    const server = await startIndexServer({ projects: pick('idna') });
    try {
      const first = new SimpleIndexSource({
        url: server.url,
        downloader: new Downloader({ cacheDir }),
      });
      const page = await first.getProject('idna');
      expect(server.stats.notModified).toBe(0);
      const second = new SimpleIndexSource({
        url: server.url,
        name: 'renamed',
        downloader: new Downloader({ cacheDir }),
      });
      const again = (await second.getProject('idna'))!;
      expect(server.stats.notModified).toBe(1);
      expect(again.files.map((f) => f.filename)).toEqual(page!.files.map((f) => f.filename));
      expect(again.files.every((f) => f.source === 'renamed')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('names the URL on server errors and refuses malformed or future-version pages', async () => {
    const server = await startIndexServer({
      projects: pick('idna'),
      statusFor: { '/simple/broken/': 500 },
    });
    try {
      const src = new SimpleIndexSource({
        url: server.url,
        downloader: new Downloader({ cacheDir }),
      });
      const err = await error(src.getProject('broken'));
      expect(err.code).toBe('ERR_NETWORK');
      expect(err.message).toContain(`${server.url}broken/ answered 500`);
      expect(err.hint).toContain('offline mode');
    } finally {
      await server.close();
    }
    const { createServer } = await import('node:http');
    const bad = createServer((req, res) => {
      res.writeHead(200, { 'content-type': JSON_TYPE });
      res.end(
        req.url?.includes('future')
          ? JSON.stringify({ meta: { 'api-version': '2.0' }, name: 'future', files: [] })
          : JSON.stringify({
              meta: { 'api-version': '1.0' },
              name: 'x',
              files: [{ filename: 'x.whl' }],
            }),
      );
    });
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    const port = (bad.address() as { port: number }).port;
    try {
      const src = new SimpleIndexSource({
        url: `http://127.0.0.1:${port}/simple/`,
        downloader: new Downloader({ cacheDir }),
      });
      const shape = await error(src.getProject('x'));
      expect(shape.code).toBe('ERR_INDEX_RESPONSE');
      expect(shape.message).toContain('.files[0].url');
      expect((await error(src.getProject('future'))).message).toContain('API version 2.0');
    } finally {
      bad.closeAllConnections();
      bad.close();
    }
  });
});

describe('local sources', () => {
  it('reads a file:// simple index, with PEP 658 files', async () => {
    const url = writeFileIndex(join(cacheDir, 'index'), pick('requests', 'urllib3'));
    const src = createSource(url, { downloader: new Downloader({ cacheDir, offline: true }) });
    expect(src).toBeInstanceOf(SimpleIndexSource);
    const page = (await src.getProject('urllib3'))!;
    expect(page.files.map((f) => f.yanked)).toEqual([false, false, 'Broke proxies; use 2.2.3']);
    expect(page.files[0]!.url.startsWith('file:')).toBe(true);
    expect((await src.getMetadata(page.files[1]!)).version).toBe('2.2.3');
    expect(await src.getProject('flask')).toBeNull();
  });

  it('reads a flat wheel directory (find-links), hashing files and reading METADATA from them', async () => {
    const dir = join(cacheDir, 'wheels');
    writeWheelDir(dir, pick('python-dateutil', 'six', 'legacy-sdist-only'));
    const src = createSource(dir, { downloader: new Downloader({ cacheDir, offline: true }) });
    expect(src).toBeInstanceOf(WheelDirSource);
    const page = (await src.getProject('Python_Dateutil'))!;
    expect(page.files.map((f) => f.version)).toEqual(['2.8.2', '2.9.0.post0']);
    expect(await src.getMetadata(page.files[1]!)).toMatchObject({ requiresDist: ['six>=1.5'] });
    expect((await src.getProject('legacy-sdist-only'))!.files[0]!.filename).toBe(
      'legacy_sdist_only-1.0.0.tar.gz',
    );
    expect(await src.getProject('requests')).toBeNull();
  });

  it('refuses unknown schemes and missing directories', () => {
    const downloader = new Downloader({ cacheDir });
    expect(() => createSource('ftp://example.invalid/simple', { downloader })).toThrow(
      /unsupported scheme/,
    );
    expect(() => createSource(join(cacheDir, 'missing'), { downloader })).toThrow(
      /not a readable directory/,
    );
  });
});
