import type { Logger } from '@pyworkers/isolate';

/** What every command gets from the entry point. */
export interface CommandContext {
  cwd: string;
  logger: Logger;
  json: boolean;
  /** Prints a result: JSON with `--json`, the human line otherwise. */
  print(result: unknown, human: string): void;
}

/** One flag of a command, for parsing and `--help`. */
export interface CommandOption {
  type: 'string' | 'boolean';
  default: string | boolean;
  description: string;
}

/** A CLI command: its flags, its help and what it runs. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, CommandOption>;
  run(ctx: CommandContext, values: Record<string, unknown>, positionals: string[]): Promise<void>;
}

/** A flag's value: the flag if given, else the first env var set, else the default. */
export function pick<T extends string | boolean>(
  flag: unknown,
  envNames: string[],
  fallback: T,
): T {
  if (flag !== undefined) return flag as T;
  for (const name of envNames) {
    const v = process.env[name];
    if (v !== undefined && v !== '') {
      return (
        typeof fallback === 'boolean' ? ['1', 'true', 'yes'].includes(v.toLowerCase()) : v
      ) as T;
    }
  }
  return fallback;
}
