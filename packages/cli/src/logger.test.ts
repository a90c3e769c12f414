import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCliLogger, defaultLogFormat, type LogFormat } from './logger.js';

function capture(format: LogFormat): {
  lines: () => string[];
  log: ReturnType<typeof createCliLogger>;
} {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  const log = createCliLogger('debug', { format, stream, color: false });
  return { log, lines: () => text.trimEnd().split('\n') };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('CLI logger', () => {
  it('tags every line of a multi-line Python message with its worker', () => {
    const { log, lines } = capture('pretty');
    log.info(
      { worker: 'notes', stream: 'stderr' },
      'Traceback (most recent call last):\n  File "entry.py", line 3, in fetch\nValueError: boom',
    );
    const out = lines();
    expect(out).toHaveLength(3);
    for (const line of out) expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[notes\] /);
    expect(out[2]).toContain('ValueError: boom');
  });

  it('writes the same fields as human text and as JSON', () => {
    const pretty = capture('pretty');
    const json = capture('json');
    for (const { log } of [pretty, json]) {
      log.warn({ worker: 'hello', host: 2, isolates: 3 }, 'isolate lost');
      log.info(
        { method: 'GET', url: '/x', host: '127.0.0.1:8787', worker: 'hello', status: 200, ms: 1.5 },
        'request',
      );
    }
    const records = json.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(2);
    pretty.lines().forEach((line, k) => {
      const { level: _l, time: _t, msg, ...fields } = records[k]!;
      if (msg !== 'request') expect(line).toContain(String(msg));
      for (const v of Object.values(fields)) expect(line).toContain(String(v));
      expect(line.startsWith('{')).toBe(false);
    });
  });

  it('is human on a terminal and JSON when piped, unless PYWORKERS_LOG_FORMAT says', () => {
    const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
    const pipe = { isTTY: false } as unknown as NodeJS.WritableStream;
    vi.stubEnv('PYWORKERS_LOG_FORMAT', '');
    expect(defaultLogFormat(tty)).toBe('pretty');
    expect(defaultLogFormat(pipe)).toBe('json');
    vi.stubEnv('PYWORKERS_LOG_FORMAT', 'json');
    expect(defaultLogFormat(tty)).toBe('json');
    vi.stubEnv('PYWORKERS_LOG_FORMAT', 'pretty');
    expect(defaultLogFormat(pipe)).toBe('pretty');
  });
});
