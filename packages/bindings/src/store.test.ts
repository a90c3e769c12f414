import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBindingError } from './errors.js';
import { tempDir } from './internal/testing/temp.js';
import { createBindings, openStore } from './store.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('per-worker bindings', () => {
  it('refuses bad declarations with the path of the bad field', () => {
    const store = openStore({ stateDir: tmp.dir });
    expect(() => store.bindings([{ type: 'kv', name: 'KV' }])).toThrow(
      /binding declarations\[0\]\.id/,
    );
    expect(() => store.bindings([{ type: 'nosql', name: 'X' }])).toThrow(
      /binding declarations\[0\]\.type/,
    );
    expect(() => store.bindings([{ type: 'kv', name: 'not valid', id: 'x' }])).toThrow(
      /identifier/,
    );
    expect(() =>
      store.bindings([
        { type: 'kv', name: 'A', id: 'x' },
        { type: 'r2', name: 'A', bucketName: 'b' },
      ]),
    ).toThrow(/binding 'A' is declared twice/);
  });

  it('each worker reaches only its own declarations; errors cross postMessage as data', async () => {
    const store = openStore({ stateDir: tmp.dir });
    const a = store.bindings([{ type: 'kv', name: 'KV', id: 'a' }]);
    const b = store.bindings([{ type: 'd1', name: 'DB', databaseName: 'b' }]);
    await a.handler({ binding: 'KV', method: 'put', args: ['k', 'v'] });
    const err = await b
      .handler({ binding: 'KV', method: 'get', args: ['k'] })
      .catch((e: unknown) => e);
    expect(isBindingError(err)).toBe(true);
    const cloned = structuredClone((err as { toJSON(): unknown }).toJSON());
    expect(cloned).toMatchObject({
      code: 'ERR_BINDING_UNDECLARED',
      message: "binding 'KV' is not declared for this worker",
    });
    await store.close();
    await expect(a.call('KV', 'get', ['k'])).rejects.toMatchObject({ code: 'ERR_BINDING_CLOSED' });
  });

  it('serves env.ASSETS.fetch and createBindings owns its store', async () => {
    const dir = join(tmp.dir, 'public');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<p>hi</p>');
    const env = createBindings({
      stateDir: tmp.dir,
      declarations: [{ type: 'assets', name: 'ASSETS', directory: dir }],
    });
    const res = (await env.call('ASSETS', 'fetch', [
      { method: 'GET', url: 'http://x/', headers: {} },
    ])) as {
      status: number;
      body: Uint8Array;
    };
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.body)).toBe('<p>hi</p>');
    expect(
      ((await env.call('ASSETS', 'fetch', [{ url: 'http://x/missing' }])) as { status: number })
        .status,
    ).toBe(404);
    await env.close();
  });
});
