import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildWheel, type IndexServer, startIndexServer } from '../test/fixtures/index.js';
import { Downloader, type DownloadItem } from './download.js';
import { ResolverError } from './errors.js';
import type { SyncProgressEvent } from './progress.js';

const projects = Array.from({ length: 6 }, (_, i) => ({
  name: `pkg${i}`,
  releases: [
    { version: '1.0.0', files: { [`pkg${i}/data.txt`]: randomBytes(300_000).toString('base64') } },
  ],
}));

let server: IndexServer;
let cacheDir: string;
beforeAll(async () => {
  server = await startIndexServer({
    projects,
    tamper: (name, bytes) =>
      name.startsWith('pkg5-') ? Buffer.concat([bytes, Buffer.from('!')]) : undefined,
  });
});
afterAll(() => server.close());
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'pyw-dl-'));
});
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

function item(i: number, hash = true): DownloadItem {
  const f = [...server.files.values()].find((x) => x.project === `pkg${i}`)!;
  return {
    name: `pkg${i}`,
    version: '1.0.0',
    file: {
      filename: f.filename,
      url: `${server.origin}/files/${f.filename}`,
      hashes: hash ? { sha256: f.sha256 } : {},
    },
  };
}

async function error(p: Promise<unknown>): Promise<ResolverError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ResolverError);
  return e as ResolverError;
}

describe('Downloader', () => {
  it('downloads in parallel under the limit, checks hashes, and serves repeats from the cache', async () => {
    const events: SyncProgressEvent[] = [];
    const slow = await startIndexServer({ projects, delayMs: 40 });
    try {
      const d = new Downloader({ cacheDir, concurrency: 2, onProgress: (e) => events.push(e) });
      const items = [0, 1, 2, 3, 4].map((i) => {
        const it = item(i);
        return {
          ...it,
          file: { ...it.file, url: it.file.url.replace(server.origin, slow.origin) },
        };
      });
      const first = await d.downloadAll(items);
      expect(first.map((f) => f.cached)).toEqual([false, false, false, false, false]);
      expect(first.map((f) => f.sha256)).toEqual(items.map((i) => i.file.hashes.sha256));
      expect(slow.stats.maxActive).toBe(2);
      expect(events.filter((e) => e.type === 'download-start')).toHaveLength(5);
      expect(events.some((e) => e.type === 'download-progress')).toBe(true);
      const before = slow.requests.length;
      const again = await new Downloader({ cacheDir }).downloadAll(items);
      expect(again.map((f) => f.cached)).toEqual([true, true, true, true, true]);
      expect(again[0]!.path).toBe(first[0]!.path);
      expect(slow.requests.length).toBe(before);
    } finally {
      await slow.close();
    }
  });

  it('refuses a file whose bytes do not match the expected sha256, and does not cache it', async () => {
    const d = new Downloader({ cacheDir });
    const err = await error(d.download(item(5)));
    expect(err.code).toBe('ERR_HASH_MISMATCH');
    expect(err.message).toContain('pkg5-1.0.0-py3-none-any.whl');
    expect(err.message).toContain(server.origin);
    const offline = new Downloader({ cacheDir, offline: true });
    expect((await error(offline.download(item(5)))).code).toBe('ERR_OFFLINE');
  });

  it('in offline mode uses only the cache, and says how to fill it', async () => {
    const offline = new Downloader({ cacheDir, offline: true });
    const err = await error(offline.download(item(0)));
    expect(err.code).toBe('ERR_OFFLINE');
    expect(err.message).toContain('offline mode forbids');
    expect(err.hint).toContain('run once online');
    await new Downloader({ cacheDir }).download(item(0));
    expect((await offline.download(item(0))).cached).toBe(true);
  });

  it('hashes files the index gave no hash for, and finds them again by URL', async () => {
    const d = new Downloader({ cacheDir });
    const got = await d.download(item(1, false));
    expect(got.sha256).toBe(item(1).file.hashes.sha256);
    const offline = new Downloader({ cacheDir, offline: true });
    expect((await offline.download(item(1, false))).cached).toBe(true);
  });

  it('checks the strongest other hash when the index gives no sha256', async () => {
    const { createHash } = await import('node:crypto');
    const f = server.files.get(item(2).file.filename)!;
    const sha512 = createHash('sha512').update(f.bytes).digest('hex');
    const d = new Downloader({ cacheDir });
    const ok = { ...item(2), file: { ...item(2).file, hashes: { sha512, md5: '0'.repeat(32) } } };
    expect((await d.download(ok)).sha256).toBe(f.sha256);
    const bad = { ...item(3), file: { ...item(3).file, hashes: { sha512: '0'.repeat(128) } } };
    const err = await error(new Downloader({ cacheDir }).download(bad));
    expect(err.code).toBe('ERR_HASH_MISMATCH');
    expect(err.message).toContain('sha512');
  });

  it('reads file:// URLs in place, hash-checked, even offline', async () => {
    const w = buildWheel({ name: 'local', version: '2.0', dir: cacheDir });
    const d = new Downloader({ cacheDir, offline: true });
    const file = {
      filename: w.filename,
      url: pathToFileURL(w.path!).href,
      hashes: { sha256: w.sha256 },
    };
    expect(await d.download({ name: 'local', version: '2.0', file })).toMatchObject({
      path: w.path,
      cached: true,
    });
    const bad = { ...file, hashes: { sha256: '0'.repeat(64) } };
    expect((await error(d.download({ name: 'local', version: '2.0', file: bad }))).code).toBe(
      'ERR_HASH_MISMATCH',
    );
  });

  it('names the URL and hints at offline mode or another index on network failures', async () => {
    const d = new Downloader({ cacheDir });
    const missing = {
      ...item(0),
      file: { ...item(0).file, url: `${server.origin}/files/nope.whl`, hashes: {} },
    };
    const notFound = await error(d.download(missing));
    expect(notFound.code).toBe('ERR_NETWORK');
    expect(notFound.message).toContain(`${server.origin}/files/nope.whl answered 404`);
    const dead = await startIndexServer({ projects: [] });
    const url = `${dead.origin}/files/x.whl`;
    await dead.close();
    const refused = await error(
      new Downloader({ cacheDir, timeoutMs: 2000 }).download({
        ...missing,
        file: { ...missing.file, url },
      }),
    );
    expect(refused.code).toBe('ERR_NETWORK');
    expect(refused.message).toContain(url);
    expect(refused.hint).toContain('offline mode');
    expect(refused.hint).toContain('UV_INDEX_URL');
  });
});

describe('Downloader timeouts', () => {
  it('lets a slow transfer finish, and fails a stalled one naming the URL', async () => {
    const { createServer } = await import('node:http');
    const { createHash } = await import('node:crypto');
    const chunk = Buffer.alloc(1000, 7);
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': String(chunk.length * 6) });
      let sent = 0;
      const tick = setInterval(() => {
        if (req.url === '/stall.whl' && sent === 2) return; // stop sending, keep the socket open
        res.write(chunk);
        if (++sent === 6) {
          clearInterval(tick);
          res.end();
        }
      }, 80);
      res.on('close', () => clearInterval(tick));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const d = new Downloader({ cacheDir, timeoutMs: 300 });
      const body = Buffer.concat(Array.from({ length: 6 }, () => chunk));
      const sha256 = createHash('sha256').update(body).digest('hex');
      const slow = {
        filename: 'slow-1.0-py3-none-any.whl',
        url: `${origin}/slow.whl`,
        hashes: { sha256 },
      };
      expect((await d.download({ name: 'slow', version: '1.0', file: slow })).size).toBe(6000);
      const stall = {
        filename: 'stall-1.0-py3-none-any.whl',
        url: `${origin}/stall.whl`,
        hashes: {},
      };
      const err = await error(d.download({ name: 'stall', version: '1.0', file: stall }));
      expect(err.code).toBe('ERR_NETWORK');
      expect(err.message).toContain(
        `${origin}/stall.whl broke off after 2000 bytes: no data for 300 ms`,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('Downloader.cachePath', () => {
  it('refuses file names that would leave the cache', () => {
    const d = new Downloader({ cacheDir: '/c' });
    expect(() => d.cachePath('a'.repeat(64), '../../etc/passwd')).toThrow(/not a plain file name/);
    expect(() => d.cachePath('a'.repeat(64), '..')).toThrow(ResolverError);
    expect(d.cachePath('a'.repeat(64), 'x-1.0-py3-none-any.whl')).toBe(
      join('/c', 'wheels', 'aa', 'a'.repeat(64), 'x-1.0-py3-none-any.whl'),
    );
  });
});
