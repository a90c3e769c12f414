import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './internal/testing/temp.js';
import { type Bindings, openStore, type Store } from './store.js';

type Obj = Record<string, unknown> & { body?: Uint8Array; etag: string; uploaded: Date };

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('R2 contract (sqlite + blob files)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let env: Bindings;
  const clock = Date.UTC(2026, 0, 1, 12);
  const r2 = (method: string, ...args: unknown[]) =>
    env.call('BUCKET', method, args) as Promise<Obj | null>;
  const text = (o: Obj | null) => new TextDecoder().decode(o?.body);

  beforeEach(() => {
    tmp = tempDir();
    store = openStore({ stateDir: tmp.dir, now: () => clock });
    env = store.bindings([{ type: 'r2', name: 'BUCKET', bucketName: 'media' }]);
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('puts, heads, gets and deletes with etags, http and custom metadata', async () => {
    const put = (await r2('put', 'docs/a.txt', 'hello world', {
      httpMetadata: { contentType: 'text/plain', cacheControl: 'max-age=60' },
      customMetadata: { owner: 'ana' },
    })) as Obj;
    const md5 = createHash('md5').update('hello world').digest('hex');
    expect(put).toMatchObject({
      key: 'docs/a.txt',
      size: 11,
      etag: md5,
      httpEtag: `"${md5}"`,
      checksums: { md5 },
      storageClass: 'Standard',
    });
    expect(put.uploaded).toEqual(new Date(clock));
    const head = (await r2('head', 'docs/a.txt')) as Obj;
    expect(head).toMatchObject({
      httpMetadata: { contentType: 'text/plain', cacheControl: 'max-age=60' },
      customMetadata: { owner: 'ana' },
    });
    expect(head.body).toBeUndefined();
    const got = await r2('get', 'docs/a.txt');
    expect(text(got)).toBe('hello world');
    expect(got?.range).toEqual({ offset: 0, length: 11 });
    expect(await r2('get', 'nope')).toBeNull();
    expect(await r2('head', 'nope')).toBeNull();
    await r2('delete', 'docs/a.txt');
    expect(await r2('get', 'docs/a.txt')).toBeNull();
    await r2('delete', ['never', 'was']);
  });

  it('reads ranges: offset/length, offset only, suffix; refuses unsatisfiable ones', async () => {
    await r2('put', 'r', '0123456789');
    expect(text(await r2('get', 'r', { range: { offset: 2, length: 3 } }))).toBe('234');
    expect(text(await r2('get', 'r', { range: { offset: 7 } }))).toBe('789');
    const suffix = await r2('get', 'r', { range: { suffix: 4 } });
    expect(text(suffix)).toBe('6789');
    expect(suffix?.range).toEqual({ offset: 6, length: 4 });
    await expect(r2('get', 'r', { range: { offset: 50 } })).rejects.toThrow(
      /R2 binding 'BUCKET': get: The requested range is not satisfiable/,
    );
  });

  it('honours onlyIf on get (no body) and put (null)', async () => {
    const first = (await r2('put', 'c', 'v1')) as Obj;
    const noBody = await r2('get', 'c', { onlyIf: { etagDoesNotMatch: first.etag } });
    expect(noBody?.key).toBe('c');
    expect(noBody?.body).toBeUndefined();
    expect(text(await r2('get', 'c', { onlyIf: { etagMatches: first.etag } }))).toBe('v1');
    expect(
      text(await r2('get', 'c', { onlyIf: { uploadedAfter: new Date(clock - 60_000) } })),
    ).toBe('v1');
    expect(
      (await r2('get', 'c', { onlyIf: { uploadedBefore: new Date(clock - 60_000) } }))?.body,
    ).toBeUndefined();
    expect(await r2('put', 'c', 'v2', { onlyIf: { etagMatches: 'not-it' } })).toBeNull();
    expect(text(await r2('get', 'c'))).toBe('v1');
    expect(
      await r2('put', 'c', 'v2', { onlyIf: { etagMatches: `"${first.etag}"` } }),
    ).not.toBeNull();
    expect(text(await r2('get', 'c'))).toBe('v2');
  });

  it('checks md5 and key length with R2 messages', async () => {
    await expect(r2('put', 'k', 'x', { md5: '00'.repeat(16) })).rejects.toThrow(
      /put: The Content-MD5 you specified did not match what we received. \(10037\)/,
    );
    await expect(r2('put', 'k'.repeat(1025), 'x')).rejects.toThrow(/not valid. \(10020\)/);
    expect(
      await r2('put', 'k', 'x', { md5: createHash('md5').update('x').digest('hex') }),
    ).not.toBeNull();
  });

  it('lists by prefix with delimiter, cursor, limit, startAfter and include', async () => {
    for (const k of ['a/1', 'a/2', 'a/sub/x', 'a/sub/y', 'a/tmp/z', 'b/1', 'top']) {
      await r2('put', k, k, { customMetadata: { k } });
    }
    const list = (o: unknown) =>
      env.call('BUCKET', 'list', [o]) as Promise<Record<string, unknown> & { objects: Obj[] }>;
    const all = await list({});
    expect(all.objects.map((o) => o.key)).toEqual([
      'a/1',
      'a/2',
      'a/sub/x',
      'a/sub/y',
      'a/tmp/z',
      'b/1',
      'top',
    ]);
    expect(all.truncated).toBe(false);
    expect(all.objects[0]?.customMetadata).toEqual({});
    const withMeta = await list({ include: ['customMetadata'], limit: 1 });
    expect(withMeta.objects[0]?.customMetadata).toEqual({ k: 'a/1' });
    const grouped = await list({ prefix: 'a/', delimiter: '/' });
    expect(grouped.objects.map((o) => o.key)).toEqual(['a/1', 'a/2']);
    expect(grouped.delimitedPrefixes).toEqual(['a/sub/', 'a/tmp/']);
    const p1 = await list({ prefix: 'a/', delimiter: '/', limit: 3 });
    expect([...p1.objects.map((o) => o.key), ...(p1.delimitedPrefixes as string[])]).toEqual([
      'a/1',
      'a/2',
      'a/sub/',
    ]);
    expect(p1.truncated).toBe(true);
    const p2 = await list({ prefix: 'a/', delimiter: '/', limit: 3, cursor: p1.cursor });
    expect(p2).toMatchObject({ objects: [], delimitedPrefixes: ['a/tmp/'], truncated: false });
    expect((await list({ startAfter: 'a/tmp/z' })).objects.map((o) => o.key)).toEqual([
      'b/1',
      'top',
    ]);
    await expect(list({ limit: 1001 })).rejects.toThrow(/MaxKeys/);
  });

  it('keys with ../ are plain keys: every body stays inside the bucket directory', async () => {
    const keys = ['../../../etc/passwd', '/abs/path', 'a/../../b', '..', 'C:\\win', '\u0000nul'];
    for (const k of keys) await r2('put', k, `body of ${k}`);
    for (const k of keys) expect(text(await r2('get', k))).toBe(`body of ${k}`);
    const bucketDir = `${join(tmp.dir, 'v1', 'r2', 'media')}/`;
    const files = walk(join(tmp.dir));
    for (const f of files)
      expect(
        f.startsWith(bucketDir) || f.startsWith(join(tmp.dir, 'v1', 'r2', 'media.sqlite')),
      ).toBe(true);
    expect(files.filter((f) => f.startsWith(bucketDir))).toHaveLength(keys.length);
  });

  it('overwrites replace the body file and deletes remove it', async () => {
    await r2('put', 'x', 'one');
    await r2('put', 'x', 'two');
    const blobs = () => walk(join(tmp.dir, 'v1', 'r2', 'media'));
    expect(blobs()).toHaveLength(1);
    await r2('delete', 'x');
    expect(blobs()).toHaveLength(0);
  });

  it('multipart uploads: parts, complete with R2-style etag, abort, unknown upload', async () => {
    const mp = (await env.call('BUCKET', 'createMultipartUpload', [
      'big.bin',
      { httpMetadata: { contentType: 'application/x-big' } },
    ])) as {
      key: string;
      uploadId: string;
    };
    expect(mp.key).toBe('big.bin');
    const five = new Uint8Array(5 * 1024 * 1024).fill(7);
    const p1 = (await env.call('BUCKET', 'uploadPart', ['big.bin', mp.uploadId, 1, five])) as {
      partNumber: number;
      etag: string;
    };
    const p2 = (await env.call('BUCKET', 'uploadPart', ['big.bin', mp.uploadId, 2, 'tail'])) as {
      partNumber: number;
      etag: string;
    };
    const done = (await env.call('BUCKET', 'completeMultipartUpload', [
      'big.bin',
      mp.uploadId,
      [p2, p1],
    ])) as Obj;
    const expected = createHash('md5')
      .update(
        Buffer.concat([
          createHash('md5').update(five).digest(),
          createHash('md5').update('tail').digest(),
        ]),
      )
      .digest('hex');
    expect(done).toMatchObject({
      size: five.byteLength + 4,
      etag: `${expected}-2`,
      httpMetadata: { contentType: 'application/x-big' },
    });
    const tail = await r2('get', 'big.bin', { range: { suffix: 5 } });
    expect(Array.from(tail?.body ?? [])).toEqual([7, ...new TextEncoder().encode('tail')]);
    await expect(
      env.call('BUCKET', 'uploadPart', ['big.bin', mp.uploadId, 3, 'x']),
    ).rejects.toThrow(/multipart upload does not exist. \(10024\)/);
    const small = (await env.call('BUCKET', 'createMultipartUpload', ['s'])) as {
      uploadId: string;
    };
    const s1 = await env.call('BUCKET', 'uploadPart', ['s', small.uploadId, 1, 'tiny']);
    const s2 = await env.call('BUCKET', 'uploadPart', ['s', small.uploadId, 2, 'tiny']);
    await expect(
      env.call('BUCKET', 'completeMultipartUpload', ['s', small.uploadId, [s1, s2]]),
    ).rejects.toThrow(/at least 5 MiB/);
    await env.call('BUCKET', 'abortMultipartUpload', ['s', small.uploadId]);
    await expect(
      env.call('BUCKET', 'completeMultipartUpload', ['s', small.uploadId, [s1]]),
    ).rejects.toThrow(/10024/);
    expect(walk(join(tmp.dir, 'v1', 'r2', 'media'))).toHaveLength(1);
  });
});
