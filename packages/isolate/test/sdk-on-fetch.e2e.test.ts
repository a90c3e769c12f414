// The older module-level `on_fetch(request, env)` entry point, and workers with no entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, type Isolate } from '../src/index.js';
import { send, startWorker } from './sdk-helpers.js';

const entry = `
from workers import Response, handler


@handler
async def on_fetch(request, env):
    body = await request.text()
    return Response.json({"method": request.method, "who": env.WHO, "body": body})
`;

let isolate: Isolate;

beforeAll(async () => {
  ({ isolate } = await startWorker(
    'sdk-on-fetch',
    { 'entry.py': entry },
    { vars: { WHO: 'old' } },
  ));
});

afterAll(async () => {
  await isolate?.close();
});

const encode = (text: string): Map<string, Uint8Array> =>
  new Map([['entry.py', new TextEncoder().encode(text)]]);

describe('on_fetch(request, env)', () => {
  it('gets the request and the env', async () => {
    const res = await send(isolate, 'http://127.0.0.1/', { method: 'PATCH', body: 'hi' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ method: 'PATCH', who: 'old', body: 'hi' });
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
