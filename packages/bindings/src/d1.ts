import { performance } from 'node:perf_hooks';
import { splitStatements } from './engine/sql-text.js';
import type { SqlDatabase, SqlResult, SqlStatement, SqlValue } from './engine/types.js';
import { BindingError } from './errors.js';
import { describe, optionsArg, stringArg } from './internal/args.js';

/** `meta` of a D1 result, with D1's own field names. */
export interface D1Meta {
  served_by: string;
  duration: number;
  changes: number;
  last_row_id: number;
  changed_db: boolean;
  size_after: number;
  rows_read: number;
  rows_written: number;
}

/** What `all()`/`run()` return, and each element of `batch()`. */
export interface D1Result {
  success: true;
  results: Record<string, unknown>[];
  meta: D1Meta;
}

const SERVED_BY = 'pyworkers.sqlite';

/** One D1 database: the worker's own SQLite file, with D1's result shapes and errors. */
export class D1Database {
  private constructor(
    readonly binding: string,
    readonly db: SqlDatabase,
  ) {}

  /** Opens it; D1 enforces foreign keys by default, so this connection does too. */
  static async open(binding: string, db: SqlDatabase): Promise<D1Database> {
    await db.exec('PRAGMA foreign_keys = ON');
    return new D1Database(binding, db);
  }

  #where(method: string): string {
    return `D1 binding '${this.binding}' ${method}()`;
  }

  #statement(method: string, sql: unknown, params: unknown): SqlStatement {
    const text = stringArg(this.#where(method), 'the SQL', sql);
    if (text.trim() === '') throw this.#d1Error('D1_ERROR: No SQL statements detected.');
    if (params === undefined || params === null) return { sql: text, params: [] };
    if (!Array.isArray(params)) {
      throw new BindingError(
        'ERR_D1_BIND',
        `${this.#where(method)}: parameters must be a list, got ${describe(params)}`,
      );
    }
    return { sql: text, params: params.map((p, i) => this.#param(p, i)) };
  }

  #param(value: unknown, index: number): SqlValue {
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'bigint'
    )
      return value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value))
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
      return new Uint8Array(value);
    const type = value === undefined ? 'undefined' : typeof value;
    throw new BindingError(
      'ERR_D1_BIND',
      `D1 binding '${this.binding}': D1_TYPE_ERROR: Type '${type}' not supported for value '${String(value)}' (parameter ${index + 1})`,
      { hint: 'bind None, numbers, strings, booleans or bytes' },
    );
  }

  #d1Error(message: string, cause?: unknown): BindingError {
    return new BindingError('ERR_D1_SQL', `D1 binding '${this.binding}': ${message}`, { cause });
  }

  #sqlError(error: unknown): BindingError {
    if (error instanceof BindingError) return error;
    const e = error as { message?: string; code?: string };
    return this.#d1Error(
      `D1_ERROR: ${e.message ?? String(error)}${e.code ? `: ${e.code}` : ''}`,
      error,
    );
  }

  async #result(
    raw: SqlResult<unknown>,
    started: number,
    withMeta = true,
  ): Promise<{ columns: string[]; rows: unknown[][]; meta: D1Meta }> {
    const rows = (raw.rows as unknown[][]).map((row) =>
      row.map((v) => (v instanceof Uint8Array ? Array.from(v) : v)),
    );
    // first() and raw() return no meta: skip the size query (a point select's hot path).
    const size = withMeta ? await this.db.size() : 0;
    const changes = raw.wrote ? raw.changes : 0;
    return {
      columns: raw.columns,
      rows,
      meta: {
        served_by: SERVED_BY,
        duration: performance.now() - started,
        changes,
        last_row_id: raw.lastInsertRowid,
        changed_db: changes > 0,
        size_after: size,
        rows_read: rows.length,
        rows_written: changes,
      },
    };
  }

  async #one(method: string, sql: unknown, params: unknown, withMeta = true) {
    const statement = this.#statement(method, sql, params);
    const started = performance.now();
    let raw: SqlResult<unknown>;
    try {
      raw = await this.db.query(statement, { raw: true });
    } catch (error) {
      throw this.#sqlError(error);
    }
    return this.#result(raw, started, withMeta);
  }

  /** `prepare(sql).bind(...params).all()`. */
  async all(sql: unknown, params?: unknown): Promise<D1Result> {
    const { columns, rows, meta } = await this.#one('all', sql, params);
    return { success: true, results: toObjects(columns, rows), meta };
  }

  /** `run()`: the same result as `all()` (D1 returns rows from run too). */
  async run(sql: unknown, params?: unknown): Promise<D1Result> {
    const { columns, rows, meta } = await this.#one('run', sql, params);
    return { success: true, results: toObjects(columns, rows), meta };
  }

  /** `first(column?)`: the first row, or one column of it; null when there is no row. */
  async first(sql: unknown, params?: unknown, column?: unknown): Promise<unknown> {
    const { columns, rows } = await this.#one('first', sql, params, false);
    const row = rows[0];
    if (column === undefined || column === null)
      return row === undefined ? null : (toObjects(columns, [row])[0] ?? null);
    const name = stringArg(this.#where('first'), 'column', column);
    if (row === undefined) return null;
    const index = columns.lastIndexOf(name);
    if (index === -1)
      throw this.#d1Error(`D1_COLUMN_NOTFOUND: Column not found (${JSON.stringify(name)})`);
    return row[index];
  }

  /** `raw({columnNames})`: rows as lists; with columnNames the first list is the column names. */
  async raw(sql: unknown, params?: unknown, options?: unknown): Promise<unknown[][]> {
    const opts = optionsArg(this.#where('raw'), options);
    const { columns, rows } = await this.#one('raw', sql, params, false);
    return opts.columnNames === true ? [columns, ...rows] : rows;
  }

  /** `batch([stmt, ...])`: every statement in one transaction; one failure rolls all back. */
  async batch(statements: unknown): Promise<D1Result[]> {
    if (!Array.isArray(statements)) {
      throw new BindingError(
        'ERR_D1_BIND',
        `${this.#where('batch')}: takes a list of statements, got ${describe(statements)}`,
      );
    }
    const stmts = statements.map((s, i) => {
      const o = optionsArg(`${this.#where('batch')} statement ${i + 1}`, s);
      return this.#statement('batch', o.sql, o.params);
    });
    if (stmts.length === 0) throw this.#d1Error('D1_ERROR: No SQL statements detected.');
    const started = performance.now();
    let raws: SqlResult<unknown>[];
    try {
      raws = await this.db.batch(stmts, { raw: true });
    } catch (error) {
      throw this.#sqlError(error);
    }
    const out: D1Result[] = [];
    for (const raw of raws) {
      const { columns, rows, meta } = await this.#result(raw, started);
      out.push({ success: true, results: toObjects(columns, rows), meta });
    }
    return out;
  }

  /** `exec(sql)`: as D1 does it, each line of the text is one query, run in order. */
  async exec(sql: unknown): Promise<{ count: number; duration: number }> {
    const text = stringArg(this.#where('exec'), 'the SQL', sql);
    const lines = text.trim().split('\n');
    const started = performance.now();
    let count = 0;
    for (const [i, line] of lines.entries()) {
      if (line.replace(/^\s*--.*$/, '').trim() === '') continue;
      try {
        await this.db.exec(line);
      } catch (error) {
        const e = error as { message?: string };
        throw this.#d1Error(
          `D1_EXEC_ERROR: Error in line ${i + 1}: ${line}: ${e.message ?? String(error)}`,
          error,
        );
      }
      count++;
    }
    return { count, duration: performance.now() - started };
  }

  /** Runs a script as `wrangler d1 execute --file` does: split into statements, one transaction. */
  async executeScript(sql: string): Promise<D1Result[]> {
    const statements = splitStatements(sql);
    if (statements.length === 0) return [];
    return this.batch(statements.map((s) => ({ sql: s, params: [] })));
  }
}

function toObjects(columns: string[], rows: unknown[][]): Record<string, unknown>[] {
  return rows.map((row) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) o[columns[i] as string] = row[i];
    return o;
  });
}
