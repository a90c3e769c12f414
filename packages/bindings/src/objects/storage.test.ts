import { AsyncResource } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBindingError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';
import { openStore, type Store } from '../store.js';
import type { DurableObjectNamespaceStore } from './namespace.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let ns: DurableObjectNamespaceStore;

beforeEach(() => {
  tmp = tempDir('pyw-do-');
  store = openStore({ stateDir: tmp.dir });
  ns = store.durableObjects('app', 'Counter');
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(isBindingError(error)).toBe(true);
    return (error as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('ids', () => {
  it('names the same object for the same name, a different one per namespace', () => {
    const a = ns.idFromName('room-1');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(ns.idFromName('room-1')).toBe(a);
    expect(ns.idFromName('room-2')).not.toBe(a);
    const other = store.durableObjects('app', 'Other');
    expect(other.idFromName('room-1')).not.toBe(a);
    expect(ns.idFromString(a)).toBe(a);
    expect(() => other.idFromString(a)).toThrow(/not made by this namespace/);
    expect(() => ns.idFromString('zz')).toThrow(/64 hex digits/);
    const u = ns.newUniqueId();
    expect(u).not.toBe(ns.newUniqueId());
    expect(ns.idFromString(u)).toBe(u);
  });
});

describe('key-value API on a real file', () => {
  it('round-trips values as structured clone does', async () => {
    const s = ns.storage(ns.idFromName('a'));
    const value = {
      n: 1.5,
      big: 12345678901234567890n,
      when: new Date(1700000000000),
      bytes: new Uint8Array([0, 1, 255]),
      map: new Map<unknown, unknown>([['k', [1, 'two', null]]]),
      set: new Set([1, 2]),
      nested: { deep: [true, undefined] },
    };
    await s.put('v', value);
    expect(await s.get('v')).toEqual(value);
    expect(await s.get('missing')).toBeUndefined();
    await s.put({ a: 1, b: 'two' });
    expect(await s.get(['b', 'missing', 'a'])).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', 'two'],
      ]),
    );
    expect(await s.delete('a')).toBe(true);
    expect(await s.delete('a')).toBe(false);
    expect(await s.delete(['b', 'v', 'nope'])).toBe(2);
    expect((await s.list()).size).toBe(0);
  });

  it('lists in byte order with start, startAfter, end, prefix, reverse and limit', async () => {
    const s = ns.storage(ns.idFromName('list'));
    const keys = ['a', 'ab', 'abc', 'b', 'ba', 'c', 'é', '😀x', '😀y'];
    await s.put(Object.fromEntries(keys.map((k, i) => [k, i])));
    const names = async (o: object) => [...(await s.list(o)).keys()];
    expect(await names({})).toEqual(keys);
    expect(await names({ start: 'ab', end: 'ba' })).toEqual(['ab', 'abc', 'b']);
    expect(await names({ startAfter: 'ab', limit: 2 })).toEqual(['abc', 'b']);
    expect(await names({ prefix: 'a' })).toEqual(['a', 'ab', 'abc']);
    expect(await names({ prefix: '😀' })).toEqual(['😀x', '😀y']);
    expect(await names({ reverse: true, limit: 3 })).toEqual(['😀y', '😀x', 'é']);
    expect(await names({ prefix: 'b', reverse: true })).toEqual(['ba', 'b']);
    expect((await s.list({ prefix: 'ab' })).get('abc')).toBe(2);
    expect(await code(s.list({ start: 'a', startAfter: 'b' }))).toBe('ERR_DO_KEY');
    expect(await code(s.list({ limit: 0 }))).toBe('ERR_DO_KEY');
  });

  it('refuses bad keys and values with errors that say what', async () => {
    const s = ns.storage(ns.idFromName('limits'));
    expect(await code(s.put('x'.repeat(2049), 1))).toBe('ERR_DO_KEY');
    expect(await code(s.put('k', undefined))).toBe('ERR_DO_VALUE');
    expect(await code(s.put('k', new Uint8Array(200 * 1024)))).toBe('ERR_DO_VALUE');
    expect(await code(s.put('k', () => 1))).toBe('ERR_DO_VALUE');
    expect(await code(s.get(Array.from({ length: 129 }, (_, i) => `k${i}`)))).toBe('ERR_DO_KEY');
    await expect(s.put('k', () => 1)).rejects.toThrow(/Counter [0-9a-f]{12}.*put\("k"\)/);
  });

  it('deleteAll removes keys, tables and the alarm', async () => {
    const s = ns.storage(ns.idFromName('wipe'));
    await s.put('k', 1);
    await s.sql.exec('CREATE TABLE t (x)');
    await s.setAlarm(Date.now() + 60_000);
    await s.deleteAll();
    expect(await s.get('k')).toBeUndefined();
    expect(await s.getAlarm()).toBeNull();
    expect((await s.sql.exec("SELECT name FROM sqlite_master WHERE name = 't'")).rows).toEqual([]);
  });
});

describe('transactions', () => {
  it('a raising transaction rolls back every write, a returning one commits', async () => {
    const s = ns.storage(ns.idFromName('tx'));
    await s.put('n', 1);
    await s.sql.exec('CREATE TABLE t (x)');
    await expect(
      s.transaction(async (txn) => {
        await txn.put('n', 2);
        await s.sql.exec('INSERT INTO t VALUES (1)');
        await txn.setAlarm(Date.now() + 1000);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.get('n')).toBe(1);
    expect((await s.sql.exec('SELECT count(*) FROM t')).rows).toEqual([[0]]);
    expect(await s.getAlarm()).toBeNull();
    await s.transaction(async (txn) => {
      await txn.put('n', 3);
      txn.rollback();
    });
    expect(await s.get('n')).toBe(1);
    const result = await s.transaction(async (txn) => {
      await txn.put('n', 4);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(await s.get('n')).toBe(4);
  });

  it('keeps other calls out until it ends (no interleaving at an await)', async () => {
    const s = ns.storage(ns.idFromName('gate'));
    await s.put('n', 0);
    const order: string[] = [];
    let outside: Promise<unknown> = Promise.resolve();
    // Bound out here: runs in another request's async context even when called from inside.
    const otherRequest = AsyncResource.bind(() =>
      s.put('n', 100).then(() => order.push('outside put')),
    );
    const tx = s.transaction(async (txn) => {
      const n = (await txn.get('n')) as number;
      await txn.put('n', n + 1);
      // Another request's write arrives while this one awaits: it must not land inside.
      outside = otherRequest();
      await new Promise((r) => setTimeout(r, 20));
      order.push(`tx sees ${String(await txn.get('n'))}`);
      txn.rollback();
    });
    await tx;
    await outside;
    expect(order).toEqual(['tx sees 1', 'outside put']);
    expect(await s.get('n')).toBe(100);
  });

  it('nests as savepoints: an inner failure keeps the outer writes', async () => {
    const s = ns.storage(ns.idFromName('nest'));
    await s.transaction(async (txn) => {
      await txn.put('outer', 1);
      await expect(
        s.transaction(async (inner) => {
          await inner.put('inner', 1);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
    });
    expect(await s.get('outer')).toBe(1);
    expect(await s.get('inner')).toBeUndefined();
  });

  it('no lost update under 100 concurrent read-modify-write transactions', async () => {
    const s = ns.storage(ns.idFromName('count'));
    await Promise.all(
      Array.from({ length: 100 }, () =>
        s.transaction(async (txn) => {
          const n = ((await txn.get('n')) as number | undefined) ?? 0;
          await Promise.resolve();
          await txn.put('n', n + 1);
        }),
      ),
    );
    expect(await s.get('n')).toBe(100);
  });
});

describe('sql.exec', () => {
  it('gives rows, column names, rows read and written, and the database size', async () => {
    const s = ns.storage(ns.idFromName('sql'));
    const created = await s.sql.exec('CREATE TABLE m (id INTEGER PRIMARY KEY, body TEXT, b BLOB)');
    expect(created).toEqual({ columnNames: [], rows: [], rowsRead: 0, rowsWritten: 0 });
    const ins = await s.sql.exec(
      'INSERT INTO m (body, b) VALUES (?, ?), (?, ?)',
      'hi',
      new Uint8Array([1]),
      'yo',
      null,
    );
    expect(ins.rowsWritten).toBe(2);
    const sel = await s.sql.exec('SELECT id, body, b FROM m WHERE id >= ? ORDER BY id', 1);
    expect(sel.columnNames).toEqual(['id', 'body', 'b']);
    expect(sel.rows).toEqual([
      [1, 'hi', new Uint8Array([1])],
      [2, 'yo', null],
    ]);
    expect(sel.rowsRead).toBe(2);
    const ret = await s.sql.exec('UPDATE m SET body = ? RETURNING id', 'x');
    expect(ret.rows).toEqual([[1], [2]]);
    expect(ret.rowsWritten).toBe(2);
    const multi = await s.sql.exec(
      "INSERT INTO m (body) VALUES ('z'); SELECT count(*) AS n FROM m",
    );
    expect(multi).toMatchObject({ columnNames: ['n'], rows: [[3]] });
    expect(await s.sql.databaseSize).toBeGreaterThan(4096);
    expect(await code(s.sql.exec('SELEC 1'))).toBe('ERR_DO_SQL');
  });

  it("cannot reach another object's file, another path or the reserved tables", async () => {
    const a = ns.storage(ns.idFromName('a'));
    const b = ns.storage(ns.idFromName('b'));
    await b.put('secret', 'b-only');
    await expect(
      a.sql.exec(`ATTACH DATABASE '${ns.fileFor(ns.idFromName('b'))}' AS other`),
    ).rejects.toThrow(/ATTACH/);
    await expect(a.sql.exec('SELECT * FROM _cf_KV')).rejects.toThrow(/reserved _cf_/);
    await expect(a.sql.exec('SELECT * FROM "_CF_kv"')).rejects.toThrow(/reserved _cf_/);
    await expect(a.sql.exec("SELECT load_extension('x')")).rejects.toThrow(/load_extension/);
    expect(await a.get('secret')).toBeUndefined();
    // A string literal that merely mentions a reserved word is data, not access.
    expect((await a.sql.exec("SELECT 'attach _cf_KV' AS s")).rows).toEqual([['attach _cf_KV']]);
  });
});

describe('alarms and reopening', () => {
  it('keeps storage and the alarm across a close and a new store', async () => {
    const id = ns.idFromName('room-1');
    const s = ns.storage(id);
    await s.put('message', 'hello');
    await s.sql.exec('CREATE TABLE t (x); INSERT INTO t VALUES (42)');
    const when = Date.now() + 3_600_000;
    await s.setAlarm(new Date(when));
    expect(existsSync(ns.fileFor(id))).toBe(true);
    await store.close();
    store = openStore({ stateDir: tmp.dir });
    ns = store.durableObjects('app', 'Counter');
    expect(await ns.alarms()).toEqual([{ id, alarm: { scheduledTime: when, retryCount: 0 } }]);
    const again = ns.storage(id);
    expect(await again.get('message')).toBe('hello');
    expect((await again.sql.exec('SELECT x FROM t')).rows).toEqual([[42]]);
    expect(await again.getAlarm()).toBe(when);
  });

  it('retries a failing alarm with backoff, clears it on success, tells the scheduler', async () => {
    const seen: (number | null)[] = [];
    const n2 = store.durableObjects('app', 'Alarmed', { onAlarmChange: (_id, t) => seen.push(t) });
    const s = n2.storage(n2.idFromName('x'));
    await s.setAlarm(1000);
    expect(await s.settleAlarm(1000, false, 5000)).toBe(7000);
    expect(await s.alarmState()).toEqual({ scheduledTime: 7000, retryCount: 1 });
    expect(await s.settleAlarm(7000, false, 8000)).toBe(12000);
    expect(await s.settleAlarm(12000, true, 13000)).toBeNull();
    expect(await s.getAlarm()).toBeNull();
    expect(seen).toEqual([1000, 7000, 12000, null]);
    expect(await code(s.setAlarm('soon'))).toBe('ERR_DO_ALARM');
  });
});
