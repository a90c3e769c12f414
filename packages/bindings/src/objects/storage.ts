import { AsyncLocalStorage } from 'node:async_hooks';
import { deserialize } from 'node:v8';
import type { Durability } from '../engine/sqlite-engine.js';
import { BindingError, type BindingErrorCode } from '../errors.js';
import { utf8Length } from '../internal/args.js';
import { ObjectConnection } from './connection.js';
import { execSql, type SqlCursorData } from './sql.js';
import { checkKey, checkKeys, encodeEntries, encodeValue, storageError } from './storage-limits.js';

/** Options of `list()`, as in JS. */
export interface DurableObjectListOptions {
  start?: string;
  startAfter?: string;
  end?: string;
  prefix?: string;
  reverse?: boolean;
  limit?: number;
}

/** The alarm as the scheduler sees it. */
export interface AlarmState {
  scheduledTime: number;
  /** Failed runs of this alarm so far (0 on the first run). */
  retryCount: number;
}

/** Cloudflare retries a failing alarm with exponential backoff starting at 2 s, up to 6 times. */
export const ALARM_RETRY = { maxRetries: 6, firstDelayMs: 2000 } as const;

/** Which storage a transaction body runs in (nested calls skip the gate; others wait for it). */
const inTransaction = new AsyncLocalStorage<object>();

interface OpenTransaction {
  token: object;
  done: Promise<void>;
  depth: number;
}

/**
 * One Durable Object's storage: the key-value API, SQL, the alarm, on one SQLite file of its own.
 * Values are stored as V8 serialisations, so they come back as structured clone gives them
 * (Map, Set, Date, bigint, typed arrays, nested objects). Every write outside a transaction is
 * committed (in the WAL) before its promise resolves; a transaction's writes all happen or none.
 */
export class DurableObjectStorage {
  readonly #conn: ObjectConnection;
  #txn: OpenTransaction | undefined;
  #closed = false;
  readonly sql: {
    exec: (query: string, ...bindings: unknown[]) => Promise<SqlCursorData>;
    readonly databaseSize: Promise<number>;
  };

  constructor(
    /** Names the object in errors: `Counter 1a2b…`. */
    readonly label: string,
    readonly file: string,
    durability: Durability = 'process',
    readonly onAlarmChange?: (scheduledTime: number | null) => void,
  ) {
    this.#conn = new ObjectConnection(file, durability);
    const self = this;
    this.sql = {
      exec: async (query, ...bindings) => {
        for (let w = self.#wait(); w; w = self.#wait()) await w;
        return execSql(self.#conn, self.label, query, bindings);
      },
      get databaseSize() {
        return self.#gate().then(() => self.#conn.size());
      },
    };
  }

  #error(code: BindingErrorCode, message: string, hint?: string): BindingError {
    return storageError(this.label, code, message, hint);
  }

  /**
   * The promise to wait for while a transaction other than the caller's own is open, else null.
   * Callers loop `for (let w = this.#wait(); w; w = this.#wait()) await w;` and then do their
   * work with no await in between, so no transaction can begin between the check and the work.
   */
  #wait(): Promise<void> | null {
    if (this.#closed)
      throw new BindingError(
        'ERR_BINDING_CLOSED',
        `Durable Object '${this.label}': storage is closed`,
        {
          userError: false,
        },
      );
    const open = this.#txn;
    return open && inTransaction.getStore() !== open.token ? open.done : null;
  }

  async #gate(): Promise<void> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
  }

  /** `get(key)` -> value or undefined; `get([keys])` -> Map of the keys that exist, in key order. */
  async get(keys: string | string[]): Promise<unknown> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const select = this.#conn.prepare('SELECT value FROM _cf_KV WHERE key = ?');
    if (!Array.isArray(keys)) {
      const row = select.get(checkKey(this.label, 'get', keys)) as { value: Buffer } | undefined;
      return row ? deserialize(row.value) : undefined;
    }
    const out = new Map<string, unknown>();
    for (const k of [...new Set(checkKeys(this.label, 'get', keys))].sort(compare)) {
      const row = select.get(k) as { value: Buffer } | undefined;
      if (row) out.set(k, deserialize(row.value));
    }
    return out;
  }

  /** `put(key, value)` or `put({key: value, ...})` (a Map works too); all entries in one commit. */
  async put(keyOrEntries: unknown, value?: unknown): Promise<void> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const label = this.label;
    const entries: [string, Buffer][] =
      typeof keyOrEntries === 'string'
        ? [[checkKey(label, 'put', keyOrEntries), encodeValue(label, keyOrEntries, value)]]
        : encodeEntries(label, keyOrEntries);
    const upsert = this.#conn.prepare(
      'INSERT INTO _cf_KV (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.#atomic(() => {
      for (const [k, v] of entries) upsert.run(k, v);
    });
  }

  /** `delete(key)` -> whether it existed; `delete([keys])` -> how many existed. */
  async delete(keys: string | string[]): Promise<boolean | number> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const del = this.#conn.prepare('DELETE FROM _cf_KV WHERE key = ?');
    if (!Array.isArray(keys)) return del.run(checkKey(this.label, 'delete', keys)).changes > 0;
    const list = [...new Set(checkKeys(this.label, 'delete', keys))];
    let n = 0;
    this.#atomic(() => {
      for (const k of list) n += del.run(k).changes;
    });
    return n;
  }

  /** Keys in UTF-8 byte order (as Cloudflare sorts them) with their values, as a Map. */
  async list(options: DurableObjectListOptions = {}): Promise<Map<string, unknown>> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const o = options ?? {};
    if (o.start !== undefined && o.startAfter !== undefined)
      throw this.#error(
        'ERR_DO_KEY',
        'list(): start and startAfter cannot both be given',
        'pass one of them',
      );
    if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit > 0))
      throw this.#error(
        'ERR_DO_KEY',
        `list(): limit must be a positive integer, got ${String(o.limit)}`,
        'pass limit >= 1',
      );
    const where: string[] = [];
    const params: unknown[] = [];
    const bound = (sql: string, key: string | undefined) => {
      if (key === undefined) return;
      where.push(sql);
      params.push(checkKey(this.label, 'list', key));
    };
    bound('key >= ?', o.start);
    bound('key > ?', o.startAfter);
    bound('key < ?', o.end);
    if (o.prefix !== undefined && o.prefix !== '') {
      // Compared as bytes: exact for any prefix, astral characters included.
      where.push('substr(CAST(key AS BLOB), 1, ?) = CAST(? AS BLOB)');
      params.push(utf8Length(o.prefix), checkKey(this.label, 'list', o.prefix));
    }
    const sql = `SELECT key, value FROM _cf_KV${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY key ${o.reverse ? 'DESC' : 'ASC'}${o.limit ? ' LIMIT ?' : ''}`;
    if (o.limit) params.push(o.limit);
    const rows = this.#conn.prepare(sql).all(...params) as { key: string; value: Buffer }[];
    return new Map(rows.map((r) => [r.key, deserialize(r.value)]));
  }

  /** Deletes every key-value pair, every SQL table and the alarm (Cloudflare's `deleteAll`). */
  async deleteAll(): Promise<void> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const tables = this.#conn.db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
      )
      .all() as { name: string }[];
    this.#atomic(() => {
      this.#conn.db.exec('DELETE FROM _cf_KV; DELETE FROM _cf_METADATA;');
      for (const t of tables)
        this.#conn.db.exec(`DROP TABLE IF EXISTS "${t.name.replaceAll('"', '""')}"`);
    });
    this.onAlarmChange?.(null);
  }

  /** Runs `fn` atomically: inside an open transaction as part of it, else in its own. */
  #atomic(fn: () => void): void {
    if (this.#txn) this.#conn.guard(fn);
    else this.#conn.guard(() => this.#conn.db.transaction(fn).immediate());
  }

  /**
   * Runs `fn` in a transaction: its writes all commit when it returns, or all roll back when it
   * throws or calls `txn.rollback()`. Other calls on this storage wait until it ends; calls
   * made from inside `fn` (on `txn` or on this storage) are part of it. Nested = savepoint.
   */
  async transaction<T>(fn: (txn: DurableObjectTransaction) => Promise<T> | T): Promise<T> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const txn = new DurableObjectTransaction(this);
    const open = this.#txn;
    if (open) {
      const name = `pyw_sp_${++open.depth}`;
      this.#conn.db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn(txn);
        this.#conn.db.exec(
          txn.rolledBack ? `ROLLBACK TO ${name}; RELEASE ${name}` : `RELEASE ${name}`,
        );
        return result;
      } catch (error) {
        this.#conn.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        throw error;
      } finally {
        open.depth--;
      }
    }
    let finish!: () => void;
    const token = {};
    this.#txn = { token, done: new Promise<void>((r) => (finish = r)), depth: 0 };
    const alarmBefore = this.#alarmRow();
    try {
      this.#conn.guard(() => this.#conn.db.exec('BEGIN IMMEDIATE'));
    } catch (error) {
      this.#txn = undefined;
      finish();
      throw error;
    }
    try {
      const result = await inTransaction.run(token, () => fn(txn));
      this.#conn.guard(() => this.#conn.db.exec(txn.rolledBack ? 'ROLLBACK' : 'COMMIT'));
      return result;
    } catch (error) {
      if (this.#conn.db.inTransaction) this.#conn.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.#txn = undefined;
      finish();
      const after = this.#alarmRow();
      if (after?.scheduledTime !== alarmBefore?.scheduledTime)
        this.onAlarmChange?.(after?.scheduledTime ?? null);
    }
  }

  readonly #explicit: { token: object; end: (commit: boolean) => void; done: Promise<void> }[] = [];

  /**
   * Opens a transaction whose body is whatever calls come until {@link endTransaction}: the
   * host-call form of `transaction(fn)`, for an object whose code runs in another thread (its
   * closure cannot cross). Calls made through {@link within} join it; others wait for it.
   * Nested: a savepoint inside the open one.
   */
  async beginTransaction(): Promise<void> {
    const parent = this.#explicit.at(-1);
    let opened!: (token: object) => void;
    let failed!: (error: unknown) => void;
    const ready = new Promise<object>((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    let end!: (commit: boolean) => void;
    const decided = new Promise<boolean>((resolve) => (end = resolve));
    const body = async (txn: DurableObjectTransaction): Promise<void> => {
      opened(inTransaction.getStore() as object);
      if (!(await decided)) txn.rollback();
    };
    const run = (): Promise<void> => this.transaction(body);
    const done = parent ? inTransaction.run(parent.token, run) : run();
    done.catch(failed);
    const token = await ready;
    this.#explicit.push({ token, end, done });
  }

  /** Ends the innermost {@link beginTransaction}: commits its writes, or rolls them back. */
  async endTransaction(commit: boolean): Promise<void> {
    const top = this.#explicit.pop();
    if (!top)
      throw this.#error(
        'ERR_DO_TRANSACTION',
        'no transaction is open',
        'end a transaction only once, after beginning it',
      );
    top.end(commit === true);
    await top.done;
  }

  /** Runs `fn` (one host call) inside the open explicit transaction, if there is one. */
  within<T>(fn: () => Promise<T>): Promise<T> {
    const top = this.#explicit.at(-1);
    return top ? inTransaction.run(top.token, fn) : fn();
  }

  /** Rolls back every explicit transaction left open (the object's isolate went away). */
  async rollbackOpen(): Promise<void> {
    while (this.#explicit.length > 0) await this.endTransaction(false).catch(() => {});
  }

  /** Synchronous transaction (`transactionSync`): `fn` runs between BEGIN and COMMIT. */
  transactionSync<T>(fn: () => T): T {
    if (this.#txn && inTransaction.getStore() !== this.#txn.token)
      throw this.#error(
        'ERR_DO_TRANSACTION',
        'transactionSync() while an async transaction is open',
        'await it first',
      );
    return this.#conn.guard(() => this.#conn.db.transaction(fn).immediate());
  }

  #alarmRow(): AlarmState | null {
    const rows = this.#conn
      .prepare("SELECT key, value FROM _cf_METADATA WHERE key IN ('alarm', 'alarm_retries')")
      .all() as { key: string; value: number }[];
    const time = rows.find((r) => r.key === 'alarm')?.value;
    if (time === undefined || time === null) return null;
    return {
      scheduledTime: Number(time),
      retryCount: Number(rows.find((r) => r.key === 'alarm_retries')?.value ?? 0),
    };
  }

  /** The alarm's time in ms since the epoch, or null. */
  async getAlarm(): Promise<number | null> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    return this.#alarmRow()?.scheduledTime ?? null;
  }

  /** Sets (replaces) the alarm; `scheduledTime` is ms since the epoch or a Date. */
  async setAlarm(scheduledTime: unknown): Promise<void> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const ms = scheduledTime instanceof Date ? scheduledTime.getTime() : scheduledTime;
    if (typeof ms !== 'number' || !Number.isFinite(ms))
      throw this.#error(
        'ERR_DO_ALARM',
        `setAlarm(): the time must be ms since the epoch or a Date, got ${String(scheduledTime)}`,
        'pass e.g. Date.now() + 60000',
      );
    const upsert = this.#conn.prepare(
      'INSERT INTO _cf_METADATA (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.#atomic(() => {
      upsert.run('alarm', Math.round(ms));
      upsert.run('alarm_retries', 0);
    });
    if (!this.#txn) this.onAlarmChange?.(Math.round(ms));
  }

  async deleteAlarm(): Promise<void> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    this.#conn.prepare("DELETE FROM _cf_METADATA WHERE key IN ('alarm', 'alarm_retries')").run();
    if (!this.#txn) this.onAlarmChange?.(null);
  }

  /** The alarm with its retry count (the scheduler's view; not reachable from the worker). */
  async alarmState(): Promise<AlarmState | null> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    return this.#alarmRow();
  }

  /**
   * Records the end of an alarm run for `ran` (the time that fired). Success clears it unless the
   * handler set a new one; a failure schedules a retry with backoff, up to `ALARM_RETRY.maxRetries`.
   * Returns the next time the alarm is due, or null.
   */
  async settleAlarm(ran: number, ok: boolean, now = Date.now()): Promise<number | null> {
    for (let w = this.#wait(); w; w = this.#wait()) await w;
    const current = this.#alarmRow();
    if (!current || current.scheduledTime !== ran) return current?.scheduledTime ?? null;
    const upsert = this.#conn.prepare(
      'INSERT INTO _cf_METADATA (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    let next: number | null = null;
    this.#atomic(() => {
      if (ok || current.retryCount >= ALARM_RETRY.maxRetries) {
        this.#conn
          .prepare("DELETE FROM _cf_METADATA WHERE key IN ('alarm', 'alarm_retries')")
          .run();
      } else {
        next = now + ALARM_RETRY.firstDelayMs * 2 ** current.retryCount;
        upsert.run('alarm', next);
        upsert.run('alarm_retries', current.retryCount + 1);
      }
    });
    this.onAlarmChange?.(next);
    return next;
  }

  /** Closes the file (eviction); a later open of the same object sees everything committed. */
  close(): void {
    this.#closed = true;
    this.#conn.close();
  }
}

/** Byte-order comparison of UTF-16 strings as their UTF-8 forms compare (SQLite BINARY order). */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The `txn` a transaction body gets: the same methods, plus `rollback()`. */
export class DurableObjectTransaction {
  rolledBack = false;
  constructor(readonly storage: DurableObjectStorage) {}
  /** Makes the transaction roll back when its body returns (instead of committing). */
  rollback(): void {
    this.rolledBack = true;
  }
  get(keys: string | string[]): Promise<unknown> {
    return this.storage.get(keys);
  }
  put(keyOrEntries: unknown, value?: unknown): Promise<void> {
    return this.storage.put(keyOrEntries, value);
  }
  delete(keys: string | string[]): Promise<boolean | number> {
    return this.storage.delete(keys);
  }
  list(options?: DurableObjectListOptions): Promise<Map<string, unknown>> {
    return this.storage.list(options);
  }
  getAlarm(): Promise<number | null> {
    return this.storage.getAlarm();
  }
  setAlarm(time: unknown): Promise<void> {
    return this.storage.setAlarm(time);
  }
  deleteAlarm(): Promise<void> {
    return this.storage.deleteAlarm();
  }
}
