// A Python exception raised in a JS callback outside any request (a setTimeout callback, an
// event listener) goes to the worker's log with its traceback, and the isolate goes on serving
// (before, it ended the isolate's thread and every request on it). A fatal exit still ends it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isolate } from '../src/index.js';
import { memoryLogger, send, startWorker } from './sdk-helpers.js';

const entry = `
import os

import js
from pyodide.ffi import create_proxy
from workers import Response, WorkerEntrypoint


def boom(*args):
    raise ValueError("boom in a callback")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/timer"):
            js.setTimeout(create_proxy(boom), 1)
            return Response("scheduled")
        if request.url.endswith("/exit"):
            js.setTimeout(create_proxy(lambda: os._exit(3)), 100)
            return Response("exiting")
        return Response("alive")
`;

const logger = memoryLogger();
let isolate: Isolate;
beforeAll(async () => {
  ({ isolate } = await startWorker('callbacks', { 'entry.py': entry }, { logger }));
}, 300_000);
afterAll(async () => {
  await isolate?.close().catch(() => {});
});

async function until(ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const logged = (): string[] =>
  logger.entries
    .filter((e) => e.level === 'error' && e.msg.startsWith('Uncaught exception in a callback'))
    .map((e) => e.msg);

describe('exceptions in callbacks', () => {
  it('a setTimeout callback that raises is logged with its traceback; the isolate serves on', async () => {
    expect((await send(isolate, 'http://w/timer')).text).toBe('scheduled');
    await until(() => logged().length > 0);
    expect((await send(isolate, 'http://w/')).text).toBe('alive');
    expect(logged()).toHaveLength(1);
    expect(logged()[0]).toContain('ValueError: boom in a callback');
    expect(logged()[0]).toContain(', in boom');
  });

  it('an interpreter that exits from a callback still ends the isolate', async () => {
    expect((await send(isolate, 'http://w/exit')).text).toBe('exiting');
    await until(() => isolate.closed);
    await expect(send(isolate, 'http://w/')).rejects.toThrow();
  });
});
