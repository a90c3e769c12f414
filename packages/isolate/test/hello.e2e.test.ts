import { afterAll, describe, expect, it } from 'vitest';
import { buildBundle, decodeBundle, Isolate } from '../src/index.js';

const entry = `
import sys
from workers import WorkerEntrypoint, Response

GREETING = "hello from " + sys.version.split()[0]

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = await request.text()
        return Response(f"{GREETING} {request.method} {request.url} {self.env.WHO} {body}")
`;

const files = new Map([['entry.py', new TextEncoder().encode(entry)]]);
const isolates: Isolate[] = [];
afterAll(async () => {
  await Promise.all(isolates.map((i) => i.close()));
});

describe('a worker built into a bundle', () => {
  it('is restored from its snapshot and answers with text produced by Python', async () => {
    const bytes = await buildBundle({
      name: 'hello',
      mainModule: 'entry',
      files,
      vars: { WHO: 'tester' },
    });
    const bundle = decodeBundle(bytes);
    expect(bundle.snapshot).not.toBeNull();
    const iso = await Isolate.start(bundle);
    isolates.push(iso);
    expect(iso.restored).toBe(true);
    const res = await iso.fetch({
      method: 'POST',
      url: 'http://127.0.0.1/x',
      headers: [['content-type', 'text/plain']],
      body: new TextEncoder().encode('ping'),
    });
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.body)).toMatch(
      /^hello from 3\.\d+\.\d+ POST http:\/\/127\.0\.0\.1\/x tester ping$/,
    );
    expect(res.headers).toContainEqual(['content-type', 'text/plain;charset=UTF-8']);
  });

  it('reports a top level that raises as a build error with the traceback', async () => {
    const broken = new Map([
      ['entry.py', new TextEncoder().encode('raise ValueError("boom at top level")\n')],
    ]);
    await expect(
      buildBundle({ name: 'broken', mainModule: 'entry', files: broken, vars: {} }),
    ).rejects.toThrow(/ValueError: boom at top level/);
  });
});
