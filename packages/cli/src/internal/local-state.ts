// Shared by `pyworkers d1|kv|r2 ...`: which state directory, which binding, and errors from
// @pyworkers/bindings turned into CLI errors (what, where, how to fix).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type BindingDeclaration,
  isBindingError,
  openStore,
  type Store,
} from '@pyworkers/bindings';
import { CliError } from '../errors.js';
import { loadProject } from '../project.js';
import type { CommandContext, CommandOption } from './command.js';

/** Flags every local-state command takes. */
export const stateOptions: Record<string, CommandOption> = {
  local: {
    type: 'boolean',
    default: true,
    description: 'use the local state (the only kind pyworkers has)',
    env: ['PYWORKERS_LOCAL'],
  },
  remote: {
    type: 'boolean',
    default: false,
    description: 'not supported: pyworkers keeps state locally',
    env: ['PYWORKERS_REMOTE'],
  },
  'persist-to': {
    type: 'string',
    default: undefined,
    description: 'state directory (default <project>/.pyworkers/state)',
    env: ['PYWORKERS_STATE'],
    valueName: 'DIR',
  },
};

/** The state directory: `--persist-to`, else `PYWORKERS_STATE`, else `<project>/.pyworkers/state`. */
export function stateDir(ctx: CommandContext, values: Record<string, unknown>): string {
  if (values.remote === true) {
    throw new CliError(
      'ERR_USAGE',
      '--remote is not supported: pyworkers keeps all state locally',
      {
        hint: 'drop --remote (the command works on <project>/.pyworkers/state, or --persist-to DIR)',
      },
    );
  }
  const flag = (values['persist-to'] as string | undefined) ?? process.env.PYWORKERS_STATE;
  return flag ? resolve(ctx.cwd, flag) : join(ctx.cwd, '.pyworkers', 'state');
}

/** The project's binding declarations, when the directory is a project that declares them. */
export function projectDeclarations(ctx: CommandContext): BindingDeclaration[] {
  const hasConfig = ['pyproject.toml', 'wrangler.toml', 'wrangler.jsonc', 'wrangler.json'].some(
    (f) => existsSync(join(ctx.cwd, f)),
  );
  if (!hasConfig) return [];
  const project = loadProject(ctx.cwd) as {
    bindings?: { bindings?: BindingDeclaration[] } | BindingDeclaration[];
  };
  const b = project.bindings;
  return Array.isArray(b) ? b : (b?.bindings ?? []);
}

/** Opens the store, runs `fn`, closes it; binding errors become CLI errors. */
export async function withStore<T>(
  ctx: CommandContext,
  values: Record<string, unknown>,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = openStore({ stateDir: stateDir(ctx, values), logger: ctx.logger });
  try {
    return await fn(store);
  } catch (err) {
    if (isBindingError(err)) {
      throw new CliError(err.userError ? 'ERR_USAGE' : 'ERR_INTERNAL', err.message, {
        ...(err.hint ? { hint: err.hint } : {}),
        cause: err,
      });
    }
    throw err;
  } finally {
    await store.close();
  }
}

/** A required positional, or a usage error naming the command. */
export function positional(
  command: string,
  positionals: string[],
  index: number,
  what: string,
  example: string,
): string {
  const v = positionals[index];
  if (v === undefined || v === '') {
    throw new CliError('ERR_USAGE', `${command} needs ${what}`, {
      where: `pyworkers ${command}`,
      hint: `e.g. ${example}`,
    });
  }
  return v;
}

/** Flag values with each absent flag taken from its env var (first set wins), as `pick` does. */
export function envValues(
  options: Record<string, CommandOption>,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...values };
  for (const [flag, o] of Object.entries(options)) {
    if (out[flag] !== undefined) continue;
    const name = (o.env ?? []).find((e) => process.env[e] !== undefined && process.env[e] !== '');
    if (name === undefined) continue;
    const raw = process.env[name] as string;
    out[flag] = o.type === 'boolean' ? ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase()) : raw;
  }
  return out;
}
