import { doubleQuotedTokens } from './sql-text.js';

/**
 * SQLite's "double-quoted string" fallback, which D1 keeps on (measured on workerd's D1:
 * `SELECT "abc" AS x, "id" FROM t` gives `{x: 'abc', id: 1}`) and better-sqlite3 compiles off:
 * a double-quoted token that does not resolve to a column is a string literal. We get there the
 * way SQLite does, by resolution: prepare, and when SQLite says a double-quoted token is no such
 * column, turn that one occurrence into a single-quoted literal and prepare again.
 */
const NO_SUCH_COLUMN =
  /^no such column: "(.*)" - should this be a string literal in single-quotes\?$/s;

/** The rewritten SQL that prepares, or null when the error is not a DQS one. */
export function rewriteForDqs(
  sql: string,
  error: unknown,
  tryPrepare: (sql: string) => unknown,
): string | null {
  let current = sql;
  let err = error;
  for (let round = 0; round < 256; round++) {
    const m = err instanceof Error ? NO_SUCH_COLUMN.exec(err.message) : null;
    if (!m) return round === 0 ? null : throwAgain(err);
    const name = m[1] as string; // SQLite prints the token unescaped
    const candidates = doubleQuotedTokens(current).filter(
      (t) => t.text === name && current[t.start - 1] !== '.' && current[t.end] !== '.',
    );
    let next: string | null = null;
    let nextErr: unknown = null;
    for (const t of candidates) {
      const attempt = `${current.slice(0, t.start)}'${t.text.replaceAll("'", "''")}'${current.slice(t.end)}`;
      try {
        tryPrepare(attempt);
        return attempt;
      } catch (e) {
        // This occurrence was the culprit when the error moved on to something else.
        if (!(e instanceof Error) || e.message !== (err as Error).message) {
          next = attempt;
          nextErr = e;
          break;
        }
      }
    }
    if (next === null) return throwAgain(err);
    current = next;
    err = nextErr;
  }
  return throwAgain(err);
}

function throwAgain(err: unknown): never {
  throw err;
}
