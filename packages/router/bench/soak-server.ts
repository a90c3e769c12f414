// The server the soak measures, in its own process (autocannon stays out of its event loop):
// the router serving apps/edge's hello worker from child-process hosts, as `pyworkers serve`.
import { readFileSync } from 'node:fs';
import { buildBundle, decodeBundle } from '@pyworkers/isolate';
import { createRouter } from '../src/index.js';

const entry = readFileSync(
  new URL('../../../apps/edge/workers/hello/src/entry.py', import.meta.url),
);
const bundle = decodeBundle(
  await buildBundle({
    name: 'hello',
    mainModule: 'entry',
    files: new Map([['entry.py', new Uint8Array(entry)]]),
    vars: { GREETING: 'Hello' },
  }),
);
const router = createRouter({
  workers: [{ name: 'hello', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
  hostKind: 'process',
});
const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ port });
process.on('disconnect', () => {
  void router.close().then(() => process.exit(0));
});
