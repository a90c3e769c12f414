import { fromErrorData, toErrorData } from '@pyworkers/common';
import { IsolateError } from '@pyworkers/isolate';
import { ResolverError } from '@pyworkers/resolver';
import { RouterError } from '@pyworkers/router';
import { SnapshotError } from '@pyworkers/snapshot';
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

  it('asks each package whose fault its code is, also for an error revived from a host process', () => {
    expect(isUserError(new SnapshotError('ERR_SNAPSHOT_CORRUPT', 'x'))).toBe(true);
    expect(isUserError(new SnapshotError('ERR_SNAPSHOT_REFERENCE', 'x'))).toBe(false);
    expect(isUserError(new RouterError('ERR_ROUTER_LISTEN', 'x'))).toBe(true);
    const revived = fromErrorData(toErrorData(new ResolverError('ERR_NO_SOLUTION', 'x')));
    expect(revived).not.toBeInstanceOf(ResolverError);
    expect(isUserError(revived)).toBe(true);
    expect(isUserError(fromErrorData(toErrorData(new IsolateError('ERR_ISOLATE_BOOT', 'x'))))).toBe(
      false,
    );
  });
});
