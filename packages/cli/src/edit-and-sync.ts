import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@pyworkers/common';
import { type SyncFlags, type SyncResult, syncDependencies } from './commands/sync.js';
import type { DependencyEdit } from './dependency-edit.js';
import { CliError } from './errors.js';

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
