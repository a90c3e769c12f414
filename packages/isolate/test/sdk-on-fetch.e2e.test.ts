// The older module-level `on_fetch(request, env[, ctx])` entry point, and workers with no entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, type Isolate } from '../src/index.js';
import { send, startWorker } from './sdk-helpers.js';

const entry = `
from workers import Response, handler


calls = 0


@handler
async def on_fetch(request, env):
    global calls
    calls += 1
    body = await request.text()
    return Response.json({"method": request.method, "who": env.WHO, "body": body, "calls": calls})
`;

// The three-argument form gets the execution context too.
const withCtx = `
import asyncio
from workers import Response

done = []


async def on_fetch(request, env, ctx):
    if request.url.endswith("/done"):
        return Response(",".join(done))

    async def later():
        await asyncio.sleep(0.01)
        done.append(env.WHO)

    ctx.wait_until(later())
    return Response(type(ctx).__name__)
`;

let isolate: Isolate;
let ctxIsolate: Isolate;

beforeAll(async () => {
  [{ isolate }, { isolate: ctxIsolate }] = await Promise.all([
    startWorker('sdk-on-fetch', { 'entry.py': entry }, { vars: { WHO: 'old' } }),
    startWorker('sdk-on-fetch-ctx', { 'entry.py': withCtx }, { vars: { WHO: 'ctx' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([isolate?.close(), ctxIsolate?.close()]);
});

const encode = (text: string): Map<string, Uint8Array> =>
  new Map([['entry.py', new TextEncoder().encode(text)]]);

describe('on_fetch(request, env)', () => {
  it('gets the request and the env (and is not called by the warm-up after the restore)', async () => {
    const res = await send(isolate, 'http://127.0.0.1/', { method: 'PATCH', body: 'hi' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ method: 'PATCH', who: 'old', body: 'hi', calls: 1 });
  });
});

describe('on_fetch(request, env, ctx)', () => {
  it('gets the execution context, whose wait_until runs after the response', async () => {
    expect((await send(ctxIsolate, 'http://127.0.0.1/')).text).toBe('Context');
    await expect
      .poll(async () => (await send(ctxIsolate, 'http://127.0.0.1/done')).text)
      .toBe('ctx');
  });
});

describe('a worker without an entry point', () => {
  it('fails the build naming both ways to define one', async () => {
    await expect(
      buildBundle({ name: 'no-entry', mainModule: 'entry', files: encode('X = 1\n'), vars: {} }),
    ).rejects.toMatchObject({
      code: 'ERR_ISOLATE_SNAPSHOT',
      message: expect.stringContaining(
        'entry defines neither class Default(WorkerEntrypoint) with async def fetch(self, request) nor on_fetch(request, env)',
      ),
    });
  });

  it('fails the build when Default has no fetch method', async () => {
    const source =
      'from workers import WorkerEntrypoint\nclass Default(WorkerEntrypoint):\n    pass\n';
    await expect(
      buildBundle({ name: 'no-fetch', mainModule: 'entry', files: encode(source), vars: {} }),
    ).rejects.toThrow(/entry\.Default has no fetch\(self, request\) method; add one/);
  });
});
