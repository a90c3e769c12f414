import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { D1Database } from './d1.js';
import { splitStatements } from './engine/sql-text.js';
import { BindingError } from './errors.js';

/** One migration file and whether it ran. */
export interface D1Migration {
  name: string;
  applied: boolean;
  appliedAt?: string;
}

/** Wrangler's default migrations table. */
export const DEFAULT_MIGRATIONS_TABLE = 'd1_migrations';

function checkTable(table: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new BindingError(
      'ERR_D1_MIGRATION',
      `migrations_table ${JSON.stringify(table)} is not a plain table name`,
      {
        hint: 'use letters, digits and _ (default d1_migrations)',
      },
    );
  }
  return table;
}

function migrationFiles(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new BindingError('ERR_D1_MIGRATION', `migrations directory ${dir} does not exist`, {
      hint: 'create it, or set migrations_dir of the d1_databases entry',
    });
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
}

async function ensureTable(d1: D1Database, table: string): Promise<void> {
  await d1.run(
    `CREATE TABLE IF NOT EXISTS ${table} (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT UNIQUE,
      applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
    )`,
  );
}

/** The migrations in `dir` (`*.sql`, by name) and which have run, as `wrangler d1 migrations list`. */
export async function listMigrations(
  d1: D1Database,
  dir: string,
  table = DEFAULT_MIGRATIONS_TABLE,
): Promise<D1Migration[]> {
  const t = checkTable(table);
  const files = migrationFiles(dir);
  await ensureTable(d1, t);
  const applied = new Map<string, string>();
  for (const row of (await d1.all(`SELECT name, applied_at FROM ${t} ORDER BY id`)).results) {
    applied.set(String(row.name), String(row.applied_at));
  }
  return files.map((name) => {
    const at = applied.get(name);
    return at === undefined ? { name, applied: false } : { name, applied: true, appliedAt: at };
  });
}

/**
 * Applies the migrations not yet run, in order, each in one transaction with its row in the
 * migrations table (a failing file changes nothing and stops the run). Returns the names applied.
 */
export async function applyMigrations(
  d1: D1Database,
  dir: string,
  table = DEFAULT_MIGRATIONS_TABLE,
): Promise<string[]> {
  const t = checkTable(table);
  const done: string[] = [];
  for (const m of await listMigrations(d1, dir, t)) {
    if (m.applied) continue;
    const statements = splitStatements(readFileSync(join(dir, m.name), 'utf8')).map((sql) => ({
      sql,
      params: [],
    }));
    try {
      await d1.batch([
        ...statements,
        { sql: `INSERT INTO ${t} (name) VALUES (?)`, params: [m.name] },
      ]);
    } catch (cause) {
      throw new BindingError(
        'ERR_D1_MIGRATION',
        `migration ${join(dir, m.name)} failed: ${(cause as Error).message}`,
        {
          cause,
          hint: 'fix the SQL in that file; it was rolled back and later migrations did not run',
        },
      );
    }
    done.push(m.name);
  }
  return done;
}
