import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { D1Result } from '@pyworkers/bindings';
import { CliError } from '../errors.js';
import type { Command, CommandContext } from '../internal/command.js';
import {
  envValues,
  positional,
  projectDeclarations,
  stateOptions,
  withStore,
} from '../internal/local-state.js';

/** The D1 database a name refers to: a binding name or a database_name of the config, else the name itself. */
export function resolveD1(
  ctx: CommandContext,
  name: string,
): { databaseName: string; migrationsDir: string } {
  const d1 = projectDeclarations(ctx).filter((d) => d.type === 'd1');
  const hit = d1.find((d) => d.name === name) ?? d1.find((d) => d.databaseName === name);
  return {
    databaseName: hit?.databaseName ?? name,
    migrationsDir: resolve(ctx.cwd, hit?.migrationsDir ?? 'migrations'),
  };
}

/** Runs SQL on the local D1 database, as `wrangler d1 execute --local` does (one transaction). */
export async function d1Execute(
  ctx: CommandContext,
  values: Record<string, unknown>,
  database: string,
  sql: string,
): Promise<D1Result[]> {
  const { databaseName } = resolveD1(ctx, database);
  return withStore(ctx, values, async (store) =>
    (await store.d1(databaseName, database)).executeScript(sql),
  );
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) =>
    v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ');
  return [
    line(cols),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n');
}

/** `pyworkers d1 execute DB (--command SQL | --file F) [--local] [--json]` */
export const d1ExecuteCommand = {
  name: 'd1 execute',
  summary: 'run SQL on a local D1 database',
  usage:
    'pyworkers d1 execute <database> (--command SQL | --file FILE) [--local] [--persist-to DIR] [--json]',
  details:
    'The database is a binding name or database_name from the config (or a plain name). The statements run in one transaction.',
  options: {
    command: {
      type: 'string',
      default: undefined,
      description: 'SQL to run',
      env: ['PYWORKERS_D1_COMMAND'],
      valueName: 'SQL',
    },
    file: {
      type: 'string',
      default: undefined,
      description: 'a .sql file to run',
      env: ['PYWORKERS_D1_FILE'],
      valueName: 'FILE',
    },
    ...stateOptions,
  },
  async run(ctx, flags, positionals) {
    const values = envValues(d1ExecuteCommand.options, flags);
    const database = positional(
      'd1 execute',
      positionals,
      0,
      'a database',
      'pyworkers d1 execute DB --command "SELECT 1"',
    );
    const command = values.command as string | undefined;
    const file = values.file as string | undefined;
    if ((command === undefined) === (file === undefined)) {
      throw new CliError('ERR_USAGE', 'd1 execute needs exactly one of --command and --file', {
        where: 'pyworkers d1 execute',
        hint: 'e.g. --command "SELECT * FROM users" or --file schema.sql',
      });
    }
    let sql = command ?? '';
    if (file !== undefined) {
      try {
        sql = readFileSync(resolve(ctx.cwd, file), 'utf8');
      } catch (cause) {
        throw new CliError('ERR_USAGE', `cannot read ${file}`, {
          where: resolve(ctx.cwd, file),
          hint: 'pass an existing .sql file',
          cause,
        });
      }
    }
    const results = await d1Execute(ctx, values, database, sql);
    const human = results
      .filter((r) => r.results.length > 0 || results.length === 1)
      .map((r) => table(r.results))
      .join('\n\n');
    const changes = results.reduce((n, r) => n + r.meta.changes, 0);
    ctx.print(
      results,
      `${human ? `${human}\n` : ''}${results.length} statement(s) on ${database}, ${changes} row(s) changed`,
    );
  },
} satisfies Command;
