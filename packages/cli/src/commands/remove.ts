import { removeDependencies } from '../dependency-edit.js';
import { type DependencyChange, editAndSync, editFlags, editOptions } from '../edit-and-sync.js';
import { CliError } from '../errors.js';
import { type Command, projectDir } from '../internal/command.js';
import { describeSync, type SyncFlags } from './sync.js';

/**
 * Removes dependencies by name from `[project].dependencies`, then syncs.
 * @example await removeRequirements('.', ['httpx']);
 */
export function removeRequirements(
  dir: string,
  names: string[],
  options: { sync?: SyncFlags; noSync?: boolean } = {},
): Promise<DependencyChange> {
  if (names.length === 0) {
    throw new CliError('ERR_USAGE', 'remove needs at least one package name', {
      where: 'pyworkers remove',
      hint: 'e.g. pyworkers remove httpx',
    });
  }
  return editAndSync(dir, (text, file) => removeDependencies(text, file, names), options);
}

/** `pyworkers remove <name...>` */
export const removeCommand = {
  name: 'remove',
  summary: 'remove dependencies from pyproject.toml, then sync',
  usage: 'pyworkers remove <name...> [--no-sync] [sync flags]',
  options: editOptions,
  async run(ctx, values, positionals) {
    const change = await removeRequirements(
      projectDir(ctx, undefined),
      positionals,
      editFlags(values, ctx),
    );
    const lines = change.removed.map((r) => `${ctx.color.red('-')} ${r}`);
    if (change.sync) lines.push(describeSync(change.sync));
    ctx.print(change, lines.join('\n'));
  },
} satisfies Command;
