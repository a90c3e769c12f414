import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isPyworkersError } from '@pyworkers/common';
import pc from 'picocolors';
import { addCommand } from './commands/add.js';
import { buildCommand } from './commands/build.js';
import { d1ExecuteCommand } from './commands/d1-execute.js';
import { d1MigrationsApplyCommand, d1MigrationsListCommand } from './commands/d1-migrations.js';
import { devCommand } from './commands/dev.js';
import { initCommand } from './commands/init.js';
import {
  kvKeyDeleteCommand,
  kvKeyGetCommand,
  kvKeyListCommand,
  kvKeyPutCommand,
} from './commands/kv-key.js';
import {
  r2ObjectDeleteCommand,
  r2ObjectGetCommand,
  r2ObjectPutCommand,
} from './commands/r2-object.js';
import { removeCommand } from './commands/remove.js';
import { serveCommand } from './commands/serve.js';
import { snapshotInspectCommand } from './commands/snapshot-inspect.js';
import { syncCommand } from './commands/sync.js';
import type { Command, CommandContext, CommandOption } from './internal/command.js';
import { createProgress } from './internal/progress.js';
import { createCliLogger, defaultLogFormat } from './logger.js';

/** Every command, in the order `--help` lists them. */
export const commands: Command[] = [
  initCommand,
  addCommand,
  removeCommand,
  syncCommand,
  buildCommand,
  devCommand,
  serveCommand,
  snapshotInspectCommand,
  d1ExecuteCommand,
  d1MigrationsListCommand,
  d1MigrationsApplyCommand,
  kvKeyPutCommand,
  kvKeyGetCommand,
  kvKeyListCommand,
  kvKeyDeleteCommand,
  r2ObjectPutCommand,
  r2ObjectGetCommand,
  r2ObjectDeleteCommand,
];

const globalOptions: Record<string, CommandOption> = {
  help: { type: 'boolean', short: 'h', default: false, description: 'show help' },
  verbose: {
    type: 'boolean',
    short: 'v',
    default: false,
    description: 'debug logs, and stack traces on errors',
    env: ['PYWORKERS_VERBOSE'],
  },
  json: {
    type: 'boolean',
    default: false,
    description: 'machine-readable output: one JSON result on stdout, JSON logs on stderr',
    env: ['PYWORKERS_JSON'],
  },
  cwd: {
    type: 'string',
    default: '.',
    description: 'run as if started in this directory',
    env: ['PYWORKERS_CWD'],
    valueName: 'DIR',
  },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function flagLines(options: Record<string, CommandOption>): string[] {
  const rows = Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.valueName ? ` ${o.valueName}` : ''}`;
    const notes = [
      `default: ${o.default === undefined ? 'none' : String(o.default)}`,
      ...(o.env?.length ? [`env: ${o.env.join(', ')}`] : []),
      ...(o.multiple ? ['repeatable'] : []),
    ];
    return [flag, `${o.description} [${notes.join('; ')}]`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`);
}

/** The help text of one command, or of the whole CLI. */
export function help(command?: Command): string {
  const lines: string[] = [];
  if (command) {
    lines.push(`usage: ${command.usage}`, '', command.summary);
    if (command.details) lines.push('', command.details);
    if (Object.keys(command.options).length > 0)
      lines.push('', 'options:', ...flagLines(command.options));
  } else {
    lines.push(
      `pyworkers ${version()}: Python workers on Pyodide, with memory snapshots`,
      '',
      'usage: pyworkers <command> [options]',
      '',
      'commands:',
    );
    for (const c of commands) lines.push(`  ${c.name.padEnd(18)} ${c.summary}`);
    lines.push('', 'run `pyworkers <command> --help` for the flags of a command');
  }
  lines.push('', 'global options:', ...flagLines(globalOptions));
  lines.push('', 'exit codes: 0 ok, 1 user error, 2 internal error');
  return lines.join('\n');
}

function findCommand(argv: string[]): { command: Command | undefined; rest: string[] } {
  // Global flags may come before the command: `pyworkers --cwd x build`.
  const words: number[] = [];
  for (let k = 0; k < argv.length && words.length < 3; k++) {
    const a = argv[k]!;
    if (a === '--cwd') {
      k++;
      continue;
    }
    if (a.startsWith('-')) continue;
    words.push(k);
  }
  for (const n of [3, 2, 1]) {
    const idx = words.slice(0, n);
    if (idx.length < n) continue;
    const name = idx.map((k) => argv[k]).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: argv.filter((_, k) => !idx.includes(k)) };
  }
  return { command: undefined, rest: argv };
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

function envFlag(names: string[] | undefined): boolean {
  return (names ?? []).some((n) =>
    ['1', 'true', 'yes', 'on'].includes((process.env[n] ?? '').toLowerCase()),
  );
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const { command, rest } = findCommand(argv);
  const stderrColor = pc.createColors(process.stderr.isTTY === true && !process.env.NO_COLOR);
  if (!command) {
    if (argv.includes('--version')) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    const first = argv.find((a) => !a.startsWith('-'));
    if (!first || first === 'help') {
      const sub =
        first === 'help'
          ? commands.find((c) => c.name === argv[argv.indexOf('help') + 1])
          : undefined;
      process.stdout.write(`${help(sub)}\n`);
      return 0;
    }
    const near = commands.filter((c) => distance(c.name, first) <= 2).map((c) => c.name);
    process.stderr.write(
      `${stderrColor.red('error')}: unknown command "${first}"\n  fix:   ${near.length ? `did you mean ${near.join(' or ')}? ` : ''}run \`pyworkers --help\` for the list\n`,
    );
    return 1;
  }
  const options = Object.fromEntries(
    Object.entries({ ...globalOptions, ...command.options }).map(([k, o]) => [
      k,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    process.stderr.write(
      `${stderrColor.red('error')}: ${(err as Error).message.split('\n')[0]}\n  where: pyworkers ${command.name}\n  fix:   run \`pyworkers ${command.name} --help\` for its flags and their defaults\n`,
    );
    return 1;
  }
  const values = parsed.values;
  if (values.help) {
    process.stdout.write(`${help(command)}\n`);
    return 0;
  }
  const verbose = values.verbose === true || envFlag(globalOptions.verbose!.env);
  const json = values.json === true || envFlag(globalOptions.json!.env);
  const tty = process.stderr.isTTY === true && !json;
  const color = pc.createColors(tty && !process.env.NO_COLOR);
  const stdoutColor = pc.createColors(
    process.stdout.isTTY === true && !json && !process.env.NO_COLOR,
  );
  const level = verbose ? 'debug' : (process.env.PYWORKERS_LOG ?? 'info');
  const makeLogger = (rewrite?: (text: string, worker?: string) => string) =>
    createCliLogger(level, {
      // Human lines on a terminal, JSON when piped (or PYWORKERS_LOG_FORMAT); --json forces JSON.
      format: json ? 'json' : defaultLogFormat(),
      color: tty && !process.env.NO_COLOR,
      ...(rewrite ? { rewrite } : {}),
    });
  const ctx: CommandContext = {
    cwd: resolve((values.cwd as string | undefined) ?? process.env.PYWORKERS_CWD ?? process.cwd()),
    logger: makeLogger(),
    createLogger: makeLogger,
    json,
    verbose,
    color: stdoutColor,
    progress: createProgress(process.stderr, tty),
    print(result, human) {
      process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${human}\n`);
    },
    warn(message) {
      process.stderr.write(
        json
          ? `${JSON.stringify({ level: 'warn', msg: message })}\n`
          : `${color.yellow('warning')}: ${message}\n`,
      );
    },
  };
  try {
    await command.run(ctx, values, parsed.positionals);
    return 0;
  } catch (err) {
    return report(err, { verbose, json, color });
  }
}

/** Whether an error is the user's to fix (exit 1) rather than a bug (exit 2). */
export function isUserError(err: unknown): boolean {
  return isPyworkersError(err) && err.userError;
}

function report(
  err: unknown,
  opts: { verbose: boolean; json: boolean; color: ReturnType<typeof pc.createColors> },
): number {
  const user = isUserError(err);
  const e = err instanceof Error ? err : new Error(String(err));
  // Every package supplies where and how to fix its own errors.
  const { where, hint } = isPyworkersError(err) ? err : { where: undefined, hint: undefined };
  const code = (err as { code?: unknown }).code;
  if (opts.json) {
    process.stderr.write(
      `${JSON.stringify({ error: { message: e.message, code, where, hint, user, ...(opts.verbose ? { stack: e.stack } : {}) } })}\n`,
    );
    return user ? 1 : 2;
  }
  const lines = [`${opts.color.red('error')}: ${e.message}`];
  if (where) lines.push(`  where: ${where}`);
  if (hint) lines.push(`  fix:   ${hint}`);
  if (!user)
    lines.push('  this is a bug in pyworkers; please report it with the output of --verbose');
  if (opts.verbose && e.stack) lines.push('', e.stack);
  process.stderr.write(`${lines.join('\n')}\n`);
  return user ? 1 : 2;
}
