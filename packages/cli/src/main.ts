import { parseArgs } from 'node:util';
import { IsolateError } from '@pyworkers/isolate';
import pc from 'picocolors';
import { buildCommand } from './commands/build.js';
import type { Command, CommandContext } from './commands/command.js';
import { serveCommand } from './commands/serve.js';
import { CliError } from './errors.js';
import { createCliLogger } from './logger.js';

const commands: Command[] = [buildCommand, serveCommand];

const globalOptions = {
  help: { type: 'boolean', short: 'h', description: 'show help' },
  verbose: {
    type: 'boolean',
    description: 'print stack traces and debug logs (env PYWORKERS_VERBOSE)',
  },
  json: { type: 'boolean', description: 'machine-readable output (env PYWORKERS_JSON)' },
  cwd: {
    type: 'string',
    description: 'run as if started in this directory (default: current directory)',
  },
} as const;

function help(command?: Command): string {
  const lines: string[] = [];
  if (command) {
    lines.push(`usage: ${command.usage}`, '', command.summary, '', 'options:');
    for (const [k, o] of Object.entries(command.options))
      lines.push(`  --${k.padEnd(14)} ${o.description} (default: ${JSON.stringify(o.default)})`);
  } else {
    lines.push('usage: pyworkers <command> [options]', '', 'commands:');
    for (const c of commands) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  }
  lines.push('', 'global options:');
  for (const [k, o] of Object.entries(globalOptions))
    lines.push(`  --${k.padEnd(14)} ${o.description}`);
  return lines.join('\n');
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  const command = commands.find((c) => c.name === name);
  if (!command) {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(`${help()}\n`);
      return 0;
    }
    process.stderr.write(`${pc.red('error')}: unknown command "${name}"\n\n${help()}\n`);
    return 1;
  }
  let parsed: ReturnType<typeof parseArgs>;
  const options = Object.fromEntries([
    ...Object.entries(globalOptions).map(([k, o]) => [
      k,
      { type: o.type, ...('short' in o ? { short: o.short } : {}) },
    ]),
    ...Object.entries(command.options).map(([k, o]) => [k, { type: o.type }]),
  ]);
  try {
    parsed = parseArgs({ args: argv.slice(1), options, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${pc.red('error')}: ${(err as Error).message}\n\n${help(command)}\n`);
    return 1;
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    process.stdout.write(`${help(command)}\n`);
    return 0;
  }
  const verbose = values.verbose === true || process.env.PYWORKERS_VERBOSE === '1';
  const json = values.json === true || process.env.PYWORKERS_JSON === '1';
  const ctx: CommandContext = {
    cwd: (values.cwd as string | undefined) ?? process.env.PYWORKERS_CWD ?? process.cwd(),
    logger: createCliLogger(verbose ? 'debug' : undefined),
    json,
    print(result, human) {
      process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${human}\n`);
    },
  };
  try {
    await command.run(ctx, values, parsed.positionals);
    return 0;
  } catch (err) {
    return report(err, verbose);
  }
}

function report(err: unknown, verbose: boolean): number {
  const user =
    err instanceof CliError
      ? err.code !== 'ERR_INTERNAL'
      : err instanceof IsolateError
        ? err.userError
        : false;
  const e = err as Error;
  const lines = [`${pc.red('error')}: ${e.message}`];
  if (err instanceof CliError && err.where) lines.push(`  where: ${err.where}`);
  if (err instanceof CliError && err.hint) lines.push(`  fix:   ${err.hint}`);
  if (!user)
    lines.push('  this is a bug in pyworkers; please report it with the output of --verbose');
  if (verbose && e.stack) lines.push('', e.stack);
  process.stderr.write(`${lines.join('\n')}\n`);
  return user ? 1 : 2;
}
