import { afterEach, beforeEach, expect, it } from 'vitest';
import { isBindingError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';
import { openStore, type Store } from '../store.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
beforeEach(() => {
  tmp = tempDir('pyw-do-b-');
  store = openStore({ stateDir: tmp.dir });
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

it('a durable_object_namespace binding makes ids of its class, and refuses other ids', async () => {
  const env = store.bindings([
    { type: 'durable_object_namespace', name: 'ROOMS', className: 'Room', scriptName: 'chat' },
    { type: 'durable_object_namespace', name: 'USERS', className: 'User', scriptName: 'chat' },
  ]);
  const id = await env.call('ROOMS', 'idFromName', ['room-1']);
  expect(id).toBe(store.durableObjects('chat', 'Room').idFromName('room-1'));
  expect(await env.call('ROOMS', 'idFromString', [id])).toBe(id);
  const unique = await env.call('ROOMS', 'newUniqueId', []);
  expect(unique).toMatch(/^[0-9a-f]{64}$/);
  await expect(env.call('USERS', 'idFromString', [id])).rejects.toThrow(
    /binding 'USERS'.*not made by this namespace/,
  );
  await expect(env.call('ROOMS', 'idFromName', [3])).rejects.toThrow(/takes a string/);
  await expect(env.call('ROOMS', 'get', [id])).rejects.toThrow(/no method "get"/);
});

it('refuses a declaration without a class name, saying where', () => {
  try {
    store.bindings([
      { type: 'durable_object_namespace', name: 'X', className: '', scriptName: 'w' },
    ]);
    throw new Error('expected a rejection');
  } catch (error) {
    expect(isBindingError(error) && error.code).toBe('ERR_BINDING_CONFIG');
    expect((error as Error).message).toMatch(/\[0\]\.className/);
  }
});

it('ctx.storage host calls reach only the calling object, by method name', async () => {
  const ns = store.durableObjects('chat', 'Room');
  const a = ns.idFromName('a');
  const b = ns.idFromName('b');
  expect(await ns.callStorage(a, 'put', ['k', { v: new Map([[1, 2]]) }])).toBeUndefined();
  expect(await ns.callStorage(a, 'get', ['k'])).toEqual({ v: new Map([[1, 2]]) });
  expect(await ns.callStorage(b, 'get', ['k'])).toBeUndefined();
  await ns.callStorage(a, 'sqlExec', ['CREATE TABLE t (x)']);
  await ns.callStorage(a, 'sqlExec', ['INSERT INTO t VALUES (?)', 7]);
  expect(await ns.callStorage(a, 'sqlExec', ['SELECT x FROM t'])).toMatchObject({
    columnNames: ['x'],
    rows: [[7]],
  });
  await expect(ns.callStorage(b, 'sqlExec', ['SELECT x FROM t'])).rejects.toThrow(/no such table/);
  await ns.callStorage(a, 'setAlarm', [Date.now() + 60_000]);
  expect(typeof (await ns.callStorage(a, 'getAlarm', []))).toBe('number');
  expect(await ns.callStorage(a, 'databaseSize', [])).toBeGreaterThan(0);
  await expect(ns.callStorage(a, 'transaction', [])).rejects.toThrow(/no method "transaction"/);
  await expect(ns.callStorage('nope', 'get', ['k'])).rejects.toThrow(/64 hex digits/);
});

it('transactionBegin/transactionEnd: the calls between them commit or roll back together', async () => {
  const ns = store.durableObjects('chat', 'Room');
  const a = ns.idFromName('txn');
  await ns.callStorage(a, 'put', ['n', 1]);
  await ns.callStorage(a, 'transactionBegin', []);
  await ns.callStorage(a, 'put', ['n', 2]);
  await ns.callStorage(a, 'sqlExec', ['CREATE TABLE t (x)']);
  expect(await ns.callStorage(a, 'get', ['n'])).toBe(2);
  await ns.callStorage(a, 'transactionEnd', [false]);
  expect(await ns.callStorage(a, 'get', ['n'])).toBe(1);
  await expect(ns.callStorage(a, 'sqlExec', ['SELECT x FROM t'])).rejects.toThrow(/no such table/);
  // Nested: the inner one rolls back alone, the outer commits.
  await ns.callStorage(a, 'transactionBegin', []);
  await ns.callStorage(a, 'put', ['n', 3]);
  await ns.callStorage(a, 'transactionBegin', []);
  await ns.callStorage(a, 'put', ['m', 9]);
  await ns.callStorage(a, 'transactionEnd', [false]);
  await ns.callStorage(a, 'transactionEnd', [true]);
  expect(await ns.callStorage(a, 'get', [['n', 'm']])).toEqual(new Map([['n', 3]]));
  await expect(ns.callStorage(a, 'transactionEnd', [true])).rejects.toThrow(/no transaction/);
  // One left open (its isolate died) is rolled back, and the object works again.
  await ns.callStorage(a, 'transactionBegin', []);
  await ns.callStorage(a, 'put', ['n', 4]);
  await ns.storage(a).rollbackOpen();
  expect(await ns.callStorage(a, 'get', ['n'])).toBe(3);
});
