import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, listMigrations } from './d1-migrations.js';
import { tempDir } from './internal/testing/temp.js';
import { type Bindings, openStore, type Store } from './store.js';

describe('D1 contract (sqlite)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let env: Bindings;
  const db = (method: string, ...args: unknown[]) => env.call('DB', method, args);

  beforeEach(async () => {
    tmp = tempDir();
    store = openStore({ stateDir: tmp.dir });
    env = store.bindings([{ type: 'd1', name: 'DB', databaseName: 'app' }]);
    await db(
      'run',
      'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, avatar BLOB)',
    );
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('run/all return results, success and meta as D1 does', async () => {
    const ins = (await db('run', 'INSERT INTO users (name) VALUES (?), (?)', [
      'ana',
      'bo',
    ])) as Record<string, unknown>;
    expect(ins).toMatchObject({
      success: true,
      results: [],
      meta: {
        changes: 2,
        last_row_id: 2,
        changed_db: true,
        rows_written: 2,
        served_by: expect.any(String),
      },
    });
    const meta = ins.meta as Record<string, number>;
    expect(meta.size_after).toBeGreaterThan(0);
    expect(meta.duration).toBeGreaterThanOrEqual(0);
    const all = (await db('all', 'SELECT id, name FROM users ORDER BY id')) as Record<
      string,
      unknown
    >;
    expect(all.results).toEqual([
      { id: 1, name: 'ana' },
      { id: 2, name: 'bo' },
    ]);
    expect(all.meta).toMatchObject({
      changes: 0,
      changed_db: false,
      rows_read: 2,
      rows_written: 0,
    });
    const ret = (await db('run', 'UPDATE users SET name = upper(name) RETURNING name')) as Record<
      string,
      unknown
    >;
    expect(ret.results).toEqual([{ name: 'ANA' }, { name: 'BO' }]);
    expect(ret.meta).toMatchObject({ changes: 2 });
  });

  it('first, first(column) and raw(columnNames)', async () => {
    await db('run', 'INSERT INTO users (name) VALUES (?)', ['ana']);
    expect(await db('first', 'SELECT * FROM users WHERE id = ?', [1])).toEqual({
      id: 1,
      name: 'ana',
      avatar: null,
    });
    expect(await db('first', 'SELECT name FROM users WHERE id = ?', [1], 'name')).toBe('ana');
    expect(await db('first', 'SELECT name FROM users WHERE id = ?', [99])).toBeNull();
    expect(await db('first', 'SELECT name FROM users WHERE id = ?', [99], 'name')).toBeNull();
    await expect(db('first', 'SELECT name FROM users', [], 'nope')).rejects.toThrow(
      /D1_COLUMN_NOTFOUND/,
    );
    expect(await db('raw', 'SELECT id, name FROM users')).toEqual([[1, 'ana']]);
    expect(await db('raw', 'SELECT id, name FROM users', [], { columnNames: true })).toEqual([
      ['id', 'name'],
      [1, 'ana'],
    ]);
  });

  it('binds booleans, null and bytes, and returns blobs as D1 does (a list of byte values)', async () => {
    await db('run', 'INSERT INTO users (name, avatar) VALUES (?, ?)', [
      'x',
      new Uint8Array([1, 2, 255]),
    ]);
    await db('run', 'INSERT INTO users (name, avatar) VALUES (?, ?)', ['y', [9, 8]]);
    expect(await db('raw', 'SELECT avatar FROM users ORDER BY id')).toEqual([
      [[1, 2, 255]],
      [[9, 8]],
    ]);
    expect(await db('first', 'SELECT ? AS t, ? AS f, ? AS n', [true, false, null])).toEqual({
      t: 1,
      f: 0,
      n: null,
    });
    await expect(db('run', 'SELECT ?', [{ a: 1 }])).rejects.toThrow(
      /D1 binding 'DB': D1_TYPE_ERROR: Type 'object'/,
    );
  });

  it('batch is atomic: one failing statement rolls back the others', async () => {
    const ok = (await db('batch', [
      { sql: 'INSERT INTO users (name) VALUES (?)', params: ['a'] },
      { sql: 'SELECT count(*) AS n FROM users', params: [] },
    ])) as { results: unknown[] }[];
    expect(ok).toHaveLength(2);
    expect(ok[1]?.results).toEqual([{ n: 1 }]);
    const err = await db('batch', [
      { sql: 'INSERT INTO users (name) VALUES (?)', params: ['b'] },
      { sql: 'INSERT INTO users (name) VALUES (?)', params: [null] },
    ]).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^D1 binding 'DB': D1_ERROR: NOT NULL constraint failed: users.name/,
    );
    expect(await db('first', 'SELECT count(*) AS n FROM users', [], 'n')).toBe(1);
  });

  it('exec runs each line as a query and counts them, as D1 does', async () => {
    const r = (await db(
      'exec',
      "INSERT INTO users (name) VALUES ('a');\n\nINSERT INTO users (name) VALUES ('b')",
    )) as Record<string, number>;
    expect(r.count).toBe(2);
    expect(typeof r.duration).toBe('number');
    await expect(db('exec', 'SELECT 1;\nSELEC oops')).rejects.toThrow(
      /D1_EXEC_ERROR: Error in line 2: SELEC oops/,
    );
  });

  it('accepts double-quoted string literals as D1 does, keeping double-quoted identifiers', async () => {
    await db('run', 'CREATE TABLE quotes (id INTEGER PRIMARY KEY, quote TEXT, author TEXT)');
    await db(
      'run',
      `INSERT INTO quotes (quote, author) SELECT * FROM (VALUES ("Ship it", "Ana"), ("It's ""fine""", "Bo")) WHERE NOT EXISTS (SELECT 1 FROM quotes)`,
    );
    expect(
      await db('all', 'SELECT "quote", author FROM quotes ORDER BY id').then(
        (r) => (r as { results: unknown }).results,
      ),
    ).toEqual([
      { quote: 'Ship it', author: 'Ana' },
      { quote: 'It\'s "fine"', author: 'Bo' },
    ]);
    expect(await db('first', 'SELECT "abc" AS x, "id" FROM quotes WHERE author = "Ana"')).toEqual({
      x: 'abc',
      id: 1,
    });
    await expect(db('all', 'SELECT nope FROM quotes')).rejects.toThrow(
      /D1_ERROR: no such column: nope/,
    );
  });

  it('reports SQL errors naming the binding, and foreign keys are enforced', async () => {
    await expect(db('all', 'SELECT * FROM missing')).rejects.toThrow(
      /^D1 binding 'DB': D1_ERROR: no such table: missing: SQLITE_ERROR/,
    );
    await db(
      'run',
      'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))',
    );
    await expect(db('run', 'INSERT INTO posts (user_id) VALUES (42)')).rejects.toThrow(
      /FOREIGN KEY constraint failed/,
    );
  });

  it('applies migrations in order, once, each atomically', async () => {
    const dir = join(tmp.dir, 'migrations');
    mkdirSync(dir);
    writeFileSync(
      join(dir, '0001_init.sql'),
      'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n',
    );
    writeFileSync(
      join(dir, '0002_seed.sql'),
      'INSERT INTO notes (body) VALUES (\'hi\');\nINSERT INTO notes (body) VALUES ("there");',
    );
    const d1 = await store.d1('app');
    expect((await listMigrations(d1, dir)).map((m) => [m.name, m.applied])).toEqual([
      ['0001_init.sql', false],
      ['0002_seed.sql', false],
    ]);
    expect(await applyMigrations(d1, dir)).toEqual(['0001_init.sql', '0002_seed.sql']);
    expect(await applyMigrations(d1, dir)).toEqual([]);
    expect(await db('first', 'SELECT count(*) AS n FROM notes', [], 'n')).toBe(2);
    writeFileSync(
      join(dir, '0003_bad.sql'),
      'INSERT INTO notes (body) VALUES (1);\nINSERT INTO nowhere VALUES (1);',
    );
    await expect(applyMigrations(d1, dir)).rejects.toMatchObject({
      code: 'ERR_D1_MIGRATION',
      message: expect.stringContaining('0003_bad.sql'),
    });
    expect(await db('first', 'SELECT count(*) AS n FROM notes', [], 'n')).toBe(2);
    expect((await listMigrations(d1, dir)).filter((m) => !m.applied).map((m) => m.name)).toEqual([
      '0003_bad.sql',
    ]);
  });
});
