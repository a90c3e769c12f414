import { toErrorData } from '@pyworkers/common';
import { describe, expect, it } from 'vitest';
import { IsolateError, isIsolateError } from '../errors.js';
import { errorFromThread, threadFailure } from './thread-error.js';

// What a worker thread's postMessage does to a value: structured clone drops an Error's own
// fields and every symbol, which is why errors cross as data.
const overThread = <T>(v: T): T => structuredClone(v);

describe('errors from the isolate thread', () => {
  it("keep an IsolateError's code, userError, hint and where", () => {
    const thrown = new IsolateError('ERR_ISOLATE_HANDLER', 'entry has no queue handler', {
      userError: true,
      hint: 'define async def queue(self, batch, env, ctx)',
      where: 'entry.py:3',
      cause: new TypeError('inner'),
    });
    const err = errorFromThread(overThread(toErrorData(thrown)), 'ERR_ISOLATE_BOOT');
    expect(err).toBeInstanceOf(IsolateError);
    expect(err).toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
      userError: true,
      message: 'entry has no queue handler',
      hint: 'define async def queue(self, batch, env, ctx)',
      where: 'entry.py:3',
    });
    expect((err.cause as Error).message).toBe('inner');
  });

  it('wrap anything else under the fallback code, keeping it as the cause', () => {
    const err = errorFromThread(overThread(toErrorData(new TypeError('bug'))), 'ERR_ISOLATE_BOOT');
    expect(isIsolateError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'ERR_ISOLATE_BOOT', userError: false, message: 'bug' });
    expect((err.cause as Error).name).toBe('TypeError');
  });

  it('name the traceback of a Python failure at boot, as the user fault it is', () => {
    const err = threadFailure(
      {
        type: 'error',
        error: { name: 'PythonError', message: 'ValueError: x', pyworkers: false, userError: true },
        traceback: 'Traceback (most recent call last):\nValueError: x',
      },
      'ERR_ISOLATE_SNAPSHOT',
      'running the top level of w failed:\n',
    );
    expect(err).toMatchObject({ code: 'ERR_ISOLATE_SNAPSHOT', userError: true });
    expect(err.message).toBe(
      'running the top level of w failed:\nTraceback (most recent call last):\nValueError: x',
    );
  });
});
