import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fromErrorData, toErrorData } from './ipc.js';
import { isPyworkersError, PyworkersError } from './pyworkers-error.js';
import { formatIssues } from './zod-issue.js';

type Code = 'ERR_A' | 'ERR_B';
class AError extends PyworkersError<Code> {
  override readonly name = 'AError';
  constructor(
    code: Code,
    message: string,
    options?: ConstructorParameters<typeof PyworkersError>[3],
  ) {
    super({ ERR_A: { user: true, hint: 'fix a' }, ERR_B: { user: false } }, code, message, options);
  }
}

describe('PyworkersError', () => {
  it('takes userError and hint from its package table, overridable per throw', () => {
    const a = new AError('ERR_A', 'bad a');
    expect([a.userError, a.hint, a.name, a.message]).toEqual([true, 'fix a', 'AError', 'bad a']);
    const b = new AError('ERR_B', 'bad b', { hint: 'h', where: 'f:1', cause: a });
    expect([b.userError, b.hint, b.where, b.cause]).toEqual([false, 'h', 'f:1', a]);
    expect(new AError('ERR_A', 'x', { userError: false }).userError).toBe(false);
  });

  it('is recognised by marker, not by prototype', () => {
    expect(isPyworkersError(new AError('ERR_A', 'x'))).toBe(true);
    expect(isPyworkersError(new AError('ERR_A', 'x'), 'AError')).toBe(true);
    expect(isPyworkersError(new AError('ERR_A', 'x'), 'BError')).toBe(false);
    const lookalike = Object.assign(new Error('x'), { code: 'ERR_A', userError: true });
    expect(isPyworkersError(lookalike)).toBe(false);
    expect(isPyworkersError(null)).toBe(false);
  });

  it('survives a second copy of the package (a fresh module instance)', async () => {
    vi.resetModules();
    const copy = (await import('./pyworkers-error.js')) as {
      PyworkersError: typeof PyworkersError;
    };
    expect(copy.PyworkersError).not.toBe(PyworkersError);
    const e = new copy.PyworkersError({ X: { user: true } }, 'X', 'from the copy');
    expect(e instanceof PyworkersError).toBe(false);
    expect(isPyworkersError(e)).toBe(true);
  });
});

describe('toErrorData / fromErrorData', () => {
  it('keeps the contract fields and causes through a real child-process IPC trip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyworkers-errors-'));
    const echo = join(dir, 'echo.cjs');
    writeFileSync(
      echo,
      "process.on('message', (m) => { process.send(m); process.disconnect(); });",
    );
    const cause = new AError('ERR_B', 'inner');
    const sent = toErrorData(new AError('ERR_A', 'outer', { where: 'pyproject.toml:3', cause }));
    const child = fork(echo, { serialization: 'advanced' });
    const got = await new Promise<unknown>((resolve) => {
      child.once('message', resolve);
      child.send(sent);
    });
    const err = fromErrorData(got as typeof sent);
    expect(isPyworkersError(err, 'AError')).toBe(true);
    expect(err).toMatchObject({
      message: 'outer',
      code: 'ERR_A',
      userError: true,
      hint: 'fix a',
      where: 'pyproject.toml:3',
    });
    expect(err.stack).toContain('outer');
    expect(isPyworkersError(err.cause, 'AError')).toBe(true);
    expect((err.cause as Error).message).toBe('inner');
  });

  it('keeps a plain error plain (not the user fault, not marked)', () => {
    const plain = fromErrorData(toErrorData(Object.assign(new Error('boom'), { code: 'ENOENT' })));
    expect(isPyworkersError(plain)).toBe(false);
    expect(plain).toMatchObject({ message: 'boom', code: 'ENOENT', userError: false });
    expect(fromErrorData(toErrorData('a string')).message).toBe('a string');
  });

  it('stops on a cause cycle', () => {
    const a = new Error('a');
    a.cause = a;
    let depth = 0;
    for (let d: ReturnType<typeof toErrorData> | undefined = toErrorData(a); d; d = d.cause)
      depth++;
    expect(depth).toBe(5);
  });
});

describe('formatIssues', () => {
  it('writes key paths under a root, names unknown keys, and counts the rest', () => {
    const issues = [
      { path: ['routes', 2], message: 'expected string' },
      { path: [], code: 'unrecognized_keys', keys: ['nmae'], message: 'Unrecognized key' },
      { path: ['a'], message: 'x' },
      { path: ['b'], message: 'y' },
    ];
    expect(formatIssues(issues, { root: '[tool.pyworkers]' })).toBe(
      '[tool.pyworkers].routes[2]: expected string; [tool.pyworkers].nmae: unknown key "nmae"; [tool.pyworkers].a: x; and 1 more',
    );
    expect(formatIssues([{ path: [], message: 'expected object' }])).toBe(
      '(top level): expected object',
    );
    expect(formatIssues([{ path: ['packages', 0, 'name'], message: 'm' }])).toBe(
      'packages[0].name: m',
    );
  });
});
