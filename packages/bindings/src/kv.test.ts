import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBindingError } from './errors.js';
import { tempDir } from './internal/testing/temp.js';
import { type Bindings, openStore, type Store } from './store.js';

// The KV contract: what a worker sees through `env.KV`, on real SQLite files. Run once per
// durability mode, since each is a distinct engine configuration a user can choose.
for (const durability of ['process', 'fsync'] as const) {
  describe(`KV contract (sqlite, durability=${durability})`, () => {
    let tmp: ReturnType<typeof tempDir>;
    let store: Store;
    let kv: Bindings;
    let clock = Date.UTC(2026, 0, 1);
    const call = (method: string, ...args: unknown[]) => kv.call('KV', method, args);

    beforeEach(() => {
      tmp = tempDir();
      clock = Date.UTC(2026, 0, 1);
      store = openStore({ stateDir: tmp.dir, durability, now: () => clock });
      kv = store.bindings([{ type: 'kv', name: 'KV', id: 'ns1' }]);
    });
    afterEach(async () => {
      await store.close();
      tmp.cleanup();
    });

    it('puts and gets text, json, bytes and stream values', async () => {
      await call('put', 'a', 'hello');
      expect(await call('get', 'a')).toBe('hello');
      expect(await call('get', 'a', 'text')).toBe('hello');
      await call('put', 'j', JSON.stringify({ x: [1, 2] }));
      expect(await call('get', 'j', { type: 'json' })).toEqual({ x: [1, 2] });
      await call('put', 'b', new Uint8Array([0, 255, 7]));
      expect(await call('get', 'b', 'arrayBuffer')).toEqual(new Uint8Array([0, 255, 7]));
      expect(await call('get', 'b', { type: 'stream' })).toEqual(new Uint8Array([0, 255, 7]));
      expect(await call('get', 'missing')).toBeNull();
    });

    it('overwrites, deletes, and deleting a missing key is fine', async () => {
      await call('put', 'k', 'one');
      await call('put', 'k', 'two');
      expect(await call('get', 'k')).toBe('two');
      expect(await call('delete', 'k')).toBeNull();
      expect(await call('get', 'k')).toBeNull();
      expect(await call('delete', 'never')).toBeNull();
    });

    it('keeps metadata and expiration, and expires keys', async () => {
      await call('put', 'm', 'v', { metadata: { owner: 'ana' }, expirationTtl: 120 });
      expect(await call('getWithMetadata', 'm')).toEqual({
        value: 'v',
        metadata: { owner: 'ana' },
        cacheStatus: null,
      });
      expect(await call('getWithMetadata', 'none')).toEqual({
        value: null,
        metadata: null,
        cacheStatus: null,
      });
      const listed = (await call('list')) as { keys: unknown[] };
      expect(listed.keys).toEqual([
        { name: 'm', expiration: clock / 1000 + 120, metadata: { owner: 'ana' } },
      ]);
      clock += 121_000;
      expect(await call('get', 'm')).toBeNull();
      expect(((await call('list')) as { keys: unknown[] }).keys).toEqual([]);
      await call('put', 'abs', 'v', { expiration: clock / 1000 + 61 });
      expect(await call('get', 'abs')).toBe('v');
    });

    it('lists by prefix in byte order with limit and cursor', async () => {
      for (const k of ['b', 'a/2', 'a/1', 'a/10', 'c', 'a/é', 'a/z']) await call('put', k, k);
      const page1 = (await call('list', { prefix: 'a/', limit: 2 })) as Record<string, unknown>;
      expect(page1.keys).toEqual([{ name: 'a/1' }, { name: 'a/10' }]);
      expect(page1.list_complete).toBe(false);
      expect(typeof page1.cursor).toBe('string');
      const page2 = (await call('list', {
        prefix: 'a/',
        limit: 2,
        cursor: page1.cursor,
      })) as Record<string, unknown>;
      expect(page2.keys).toEqual([{ name: 'a/2' }, { name: 'a/z' }]);
      const page3 = (await call('list', { prefix: 'a/', cursor: page2.cursor })) as Record<
        string,
        unknown
      >;
      expect(page3).toEqual({ keys: [{ name: 'a/é' }], list_complete: true, cacheStatus: null });
      const all = (await call('list')) as { keys: { name: string }[] };
      expect(all.keys.map((k) => k.name)).toEqual(['a/1', 'a/10', 'a/2', 'a/z', 'a/é', 'b', 'c']);
    });

    it('gets several keys at once', async () => {
      await call('put', 'x', '1');
      await call('put', 'y', '{"n":2}');
      expect(await call('get', ['x', 'nope'])).toEqual({ x: '1', nope: null });
      expect(await call('get', ['y'], 'json')).toEqual({ y: { n: 2 } });
    });

    it("enforces Cloudflare's limits with Cloudflare's messages, naming the binding", async () => {
      const cases: [string, unknown[], RegExp][] = [
        ['put', ['', 'v'], /KV binding 'KV': KV PUT failed: 400 Key names must not be empty/],
        ['put', ['..', 'v'], /Illegal key name "\.\."/],
        [
          'put',
          ['k'.repeat(513), 'v'],
          /414 UTF-8 encoded length of 513 exceeds key length limit of 512/,
        ],
        [
          'put',
          ['k', 'x'.repeat(25 * 1024 * 1024 + 1)],
          /413 Value length of 26214401 exceeds limit of 26214400/,
        ],
        [
          'put',
          ['k', 'v', { metadata: { a: 'x'.repeat(1100) } }],
          /413 Metadata length of \d+ exceeds limit of 1024/,
        ],
        [
          'put',
          ['k', 'v', { expirationTtl: 30 }],
          /Invalid expiration_ttl of 30. Expiration TTL must be at least 60/,
        ],
        ['put', ['k', 'v', { expiration: 10 }], /Invalid expiration of 10/],
        ['put', ['k', { obj: 1 }], /put\(\) takes a string or bytes/],
        ['list', [{ limit: 1001 }], /Invalid key_count_limit of 1001/],
        ['list', [{ limit: 0 }], /Invalid key_count_limit of 0/],
        ['get', ['k', { cacheTtl: 5 }], /Invalid cache_ttl of 5/],
        ['get', ['k', 'yaml'], /type must be/],
        ['frobnicate', [], /has no method "frobnicate"/],
      ];
      for (const [method, args, message] of cases) {
        const err = await kv.call('KV', method, args).catch((e: unknown) => e);
        expect(isBindingError(err), `${method}(${String(args[0]).slice(0, 20)})`).toBe(true);
        expect((err as Error).message).toMatch(message);
      }
      await call('put', 'notjson', '{oops');
      await expect(call('get', 'notjson', 'json')).rejects.toThrow(
        /KV binding 'KV': the value of key "notjson" is not valid JSON/,
      );
    });

    it('refuses bindings the worker did not declare', async () => {
      await expect(kv.call('OTHER', 'get', ['k'])).rejects.toMatchObject({
        code: 'ERR_BINDING_UNDECLARED',
      });
      await expect(kv.call('KV', 'constructor', [])).rejects.toMatchObject({
        code: 'ERR_BINDING_METHOD',
      });
      await expect(kv.call('KV', '__proto__', [])).rejects.toMatchObject({
        code: 'ERR_BINDING_METHOD',
      });
    });

    it('shares a namespace between workers and keeps it across a reopen', async () => {
      const other = store.bindings([{ type: 'kv', name: 'CACHE', id: 'ns1' }]);
      await call('put', 'shared', 'yes');
      expect(await other.call('CACHE', 'get', ['shared'])).toBe('yes');
      await store.close();
      store = openStore({ stateDir: tmp.dir, durability });
      kv = store.bindings([{ type: 'kv', name: 'KV', id: 'ns1' }]);
      expect(await call('get', 'shared')).toBe('yes');
    });
  });
}
