import { applyMigrations, listMigrations } from '@pyworkers/bindings';
import type { Command, CommandOption } from '../internal/command.js';
import { envValues, positional, stateOptions, withStore } from '../internal/local-state.js';
import { resolveD1 } from './d1-execute.js';

const migrationOptions = {
  ...stateOptions,
  'migrations-dir': {
    type: 'string',
    default: undefined,
    description:
      "the migrations folder (default: the database's migrations_dir, else ./migrations)",
    env: ['PYWORKERS_D1_MIGRATIONS_DIR'],
    valueName: 'DIR',
  },
} satisfies Record<string, CommandOption>;

/** `pyworkers d1 migrations list DB` */
export const d1MigrationsListCommand = {
  name: 'd1 migrations list',
  summary: 'list the migrations of a local D1 database and which are applied',
  usage: 'pyworkers d1 migrations list <database> [--migrations-dir DIR] [--json]',
  options: migrationOptions,
  async run(ctx, flags, positionals) {
    const values = envValues(d1MigrationsListCommand.options, flags);
    const database = positional(
      'd1 migrations list',
      positionals,
      0,
      'a database',
      'pyworkers d1 migrations list DB',
    );
    const { databaseName, migrationsDir } = resolveD1(ctx, database);
    const dir = (values['migrations-dir'] as string | undefined) ?? migrationsDir;
    const list = await withStore(ctx, values, async (store) =>
      listMigrations(await store.d1(databaseName, database), dir),
    );
    const pending = list.filter((m) => !m.applied);
    const human =
      list.length === 0
        ? `no migrations in ${dir}`
        : list
            .map(
              (m) =>
                `${m.applied ? 'applied ' : 'pending '} ${m.name}${m.appliedAt ? `  (${m.appliedAt})` : ''}`,
            )
            .join('\n');
    ctx.print(
      { database: databaseName, dir, migrations: list },
      `${human}\n${pending.length} to apply`,
    );
  },
} satisfies Command;

/** `pyworkers d1 migrations apply DB` */
export const d1MigrationsApplyCommand = {
  name: 'd1 migrations apply',
  summary: 'apply the pending migrations to a local D1 database, in order',
  usage: 'pyworkers d1 migrations apply <database> [--migrations-dir DIR] [--json]',
  details:
    'Each migration runs in its own transaction with its row in d1_migrations; a failing one changes nothing and stops the run.',
  options: migrationOptions,
  async run(ctx, flags, positionals) {
    const values = envValues(d1MigrationsApplyCommand.options, flags);
    const database = positional(
      'd1 migrations apply',
      positionals,
      0,
      'a database',
      'pyworkers d1 migrations apply DB',
    );
    const { databaseName, migrationsDir } = resolveD1(ctx, database);
    const dir = (values['migrations-dir'] as string | undefined) ?? migrationsDir;
    const applied = await withStore(ctx, values, async (store) =>
      applyMigrations(await store.d1(databaseName, database), dir),
    );
    ctx.print(
      { database: databaseName, dir, applied },
      applied.length ? applied.map((m) => `applied ${m}`).join('\n') : 'nothing to apply',
    );
  },
} satisfies Command;
