import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BindingError } from '../errors.js';
import { safeFileName } from '../internal/names.js';

const className = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a class name is a Python identifier');

/** One wrangler `[[migrations]]` entry (Cloudflare's key names). */
export const durableObjectMigrationSchema = z.object({
  tag: z.string().min(1),
  new_classes: z.array(className).optional(),
  new_sqlite_classes: z.array(className).optional(),
  renamed_classes: z.array(z.object({ from: className, to: className })).optional(),
  deleted_classes: z.array(className).optional(),
});

/** One wrangler `[[migrations]]` entry. */
export type DurableObjectMigration = z.infer<typeof durableObjectMigrationSchema>;

function configError(message: string, hint: string): BindingError {
  return new BindingError('ERR_BINDING_CONFIG', `migrations: ${message}`, { hint });
}

/** Writes a file whole or not at all (a kill mid-write leaves the old one). */
function writeWhole(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Applies a worker's Durable Object migrations to the state under `root` (`<state>/v1`), each tag
 * once, in order: a rename moves the class's objects (their ids keep working: the namespace key
 * moves with them), a delete removes them. The applied tags are kept in
 * `do/<script>/migrations.json`; a config whose tags do not start with them is refused, since
 * Cloudflare never un-applies a migration either. Returns the tags applied now.
 */
export function applyDurableObjectMigrations(
  root: string,
  scriptName: string,
  migrations: unknown,
): string[] {
  const parsed = z.array(durableObjectMigrationSchema).safeParse(migrations ?? []);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where =
      issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    throw configError(
      `${where}: ${issue?.message ?? 'invalid'}`,
      'see Cloudflare Durable Object migrations: tag, new_sqlite_classes, renamed_classes, deleted_classes',
    );
  }
  const list = parsed.data;
  const scriptDir = join(root, 'do', safeFileName(scriptName));
  const record = join(scriptDir, 'migrations.json');
  const applied: string[] = existsSync(record)
    ? (JSON.parse(readFileSync(record, 'utf8')) as { applied: string[] }).applied
    : [];
  applied.forEach((tag, i) => {
    if (list[i]?.tag !== tag)
      throw configError(
        `tag ${JSON.stringify(tag)} was applied to this state as migration ${i + 1}, but the config has ${list[i] ? JSON.stringify(list[i].tag) : 'no migration'} there`,
        'keep applied migrations in the config and add new ones after them',
      );
  });
  const now: string[] = [];
  const dir = (cls: string) => join(scriptDir, safeFileName(cls));
  for (const m of list.slice(applied.length)) {
    for (const { from, to } of m.renamed_classes ?? []) {
      if (!existsSync(dir(from))) continue;
      if (existsSync(dir(to)) && readdirSync(dir(to)).length > 0)
        throw configError(
          `migration ${JSON.stringify(m.tag)} renames ${from} to ${to}, but ${to} already has objects`,
          `delete ${to} first (deleted_classes) or rename to a new name`,
        );
      rmSync(dir(to), { recursive: true, force: true });
      renameSync(dir(from), dir(to));
    }
    for (const cls of m.deleted_classes ?? []) rmSync(dir(cls), { recursive: true, force: true });
    mkdirSync(scriptDir, { recursive: true });
    applied.push(m.tag);
    now.push(m.tag);
    writeWhole(record, `${JSON.stringify({ applied }, null, 2)}\n`);
  }
  return now;
}

/**
 * The key a namespace's ids are made with, kept in its directory: fixed when the first object is
 * made, so a renamed class keeps its ids (`idFromName` gives the same id after a rename).
 */
export function namespaceKey(dir: string, initial: string): string {
  const file = join(dir, 'namespace.json');
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { key: string }).key;
  mkdirSync(dir, { recursive: true });
  writeWhole(file, `${JSON.stringify({ key: initial })}\n`);
  return initial;
}
