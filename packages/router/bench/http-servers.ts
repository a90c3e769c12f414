// The servers the HTTP benchmark measures, in their own process so that autocannon (in the
// parent) does not share an event loop with them: a bare node:http hello world, and the
// router serving apps/edge's hello worker from one in-process host (the child-process hosts are
// measured through the real `pyworkers serve`, which http.bench.ts starts itself).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

const bare = createServer((_req, res) => {
  const body = 'Hello from node:http!\n';
  res.writeHead(200, {
    'content-type': 'text/plain;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));

const workers = [{ name: 'hello', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }];
const local = createRouter({ workers, hostKind: 'local', hosts: 1 });
const localAddr = await local.listen({ port: 0, host: '127.0.0.1' });

process.send?.({
  bare: (bare.address() as AddressInfo).port,
  local: localAddr.port,
});
process.on('disconnect', () => {
  bare.close();
  void local.close().then(() => process.exit(0));
});
