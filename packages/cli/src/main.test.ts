import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { commands, help, isUserError } from './main.js';

describe('help', () => {
  it('lists every command', () => {
    const text = help();
    for (const c of commands) expect(text).toContain(`  ${c.name}`);
    expect(text).toMatch(/exit codes: 0 ok, 1 user error, 2 internal error/);
  });

  it.each(commands.map((c) => [c.name, c] as const))(
    '`%s --help` lists every flag with its default',
    (_name, command) => {
      const lines = help(command).split('\n');
      for (const [flag, option] of Object.entries({
        ...command.options,
        help: {},
        verbose: {},
        json: {},
        cwd: {},
      })) {
        const line = lines.find((l) => new RegExp(`^ {2}(-\\w, | {4})--${flag}( |$)`).test(l));
        expect(line, `--${flag}`).toBeDefined();
        expect(line).toMatch(/\[default: [^\]]+/);
        const env = (option as { env?: string[] }).env;
        if (env) expect(line).toContain(`env: ${env.join(', ')}`);
      }
    },
  );
});

describe('exit codes', () => {
  it('splits user errors (1) from bugs (2)', () => {
    expect(isUserError(new CliError('ERR_CONFIG', 'x'))).toBe(true);
    expect(isUserError(new CliError('ERR_INTERNAL', 'x'))).toBe(false);
    expect(isUserError(new TypeError('x'))).toBe(false);
  });
});
