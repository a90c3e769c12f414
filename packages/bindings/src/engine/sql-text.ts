/**
 * Just enough of SQLite's tokenizer to split a script into statements and to find
 * double-quoted tokens, respecting strings, quoted identifiers and comments.
 */

/** A double-quoted token in a statement: `"..."` at [start, end). */
export interface QuotedToken {
  start: number;
  end: number;
  /** Content with `""` unescaped. */
  text: string;
}

type Visit = (kind: 'dq' | 'word' | 'semi', start: number, end: number) => void;

function scan(sql: string, visit: Visit): void {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      if (c === '"') visit('dq', i, Math.min(j + 1, n));
      i = j + 1;
    } else if (c === '[') {
      const close = sql.indexOf(']', i);
      i = close === -1 ? n : close + 1;
    } else if (c === ';') {
      visit('semi', i, i + 1);
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      visit('word', i, j);
      i = j;
    } else i++;
  }
}

/** Double-quoted tokens of one statement, in order. */
export function doubleQuotedTokens(sql: string): QuotedToken[] {
  const out: QuotedToken[] = [];
  scan(sql, (kind, start, end) => {
    if (kind === 'dq')
      out.push({ start, end, text: sql.slice(start + 1, end - 1).replaceAll('""', '"') });
  });
  return out;
}

/**
 * Splits a script into statements on `;`, keeping `CREATE TRIGGER ... BEGIN ... END;` whole.
 * Empty statements (only whitespace and comments) are dropped.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let from = 0;
  let words: string[] = [];
  let depth = 0; // BEGIN/CASE nesting inside a trigger body
  let meaningful = false;
  scan(sql, (kind, start, end) => {
    if (kind === 'semi') {
      if (depth > 0) return;
      if (meaningful) out.push(sql.slice(from, end).trim());
      from = end;
      words = [];
      meaningful = false;
      return;
    }
    meaningful = true;
    if (kind !== 'word') return;
    const w = sql.slice(start, end).toUpperCase();
    if (words.length < 4) words.push(w);
    const isTrigger = words[0] === 'CREATE' && words.slice(1, 4).includes('TRIGGER');
    if (!isTrigger) return;
    if (w === 'BEGIN' || (w === 'CASE' && depth > 0)) depth++;
    else if (w === 'END' && depth > 0) depth--;
  });
  const rest = sql.slice(from);
  if (meaningful && rest.trim() !== '') out.push(rest.trim());
  return out;
}
