import { parseRequirement } from '@pyworkers/resolver';
import { addDependencies } from '../dependency-edit.js';
import { type DependencyChange, editAndSync, editFlags, editOptions } from '../edit-and-sync.js';
import { CliError } from '../errors.js';
import { type Command, projectDir } from '../internal/command.js';
import { describeSync, type SyncFlags } from './sync.js';

/**
 * Adds requirements to `[project].dependencies` (keeping the file's formatting), then syncs.
 * @example await addRequirements('.', ['httpx>=0.27']);
 */
export function addRequirements(
  dir: string,
  requirements: string[],
  options: { sync?: SyncFlags; noSync?: boolean } = {},
): Promise<DependencyChange> {
  if (requirements.length === 0) {
    throw new CliError('ERR_USAGE', 'add needs at least one requirement', {
      where: 'pyworkers add',
      hint: 'e.g. pyworkers add "httpx>=0.27" attrs',
    });
  }
  for (const req of requirements) {
    try {
      parseRequirement(req);
    } catch (cause) {
      throw new CliError('ERR_USAGE', (cause as Error).message, {
        where: `argument "${req}"`,
        hint: 'write a PEP 508 requirement, e.g. name, name>=1.2 or name[extra]==1.0',
        cause,
      });
    }
  }
  return editAndSync(dir, (text, file) => addDependencies(text, file, requirements), options);
}

/** `pyworkers add <requirement...>` */
export const addCommand = {
  name: 'add',
  summary: 'add dependencies to pyproject.toml, then sync',
  usage: 'pyworkers add <requirement...> [--no-sync] [sync flags]',
  options: editOptions,
  async run(ctx, values, positionals) {
    const change = await addRequirements(
      projectDir(ctx, undefined),
      positionals,
      editFlags(values, ctx),
    );
    const c = ctx.color;
    const lines = [
      ...change.added.map((r) => `${c.green('+')} ${r}`),
      ...change.replaced.map((r) => `${c.yellow('~')} ${r}`),
    ];
    if (change.sync) lines.push(describeSync(change.sync));
    ctx.print(change, lines.join('\n'));
  },
} satisfies Command;
