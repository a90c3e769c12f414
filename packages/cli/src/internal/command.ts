import { resolve } from 'node:path';
import type { Logger } from '@pyworkers/isolate';
import { CliError } from '../errors.js';
import type { Progress } from '../internal/progress.js';
import type { ProjectOverrides } from '../project.js';

/** What every command gets from the entry point. */
export interface CommandContext {
  cwd: string;
  logger: Logger;
  json: boolean;
  verbose: boolean;
  /** Colours for human output (no-ops when not on a TTY). */
  color: {
    bold(s: string): string;
    dim(s: string): string;
    green(s: string): string;
    yellow(s: string): string;
    red(s: string): string;
    cyan(s: string): string;
  };
  /** Progress bars and spinners on stderr; silent unless stderr is a TTY and not `--json`. */
  progress: Progress;
  /** Prints a result: one JSON line with `--json`, the human text otherwise. */
  print(result: unknown, human: string): void;
  /** A logger like `logger` whose messages pass through `rewrite` (e.g. traceback paths). */
  createLogger(rewrite?: (text: string, worker?: string) => string): Logger;
  /** Prints a warning line on stderr (a JSON line with `--json`). */
  warn(message: string): void;
}

/** One flag of a command, for parsing and `--help`. */
export interface CommandOption {
  type: 'string' | 'boolean';
  /** Shown in `--help`; `undefined` means "not set". */
  default: string | boolean | undefined;
  description: string;
  /** Environment variables read when the flag is absent, first set wins. */
  env?: string[];
  /** Repeatable flag (collects every value). */
  multiple?: boolean;
  /** Placeholder in help, e.g. `URL`. */
  valueName?: string;
  short?: string;
  /** The config-file key this flag overrides, e.g. `limits.request_timeout_ms`. */
  configKey?: string;
}

/** A CLI command: its flags, its help and what it runs. */
export interface Command {
  /** `build`, or a sub-command path such as `snapshot inspect`. */
  name: string;
  summary: string;
  usage: string;
  /** Extra help text after the flags (examples, notes). */
  details?: string;
  options: Record<string, CommandOption>;
  run(ctx: CommandContext, values: Record<string, unknown>, positionals: string[]): Promise<void>;
}

/** A project directory argument, relative to `--cwd`. */
export function projectDir(ctx: CommandContext, arg: string | undefined): string {
  return resolve(ctx.cwd, arg ?? '.');
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
        typeof fallback === 'boolean' ? ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()) : v
      ) as T;
    }
  }
  return fallback;
}

/** Like {@link pick} for an optional string. */
export function pickString(flag: unknown, envNames: string[]): string | undefined {
  const v = pick<string>(flag, envNames, '');
  return v === '' ? undefined : v;
}

/** A repeatable flag's values, else the env var split on commas/whitespace. */
export function pickList(flag: unknown, envNames: string[]): string[] | undefined {
  if (Array.isArray(flag) && flag.length > 0) return flag.map(String);
  const v = pickString(undefined, envNames);
  return v === undefined ? undefined : v.split(/[\s,]+/).filter(Boolean);
}

/** A number flag: a clear usage error when it is not one. */
export function pickNumber(
  flag: unknown,
  envNames: string[],
  flagName: string,
): number | undefined {
  const fromFlag = flag !== undefined;
  const raw = pickString(flag, envNames);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || raw.trim() === '') {
    const env = envNames.find((e) => process.env[e]);
    throw new CliError('ERR_USAGE', `--${flagName} must be a number, got "${raw}"`, {
      where: fromFlag ? `--${flagName}` : `environment variable ${env}`,
      hint: `pass a number, e.g. --${flagName} ${envNames.includes('PYWORKERS_PORT') ? '8787' : '512'}`,
    });
  }
  return n;
}

/** The flags that override `[tool.pyworkers]` keys (build, serve, dev). */
export const configOptions = {
  name: {
    configKey: 'name',
    type: 'string',
    default: undefined,
    description: 'worker name ([tool.pyworkers].name; else [project].name)',
    env: ['PYWORKERS_NAME'],
    valueName: 'NAME',
  },
  main: {
    configKey: 'main',
    type: 'string',
    default: 'the file, else src/entry.py',
    description: 'entry module ([tool.pyworkers].main)',
    env: ['PYWORKERS_MAIN'],
    valueName: 'PATH',
  },
  var: {
    configKey: 'vars',
    type: 'string',
    multiple: true,
    default: undefined,
    description:
      'set a var, repeatable, merged over [tool.pyworkers].vars (env: JSON object or K=V,K=V)',
    env: ['PYWORKERS_VARS'],
    valueName: 'KEY=VALUE',
  },
  route: {
    configKey: 'routes',
    type: 'string',
    multiple: true,
    default: undefined,
    description:
      'route ("/prefix", "host" or "host/prefix"), repeatable, replaces [tool.pyworkers].routes',
    env: ['PYWORKERS_ROUTES'],
    valueName: 'ROUTE',
  },
  'request-timeout-ms': {
    configKey: 'limits.request_timeout_ms',
    type: 'string',
    default: 'the file, else 30000',
    description: 'per-request time limit ([tool.pyworkers.limits].request_timeout_ms)',
    env: ['PYWORKERS_REQUEST_TIMEOUT_MS'],
    valueName: 'MS',
  },
  'memory-mb': {
    configKey: 'limits.memory_mb',
    type: 'string',
    default: 'the file, else 256',
    description: 'memory limit of one isolate ([tool.pyworkers.limits].memory_mb)',
    env: ['PYWORKERS_MEMORY_MB'],
    valueName: 'MB',
  },
  compatibility: {
    configKey: 'compatibility',
    type: 'string',
    default: undefined,
    description: 'required runtime, "pyodide-<v>" or "python-<v>" ([tool.pyworkers].compatibility)',
    env: ['PYWORKERS_COMPATIBILITY'],
    valueName: 'SPEC',
  },
} satisfies Record<string, CommandOption>;

function parseVars(list: string[], where: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new CliError('ERR_USAGE', `"${item}" is not KEY=VALUE`, {
        where,
        hint: 'write vars as KEY=VALUE, e.g. --var GREETING=Hi',
      });
    }
    vars[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return vars;
}

function envVars(): Record<string, string> | undefined {
  const raw = process.env.PYWORKERS_VARS;
  if (!raw) return undefined;
  if (raw.trim().startsWith('{')) {
    try {
      return Object.fromEntries(
        Object.entries(JSON.parse(raw) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
    } catch (cause) {
      throw new CliError('ERR_USAGE', 'PYWORKERS_VARS is not a JSON object', {
        where: 'environment variable PYWORKERS_VARS',
        hint: 'set it to {"KEY": "value"} or KEY=VALUE,KEY2=VALUE2',
        cause,
      });
    }
  }
  return parseVars(raw.split(','), 'environment variable PYWORKERS_VARS');
}

/** `[tool.pyworkers]` overrides from flags, then env (flag > env > config file). */
export function configOverrides(values: Record<string, unknown>): ProjectOverrides {
  const o: ProjectOverrides = {};
  const name = pickString(values.name, ['PYWORKERS_NAME']);
  if (name !== undefined) o.name = name;
  const main = pickString(values.main, ['PYWORKERS_MAIN']);
  if (main !== undefined) o.main = main;
  const flagVars = Array.isArray(values.var) ? parseVars(values.var.map(String), '--var') : {};
  const fromEnv = envVars();
  if (fromEnv || Object.keys(flagVars).length > 0) o.vars = { ...fromEnv, ...flagVars };
  const routes = pickList(values.route, ['PYWORKERS_ROUTES']);
  if (routes !== undefined) o.routes = routes;
  const timeout = pickNumber(
    values['request-timeout-ms'],
    ['PYWORKERS_REQUEST_TIMEOUT_MS'],
    'request-timeout-ms',
  );
  if (timeout !== undefined) o.requestTimeoutMs = timeout;
  const memory = pickNumber(values['memory-mb'], ['PYWORKERS_MEMORY_MB'], 'memory-mb');
  if (memory !== undefined) o.memoryMb = memory;
  const compatibility = pickString(values.compatibility, ['PYWORKERS_COMPATIBILITY']);
  if (compatibility !== undefined) o.compatibility = compatibility;
  return o;
}
