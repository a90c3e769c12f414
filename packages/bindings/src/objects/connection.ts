import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Durability } from '../engine/sqlite-engine.js';
import { checkSqliteFile, corruptState, isCorruptionError } from '../engine/sqlite-file.js';
import { BindingError } from '../errors.js';

const STATEMENT_CACHE = 128;

/**
 * One object's SQLite file, opened on its own connection (not the shared engine's) because an
 * object's transaction spans awaits: BEGIN here, the worker's code runs, COMMIT or ROLLBACK later.
 * Same pragmas as the engine: WAL, so a commit is in the WAL before it returns (survives kill -9).
 */
export class ObjectConnection {
  readonly db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(
    readonly file: string,
    durability: Durability,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    checkSqliteFile(file);
    try {
      this.db = new Database(file);
      const mode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      this.db.pragma(`synchronous = ${durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`CREATE TABLE IF NOT EXISTS _cf_KV (
          key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _cf_METADATA (
          key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;`);
    } catch (error) {
      if (isCorruptionError(error))
        throw corruptState(file, 'is not a readable SQLite database', error);
      if ((error as { code?: string }).code === 'ERR_STATE_CORRUPT') throw error;
      throw new BindingError(
        'ERR_STATE_IO',
        `cannot open state file ${file}: ${(error as Error).message}`,
        { cause: error, userError: false },
      );
    }
  }

  /** A cached prepared statement. */
  prepare(sql: string): Database.Statement {
    const cached = this.#statements.get(sql);
    if (cached) return cached;
    const stmt = this.guard(() => this.db.prepare(sql));
    if (this.#statements.size >= STATEMENT_CACHE) {
      this.#statements.delete(this.#statements.keys().next().value as string);
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }

  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (isCorruptionError(error)) throw corruptState(this.file, 'is damaged', error);
      throw error;
    }
  }

  /** Bytes the file takes (`databaseSize`). */
  size(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return pages * pageSize;
  }

  close(): void {
    this.#statements.clear();
    if (this.db?.open) this.db.close();
  }
}
