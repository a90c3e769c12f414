// Handlers called by their signature (as Cloudflare's SDK calls them) and the non-fetch
// events: cron `scheduled` and `queue` batches with per-message ack/retry coming back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Isolate, isIsolateError, type QueueMessage } from '../src/index.js';
import { memoryLogger, send, startWorker } from './sdk-helpers.js';

// Cloudflare's example 08-cron has exactly this shape: `fetch(self)` takes no request.
const cron = `
import asyncio
import json
from workers import Response, WorkerEntrypoint

seen = []


class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        async def later():
            await asyncio.sleep(0.05)
            seen.append("later")

        ctx.wait_until(later())
        seen.append([controller.cron, controller.scheduled_time, controller.scheduledTime, env.WHO])
        if controller.cron == "fail":
            controller.no_retry()
            raise RuntimeError("cron failed on purpose")

    async def queue(self, batch):
        for msg in batch.messages:
            seen.append([batch.queue, msg.id, msg.timestamp.isoformat(), msg.body, msg.attempts])
            kind = msg.body["kind"] if isinstance(msg.body, dict) else None
            if kind == "ack":
                msg.ack()
                msg.retry()  # ignored: the first call wins
            elif kind == "retry":
                msg.retry(delay_seconds=30)
        if any(isinstance(m.body, dict) and m.body.get("kind") == "retry_all" for m in batch.messages):
            batch.retry_all(delay_seconds=5)
        if any(m.body == "boom" for m in batch.messages):
            raise ValueError("boom")

    async def fetch(self):
        return Response("Hello from Cron Worker " + json.dumps(seen, default=repr))
`;

// Module-level handlers with fewer parameters than Cloudflare passes; no queue handler.
const legacy = `
from workers import Response

ran = []


def on_fetch(request):
    return Response(f"{request.method} {len(ran)}")


async def on_scheduled(controller):
    ran.append(controller.cron)
`;

// Every parameter Cloudflare's SDK passes: request, env and ctx.
const full = `
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request, env, ctx):
        return Response(f"{request.method} {env.WHO} {type(ctx).__name__} {env is self.env}")
`;

const logger = memoryLogger();
let cronIso: Isolate;
let legacyIso: Isolate;
let fullIso: Isolate;

beforeAll(async () => {
  [{ isolate: cronIso }, { isolate: legacyIso }, { isolate: fullIso }] = await Promise.all([
    startWorker('sdk-cron', { 'entry.py': cron }, { vars: { WHO: 'cron' }, logger }),
    startWorker('sdk-legacy', { 'entry.py': legacy }),
    startWorker('sdk-full', { 'entry.py': full }, { vars: { WHO: 'full' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([cronIso?.close(), legacyIso?.close(), fullIso?.close()]);
});

const seen = async (iso: Isolate): Promise<unknown[]> =>
  JSON.parse((await send(iso, 'http://127.0.0.1/')).text.replace('Hello from Cron Worker ', ''));

describe('handlers called by their signature', () => {
  it('answers GET on a fetch(self) that takes no request (Cloudflare example 08-cron)', async () => {
    const res = await send(cronIso, 'http://127.0.0.1/');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^Hello from Cron Worker /);
  });

  it('passes request, env and ctx to fetch(self, request, env, ctx)', async () => {
    const res = await send(fullIso, 'http://127.0.0.1/', { method: 'POST', body: 'x' });
    expect(res.text).toBe('POST full Context True');
  });

  it('passes only the request to on_fetch(request)', async () => {
    expect((await send(legacyIso, 'http://127.0.0.1/')).text).toBe('GET 0');
  });
});

describe('scheduled events', () => {
  it('gives the controller cron and scheduled_time and waits for ctx.wait_until', async () => {
    const result = await cronIso.dispatch({
      type: 'scheduled',
      cron: '*/5 * * * *',
      scheduledTime: 1_700_000_000_000,
    });
    expect(result).toEqual({ type: 'scheduled', outcome: 'ok', noRetry: false });
    // wait_until work finished before the result came back.
    expect((await seen(cronIso)).slice(-2)).toEqual([
      ['*/5 * * * *', 1_700_000_000_000, 1_700_000_000_000, 'cron'],
      'later',
    ]);
  });

  it('reports a handler that raised as an exception outcome, with no_retry', async () => {
    const result = await cronIso.dispatch({ type: 'scheduled', cron: 'fail', scheduledTime: 1 });
    expect(result).toEqual({
      type: 'scheduled',
      outcome: 'exception',
      noRetry: true,
      error: 'RuntimeError: cron failed on purpose',
    });
    const logged = logger.entries.map((e) => e.msg).join('\n');
    expect(logged).toContain('in scheduled');
    expect(logged).toContain('RuntimeError: cron failed on purpose');
  });

  it('calls the older on_scheduled(controller) with what it declares', async () => {
    const result = await legacyIso.dispatch({
      type: 'scheduled',
      cron: '0 * * * *',
      scheduledTime: 0,
    });
    expect(result.outcome).toBe('ok');
    expect((await send(legacyIso, 'http://127.0.0.1/')).text).toBe('GET 1');
  });
});

const message = (id: string, body: unknown, attempts = 1): QueueMessage => ({
  id,
  timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
  body,
  attempts,
});

describe('queue batches', () => {
  it('returns each message with its own action, the rest acked', async () => {
    const result = await cronIso.dispatch({
      type: 'queue',
      queue: 'jobs',
      messages: [
        message('m1', { kind: 'ack' }),
        message('m2', { kind: 'retry' }, 3),
        message('m3', 'plain text'),
        message('m4', new Uint8Array([1, 2, 255])),
      ],
    });
    expect(result).toEqual({
      type: 'queue',
      outcome: 'ok',
      messages: [
        { id: 'm1', action: 'ack' },
        { id: 'm2', action: 'retry', delaySeconds: 30 },
        { id: 'm3', action: 'ack' },
        { id: 'm4', action: 'ack' },
      ],
    });
    expect((await seen(cronIso)).slice(-4)).toEqual([
      ['jobs', 'm1', '2026-01-02T03:04:05+00:00', { kind: 'ack' }, 1],
      ['jobs', 'm2', '2026-01-02T03:04:05+00:00', { kind: 'retry' }, 3],
      ['jobs', 'm3', '2026-01-02T03:04:05+00:00', 'plain text', 1],
      ['jobs', 'm4', '2026-01-02T03:04:05+00:00', "b'\\x01\\x02\\xff'", 1],
    ]);
  });

  it('applies retry_all to the undecided messages only', async () => {
    const result = await cronIso.dispatch({
      type: 'queue',
      queue: 'jobs',
      messages: [message('a', { kind: 'ack' }), message('b', { kind: 'retry_all' })],
    });
    expect(result.messages).toEqual([
      { id: 'a', action: 'ack' },
      { id: 'b', action: 'retry', delaySeconds: 5 },
    ]);
  });

  it('retries the undecided messages when the handler raises', async () => {
    const result = await cronIso.dispatch({
      type: 'queue',
      queue: 'jobs',
      messages: [message('x', { kind: 'ack' }), message('y', 'boom')],
    });
    expect(result).toEqual({
      type: 'queue',
      outcome: 'exception',
      error: 'ValueError: boom',
      messages: [
        { id: 'x', action: 'ack' },
        { id: 'y', action: 'retry' },
      ],
    });
  });

  it('refuses a batch for a worker without a queue handler, saying what to define', async () => {
    const refused = legacyIso.dispatch({
      type: 'queue',
      queue: 'q',
      messages: [message('1', 'x')],
    });
    // Code, userError and the hint are the thread's own (the parent's default hint for the code
    // is another): they crossed the thread boundary as error data.
    await expect(refused).rejects.toMatchObject({
      name: 'IsolateError',
      code: 'ERR_ISOLATE_HANDLER',
      userError: true,
      message: 'entry has no queue handler',
      hint: 'define async def queue(self, batch, env, ctx) on class Default (or a module-level on_queue)',
    });
    expect(isIsolateError(await refused.catch((e: unknown) => e))).toBe(true);
    // The isolate keeps serving.
    expect((await send(legacyIso, 'http://127.0.0.1/')).status).toBe(200);
  });
});
