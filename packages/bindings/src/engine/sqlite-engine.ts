import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BindingError } from '../errors.js';
import { safeFileName } from '../internal/names.js';
import { type Logger, silentLogger } from '../logger.js';
import { rewriteForDqs } from './dqs.js';
import { splitStatements } from './sql-text.js';
import { checkSqliteFile, corruptState, isCorruptionError } from './sqlite-file.js';
import type {
  BlobStore,
  QueryOptions,
  SqlDatabase,
  SqlResult,
  SqlStatement,
  SqlValue,
  StorageEngine,
} from './types.js';

/**
 * How durable an answered write is.
 * - `process` (default): WAL with `synchronous=NORMAL`. A commit is in the WAL file (the OS
 *   page cache) before it returns, so it survives `kill -9` of any process, not a power cut.
 * - `fsync`: `synchronous=FULL`, fsync on every commit; survives a power cut, ~2 ms a write here.
 */
export type Durability = 'process' | 'fsync';

/** Options of {@link createSqliteEngine}. */
export interface SqliteEngineOptions {
  /** Directory every file lives under (created when missing). */
  root: string;
  durability?: Durability;
  logger?: Logger;
}

const STATEMENT_CACHE = 256;

/** A Buffer as a plain Uint8Array that owns its whole ArrayBuffer (structured clone copies all of it). */
function plain(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength)
    return new Uint8Array(b.buffer, 0, b.byteLength);
  return new Uint8Array(b);
}

/** Blob columns come back from better-sqlite3 as Buffers; callers get plain Uint8Arrays. */
function plainBytes(rows: unknown[], raw: boolean): void {
  for (const row of rows) {
    if (raw) {
      const r = row as unknown[];
      for (let i = 0; i < r.length; i++) if (Buffer.isBuffer(r[i])) r[i] = plain(r[i] as Buffer);
    } else {
      const r = row as Record<string, unknown>;
      for (const k in r) if (Buffer.isBuffer(r[k])) r[k] = plain(r[k] as Buffer);
    }
  }
}

class SqliteDatabase implements SqlDatabase {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #changes: Database.Statement;
  #size: Database.Statement | undefined;

  constructor(
    readonly location: string,
    durability: Durability,
  ) {
    checkSqliteFile(location);
    try {
      this.#db = new Database(location);
      const mode = this.#db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      this.#db.pragma(`synchronous = ${durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
      this.#db.pragma('busy_timeout = 5000');
      this.#changes = this.#db.prepare('SELECT changes() AS c, last_insert_rowid() AS r');
    } catch (error) {
      if (isCorruptionError(error))
        throw corruptState(location, 'is not a readable SQLite database', error);
      throw new BindingError(
        'ERR_STATE_IO',
        `cannot open state file ${location}: ${(error as Error).message}`,
        {
          cause: error,
          userError: false,
        },
      );
    }
  }

  #prepare(sql: string): Database.Statement {
    const cached = this.#statements.get(sql);
    if (cached) return cached;
    let stmt: Database.Statement;
    try {
      stmt = this.#db.prepare(sql);
    } catch (error) {
      if (isCorruptionError(error)) throw corruptState(this.location, 'is damaged', error);
      const rewritten = rewriteForDqs(sql, error, (s) => this.#db.prepare(s));
      if (rewritten === null) throw error;
      stmt = this.#db.prepare(rewritten);
    }
    if (this.#statements.size >= STATEMENT_CACHE) {
      const oldest = this.#statements.keys().next().value as string;
      this.#statements.delete(oldest);
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }

  #run(statement: SqlStatement, raw: boolean): SqlResult<unknown> {
    const stmt = this.#prepare(statement.sql);
    const params = (statement.params ?? []) as SqlValue[];
    if (!stmt.reader) {
      const info = stmt.run(...params);
      return {
        columns: [],
        rows: [],
        changes: info.changes,
        lastInsertRowid: Number(info.lastInsertRowid),
        wrote: !stmt.readonly,
      };
    }
    stmt.raw(raw);
    const rows = stmt.all(...params) as unknown[];
    plainBytes(rows, raw);
    const columns = stmt.columns().map((c) => c.name);
    if (stmt.readonly) return { columns, rows, changes: 0, lastInsertRowid: 0, wrote: false };
    const after = this.#changes.get() as { c: number; r: number | bigint };
    return { columns, rows, changes: after.c, lastInsertRowid: Number(after.r), wrote: true };
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (isCorruptionError(error)) throw corruptState(this.location, 'is damaged', error);
      throw error;
    }
  }

  async query<Row = Record<string, SqlValue>>(
    statement: SqlStatement,
    options?: QueryOptions,
  ): Promise<SqlResult<Row>> {
    return this.#guard(() => this.#run(statement, options?.raw === true)) as SqlResult<Row>;
  }

  /** Synchronous form for callers inside this engine's own transactions. */
  querySync<Row = Record<string, SqlValue>>(
    statement: SqlStatement,
    options?: QueryOptions,
  ): SqlResult<Row> {
    return this.#guard(() => this.#run(statement, options?.raw === true)) as SqlResult<Row>;
  }

  async batch(
    statements: readonly SqlStatement[],
    options?: QueryOptions,
  ): Promise<SqlResult<unknown>[]> {
    const raw = options?.raw === true;
    return this.#guard(() =>
      this.#db.transaction(() => statements.map((s) => this.#run(s, raw)))(),
    );
  }

  async exec(sql: string): Promise<{ count: number }> {
    const statements = splitStatements(sql);
    this.#guard(() => {
      for (const s of statements) this.#run({ sql: s }, false);
    });
    return { count: statements.length };
  }

  async size(): Promise<number> {
    // Prepared once: `db.pragma()` compiles its statement on every call (D1 asks on each query).
    this.#size ??= this.#db.prepare(
      'SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()',
    );
    return this.#size.pluck().get() as number;
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE), synchronously. */
  transaction<T>(fn: () => T): T {
    return this.#guard(() => this.#db.transaction(fn).immediate());
  }

  close(): void {
    this.#statements.clear();
    this.#size = undefined;
    this.#db.close();
  }
}

/** fsync of a directory, so a rename in it survives a power cut. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

class FileBlobStore implements BlobStore {
  constructor(
    readonly dir: string,
    readonly durability: Durability,
  ) {}

  #path(id: string): string {
    if (!/^[0-9a-f]{8,128}$/.test(id)) {
      throw new BindingError(
        'ERR_STATE_IO',
        `blob id ${JSON.stringify(id)} is not one this store made`,
        {
          userError: false,
        },
      );
    }
    return join(this.dir, id.slice(0, 2), id);
  }

  async put(id: string, parts: readonly Uint8Array[]): Promise<void> {
    const file = this.#path(id);
    mkdirSync(join(this.dir, id.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx');
    try {
      for (const part of parts) {
        let off = 0;
        while (off < part.byteLength) off += writeSync(fd, part, off);
      }
      if (this.durability === 'fsync') fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw error;
    }
    closeSync(fd);
    renameSync(tmp, file);
    if (this.durability === 'fsync') syncDir(join(this.dir, id.slice(0, 2)));
  }

  async concat(id: string, sources: readonly string[]): Promise<void> {
    const file = this.#path(id);
    const paths = sources.map((s) => this.#path(s));
    mkdirSync(join(this.dir, id.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const out = openSync(tmp, 'wx');
    const chunk = Buffer.allocUnsafe(1 << 20);
    try {
      for (const path of paths) {
        const inp = openSync(path, 'r');
        try {
          for (
            let n = readSync(inp, chunk, 0, chunk.length, null);
            n > 0;
            n = readSync(inp, chunk, 0, chunk.length, null)
          ) {
            let off = 0;
            while (off < n) off += writeSync(out, chunk, off, n - off);
          }
        } finally {
          closeSync(inp);
        }
      }
      if (this.durability === 'fsync') fsyncSync(out);
    } catch (error) {
      closeSync(out);
      rmSync(tmp, { force: true });
      throw error;
    }
    closeSync(out);
    renameSync(tmp, file);
    if (this.durability === 'fsync') syncDir(join(this.dir, id.slice(0, 2)));
  }

  async get(id: string, range?: { offset: number; length: number }): Promise<Uint8Array | null> {
    const file = this.#path(id);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const size = statSync(file).size;
      const offset = Math.min(range?.offset ?? 0, size);
      const length = Math.min(range?.length ?? size - offset, size - offset);
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? out : out.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  async delete(id: string): Promise<void> {
    rmSync(this.#path(id), { force: true });
  }
}

/** The embedded engine: one SQLite file (WAL) per logical database, blobs as files. */
export class SqliteEngine implements StorageEngine {
  readonly root: string;
  readonly durability: Durability;
  readonly #logger: Logger;
  readonly #open = new Map<string, SqliteDatabase>();
  #closed = false;

  constructor(options: SqliteEngineOptions) {
    this.root = options.root;
    this.durability = options.durability ?? 'process';
    this.#logger = options.logger ?? silentLogger;
  }

  /** The file a logical path maps to (user names are made safe, never a path escape). */
  fileFor(path: readonly string[]): string {
    const parts = path.map(safeFileName);
    return `${join(this.root, ...parts)}.sqlite`;
  }

  /** Same as {@link database}, typed to this engine's synchronous extras. */
  open(path: readonly string[]): SqliteDatabase {
    if (this.#closed)
      throw new BindingError('ERR_BINDING_CLOSED', 'the store is closed', { userError: false });
    const file = this.fileFor(path);
    const existing = this.#open.get(file);
    if (existing) return existing;
    mkdirSync(join(file, '..'), { recursive: true });
    const db = new SqliteDatabase(file, this.durability);
    this.#open.set(file, db);
    this.#logger.debug({ file }, 'opened state file');
    return db;
  }

  async database(path: readonly string[]): Promise<SqlDatabase> {
    return this.open(path);
  }

  blobs(path: readonly string[]): BlobStore {
    return new FileBlobStore(join(this.root, ...path.map(safeFileName)), this.durability);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const db of this.#open.values()) db.close();
    this.#open.clear();
  }
}

export type { SqliteDatabase };

/** Creates the embedded SQLite engine rooted at `options.root`. */
export function createSqliteEngine(options: SqliteEngineOptions): SqliteEngine {
  return new SqliteEngine(options);
}
