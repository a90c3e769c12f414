import { afterAll, describe, expect, it } from 'vitest';
import { buildBundle, decodeBundle, Isolate, IsolateLauncher } from '../src/index.js';

// A cold start's first request should cost what a warm one does: nothing the SDK needs may be
// imported (found, read and compiled from source) on the request path. The worker records the
// modules its snapshot holds and answers with the ones that appeared since.
const entry = `
import sys
from workers import Response, WorkerEntrypoint

AT_SNAPSHOT = set(sys.modules)

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(" ".join(sorted(set(sys.modules) - AT_SNAPSHOT)))
`;
const request = {
  method: 'GET',
  url: 'http://127.0.0.1/',
  headers: [] as [string, string][],
  body: new Uint8Array(),
};
const launcher = new IsolateLauncher({ poolSize: 1 });
afterAll(() => launcher.close());

describe('the first request after a cold start', () => {
  it('imports no module, swapped into a parked isolate or restored fresh', async () => {
    const bundle = decodeBundle(
      await buildBundle({
        name: 'first',
        mainModule: 'entry',
        files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
        vars: {},
        // Declared bindings make the env build its proxies: the lazily imported path.
        bindings: { bindings: [{ type: 'kv', name: 'KV', id: 'k' }] },
      }),
    );
    await launcher.warm();
    for (const iso of [await launcher.start(bundle), await Isolate.start(bundle)]) {
      try {
        const res = await iso.fetch(request);
        expect(new TextDecoder().decode(res.body as Uint8Array)).toBe('');
      } finally {
        await iso.close();
      }
    }
  });
});
