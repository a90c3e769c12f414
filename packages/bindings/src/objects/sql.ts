import { splitStatements } from '../engine/sql-text.js';
import { BindingError } from '../errors.js';
import type { ObjectConnection } from './connection.js';

/** What `ctx.storage.sql.exec()` gives back: the cursor's data, read to the end. */
export interface SqlCursorData {
  columnNames: string[];
  /** Rows as arrays in column order (the proxy builds `toArray()` objects and `raw()` from them). */
  rows: unknown[][];
  /** Rows the statements returned (SQLite does not expose rows scanned to better-sqlite3). */
  rowsRead: number;
  /** Rows the statements changed. */
  rowsWritten: number;
}

type SqlParam = null | number | bigint | string | Uint8Array;

/** Strips string literals and comments so the checks below see only SQL words and identifiers. */
function code(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, ' ');
}

function refuse(binding: string, what: string, hint: string): BindingError {
  return new BindingError('ERR_DO_SQL', `Durable Object '${binding}': sql.exec(): ${what}`, {
    hint,
  });
}

/**
 * Checks a statement before it runs: an object reaches only its own file. ATTACH would open
 * another file (another object's storage, any path); the `_cf_` tables hold the key-value API
 * and the alarm, which Cloudflare also keeps out of SQL's reach.
 */
function check(binding: string, statement: string): void {
  const c = code(statement);
  if (/\b(ATTACH|DETACH)\b/i.test(c))
    throw refuse(
      binding,
      'ATTACH and DETACH are not allowed',
      'an object can only use its own database',
    );
  if (/_cf_/i.test(c))
    throw refuse(
      binding,
      `access to the reserved _cf_ tables is not allowed (${statement.slice(0, 80)})`,
      'use ctx.storage.get/put for key-value data and setAlarm/getAlarm for the alarm',
    );
  if (/\bload_extension\b/i.test(c) || /^\s*VACUUM\b[\s\S]*\bINTO\b/i.test(c))
    throw refuse(binding, 'load_extension and VACUUM INTO are not allowed', 'remove them');
}

function param(binding: string, value: unknown, i: number): SqlParam {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'string' ||
    value instanceof Uint8Array
  )
    return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw refuse(
    binding,
    `binding ${i + 1} is a ${value?.constructor?.name ?? typeof value}, not a number, string, bytes or null`,
    'pass plain values; serialise objects with JSON first',
  );
}

function plainRow(row: unknown[]): unknown[] {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (Buffer.isBuffer(v)) row[i] = new Uint8Array(v);
  }
  return row;
}

/**
 * `sql.exec(query, ...bindings)`. A query may hold several statements; the bindings and the
 * returned rows belong to the last one, as on Cloudflare. Runs inside the caller's transaction
 * when there is one; otherwise each statement commits on its own (autocommit).
 */
export function execSql(
  conn: ObjectConnection,
  binding: string,
  query: unknown,
  bindings: readonly unknown[],
): SqlCursorData {
  if (typeof query !== 'string')
    throw refuse(binding, `query must be a string, got ${typeof query}`, 'pass the SQL text first');
  const statements = splitStatements(query);
  if (statements.length === 0) throw refuse(binding, 'the query is empty', 'pass a SQL statement');
  for (const s of statements) check(binding, s);
  const params = bindings.map((v, i) => param(binding, v, i));
  let out: SqlCursorData = { columnNames: [], rows: [], rowsRead: 0, rowsWritten: 0 };
  let written = 0;
  let read = 0;
  try {
    statements.forEach((sql, i) => {
      const last = i === statements.length - 1;
      const stmt = conn.prepare(sql);
      const args = last ? params : [];
      if (stmt.reader) {
        stmt.raw(true);
        const rows = (stmt.all(...args) as unknown[][]).map(plainRow);
        read += rows.length;
        if (!stmt.readonly)
          written += (conn.prepare('SELECT changes() AS c').get() as { c: number }).c;
        if (last)
          out = {
            columnNames: stmt.columns().map((c) => c.name),
            rows,
            rowsRead: 0,
            rowsWritten: 0,
          };
      } else {
        written += stmt.run(...args).changes;
        if (last) out = { columnNames: [], rows: [], rowsRead: 0, rowsWritten: 0 };
      }
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_STATE_CORRUPT') throw error;
    if (error instanceof BindingError) throw error;
    throw new BindingError(
      'ERR_DO_SQL',
      `Durable Object '${binding}': sql.exec(): ${(error as Error).message}`,
      { cause: error, hint: 'check the SQL statement and the number of bindings' },
    );
  }
  out.rowsRead = read;
  out.rowsWritten = written;
  return out;
}
