import { existsSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir } from '../internal/testing/temp.js';
import { openStore, type Store } from '../store.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
beforeEach(() => {
  tmp = tempDir('pyw-do-m-');
  store = openStore({ stateDir: tmp.dir });
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

it('a renamed class keeps its objects and ids; a deleted class loses them; each tag runs once', async () => {
  const v1 = [{ tag: 'v1', new_sqlite_classes: ['Counter', 'Scratch'] }];
  expect(store.applyDurableObjectMigrations('app', v1)).toEqual(['v1']);
  const old = store.durableObjects('app', 'Counter');
  const id = old.idFromName('room-1');
  await old.storage(id).put('n', 41);
  const scratch = store.durableObjects('app', 'Scratch');
  const sid = scratch.idFromName('x');
  await scratch.storage(sid).put('k', 1);
  const file = scratch.fileFor(sid);

  const v2 = [
    ...v1,
    {
      tag: 'v2',
      renamed_classes: [{ from: 'Counter', to: 'Tally' }],
      deleted_classes: ['Scratch'],
    },
  ];
  expect(store.applyDurableObjectMigrations('app', v2)).toEqual(['v2']);
  expect(store.applyDurableObjectMigrations('app', v2)).toEqual([]);
  const renamed = store.durableObjects('app', 'Tally');
  expect(renamed.idFromName('room-1')).toBe(id);
  expect(await renamed.storage(id).get('n')).toBe(41);
  expect(existsSync(file)).toBe(false);
  expect(await store.durableObjects('app', 'Scratch').storage(sid).get('k')).toBeUndefined();
});

it('refuses a config that rewrites applied history or is malformed, saying where', () => {
  store.applyDurableObjectMigrations('app', [{ tag: 'v1', new_sqlite_classes: ['A'] }]);
  expect(() => store.applyDurableObjectMigrations('app', [{ tag: 'v0' }])).toThrow(
    /tag "v1" was applied .* config has "v0"/,
  );
  expect(() =>
    store.applyDurableObjectMigrations('app', [{ tag: 'v1', renamed_classes: [{ from: 'A' }] }]),
  ).toThrow(/\[0\]\.renamed_classes\[0\]\.to/);
});
