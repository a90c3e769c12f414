import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@pyworkers/common';
import {
  type SyncFlags,
  type SyncResult,
  syncDependencies,
  syncFlags,
  syncOptions,
} from './commands/sync.js';
import type { DependencyEdit } from './dependency-edit.js';
import { CliError } from './errors.js';
import { type CommandContext, type CommandOption, pick } from './internal/command.js';

/** The flags `add` and `remove` share: `--no-sync`, then every flag of `sync`. */
export const editOptions = {
  'no-sync': {
    type: 'boolean',
    default: false,
    description: 'only edit pyproject.toml',
    env: ['PYWORKERS_NO_SYNC'],
  },
  ...syncOptions,
} satisfies Record<string, CommandOption>;

/** {@link editOptions} as read from flags and env vars, for {@link editAndSync}. */
export function editFlags(
  values: Record<string, unknown>,
  ctx: CommandContext,
): { noSync: boolean; sync: SyncFlags } {
  return {
    noSync: pick(values['no-sync'], editOptions['no-sync'].env, false),
    sync: syncFlags(values, ctx),
  };
}

/** What `add` or `remove` did. */
export interface DependencyChange {
  pyproject: string;
  added: string[];
  replaced: string[];
  removed: string[];
  /** The sync that followed; absent with `noSync`. */
  sync?: SyncResult;
}

/**
 * Applies an edit to pyproject.toml, then syncs; when the sync fails the file is put back as
 * it was (as uv does), so a typo in a requirement never leaves a project that cannot build.
 */
export async function editAndSync(
  dir: string,
  edit: (text: string, file: string) => DependencyEdit,
  options: { sync?: SyncFlags; noSync?: boolean } = {},
): Promise<DependencyChange> {
  const file = join(dir, 'pyproject.toml');
  if (!existsSync(file)) {
    throw new CliError('ERR_PROJECT', `no pyproject.toml in ${dir}`, {
      where: dir,
      hint: 'run `pyworkers init` first, or pass --cwd with the project directory',
    });
  }
  const before = readFileSync(file, 'utf8');
  const result = edit(before, file);
  const change: DependencyChange = {
    pyproject: file,
    added: result.added,
    replaced: result.replaced,
    removed: result.removed,
  };
  if (result.text !== before) writeFileAtomic(file, result.text);
  if (options.noSync) return change;
  try {
    change.sync = await syncDependencies(dir, options.sync);
  } catch (err) {
    writeFileAtomic(file, before);
    throw err;
  }
  return change;
}
