import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AssetResponse, createAssetsResponder } from './assets.js';
import { tempDir } from './internal/testing/temp.js';

let tmp: ReturnType<typeof tempDir>;
let dir: string;
beforeEach(() => {
  tmp = tempDir();
  dir = join(tmp.dir, 'public');
  mkdirSync(join(dir, 'blog', 'post'), { recursive: true });
  mkdirSync(join(dir, 'docs'), { recursive: true });
  const files: Record<string, string> = {
    'index.html': '<h1>home</h1>',
    'about.html': 'about',
    'blog/index.html': 'blog',
    'blog/post/index.html': 'post',
    'docs/404.html': 'docs 404',
    '404.html': 'root 404',
    'style.css': 'body{}',
    'script.js': 'x=1',
    'image.svg': '<svg/>',
    'favicon.ico': 'ico',
    'painting.jpg': 'jpg',
    'data.json': '{}',
    'blob.unknownext': 'bin',
    'range.txt': '0123456789',
    _headers: '/* x: y',
  };
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  writeFileSync(join(tmp.dir, 'secret.txt'), 'top secret');
  symlinkSync(join(tmp.dir, 'secret.txt'), join(dir, 'link-out.txt'));
});
afterEach(() => tmp.cleanup());

const get = (
  r: ReturnType<typeof createAssetsResponder>,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
) => r.respond({ method, url: `http://localhost${path}`, headers });
const h = (res: AssetResponse | null, name: string) =>
  res?.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
const text = (res: AssetResponse | null) => (res?.body ? new TextDecoder().decode(res.body) : null);

describe('static assets', () => {
  it('sends content types exactly as Cloudflare does', async () => {
    const r = createAssetsResponder({ directory: dir });
    const expected: [string, string][] = [
      ['/', 'text/html; charset=utf-8'],
      ['/image.svg', 'image/svg+xml'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/script.js', 'text/javascript; charset=utf-8'],
      ['/favicon.ico', 'image/vnd.microsoft.icon'],
      ['/painting.jpg', 'image/jpeg'],
      ['/data.json', 'application/json'],
      ['/blob.unknownext', 'application/octet-stream'],
    ];
    for (const [path, type] of expected) {
      const res = await get(r, path);
      expect(res?.status, path).toBe(200);
      expect(h(res, 'content-type'), path).toBe(type);
      expect(h(res, 'cache-control')).toBe('public, max-age=0, must-revalidate');
    }
  });

  it('auto-trailing-slash: serves /about from about.html, redirects the .html and index forms', async () => {
    const r = createAssetsResponder({ directory: dir });
    expect(text(await get(r, '/about'))).toBe('about');
    expect(await get(r, '/about.html?x=1')).toMatchObject({
      status: 307,
      headers: [['Location', '/about?x=1']],
    });
    expect(text(await get(r, '/blog/'))).toBe('blog');
    expect(await get(r, '/blog')).toMatchObject({ status: 307, headers: [['Location', '/blog/']] });
    expect(await get(r, '/blog/index.html')).toMatchObject({
      status: 307,
      headers: [['Location', '/blog/']],
    });
    expect(await get(r, '//style.css')).toMatchObject({
      status: 307,
      headers: [['Location', '/style.css']],
    });
    expect(await get(r, '/nope')).toBeNull();
  });

  it('force- and drop-trailing-slash and none', async () => {
    const force = createAssetsResponder({ directory: dir, htmlHandling: 'force-trailing-slash' });
    expect(await get(force, '/about')).toMatchObject({
      status: 307,
      headers: [['Location', '/about/']],
    });
    expect(text(await get(force, '/about/'))).toBe('about');
    const drop = createAssetsResponder({ directory: dir, htmlHandling: 'drop-trailing-slash' });
    expect(await get(drop, '/blog/')).toMatchObject({
      status: 307,
      headers: [['Location', '/blog']],
    });
    expect(text(await get(drop, '/blog'))).toBe('blog');
    const none = createAssetsResponder({ directory: dir, htmlHandling: 'none' });
    expect(await get(none, '/about')).toBeNull();
    expect(text(await get(none, '/about.html'))).toBe('about');
  });

  it('not_found_handling: none gives the worker the request, 404-page the nearest 404.html, SPA the index', async () => {
    expect(await get(createAssetsResponder({ directory: dir }), '/docs/missing')).toBeNull();
    const page = createAssetsResponder({ directory: dir, notFoundHandling: '404-page' });
    expect(await get(page, '/docs/a/b')).toMatchObject({ status: 404 });
    expect(text(await get(page, '/docs/a/b'))).toBe('docs 404');
    expect(text(await get(page, '/elsewhere'))).toBe('root 404');
    const spa = createAssetsResponder({
      directory: dir,
      notFoundHandling: 'single-page-application',
    });
    const res = await get(spa, '/app/route/42');
    expect(res?.status).toBe(200);
    expect(text(res)).toBe('<h1>home</h1>');
    const fetched = await createAssetsResponder({ directory: dir }).fetch({
      method: 'GET',
      url: 'http://x/missing',
      headers: {},
    });
    expect(fetched.status).toBe(404);
  });

  it('answers If-None-Match with 304, serves HEAD without a body, refuses other methods', async () => {
    const r = createAssetsResponder({ directory: dir });
    const first = await get(r, '/style.css');
    const etag = h(first, 'etag') as string;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await get(r, '/style.css', { 'If-None-Match': etag }))?.status).toBe(304);
    expect((await get(r, '/style.css', { 'if-none-match': `W/${etag}` }))?.status).toBe(304);
    expect((await get(r, '/style.css', { 'if-none-match': '"other"' }))?.status).toBe(200);
    const head = await get(r, '/style.css', {}, 'HEAD');
    expect(head?.status).toBe(200);
    expect(head?.body).toBeNull();
    expect((await get(r, '/style.css', {}, 'POST'))?.status).toBe(405);
    writeFileSync(join(dir, 'style.css'), 'body{color:red}');
    expect(h(await get(r, '/style.css'), 'etag')).not.toBe(etag);
  });

  it('serves byte ranges', async () => {
    const r = createAssetsResponder({ directory: dir });
    const part = await get(r, '/range.txt', { Range: 'bytes=2-4' });
    expect(part?.status).toBe(206);
    expect(text(part)).toBe('234');
    expect(h(part, 'content-range')).toBe('bytes 2-4/10');
    expect(text(await get(r, '/range.txt', { Range: 'bytes=-3' }))).toBe('789');
    expect(text(await get(r, '/range.txt', { Range: 'bytes=8-' }))).toBe('89');
    const bad = await get(r, '/range.txt', { Range: 'bytes=20-30' });
    expect(bad?.status).toBe(416);
    expect(h(bad, 'content-range')).toBe('bytes */10');
  });

  it('never serves a file outside the directory, nor its config files', async () => {
    const r = createAssetsResponder({
      directory: join(dir, 'blog'),
      notFoundHandling: 'single-page-application',
    });
    const attacks = [
      '/../index.html',
      '/%2e%2e/index.html',
      '/%2E%2E%2Fabout.html',
      '/..%2fabout.html',
      '/..%5cabout.html',
      '/post/../../about.html',
      '/%00',
      '/../../secret.txt',
    ];
    for (const a of attacks) {
      const res = await get(r, a);
      expect(
        text(res) === 'about' || text(res) === 'top secret' || text(res) === '<h1>home</h1>',
        a,
      ).toBe(false);
    }
    const root = createAssetsResponder({ directory: dir });
    expect(await get(root, '/link-out.txt')).toBeNull();
    expect(await get(root, '/_headers')).toBeNull();
    expect(() => createAssetsResponder({ directory: join(tmp.dir, 'missing') })).toThrow(
      /assets directory .*missing does not exist/,
    );
  });
});
