import { buildBundle, decodeBundle, Isolate } from '@pyworkers/isolate';
const src = `
from workers import DurableObject, WorkerEntrypoint, Response
class Bench(DurableObject):
    async def ping(self):
        return 1
class Default(WorkerEntrypoint):
    async def ping(self):
        return 1
    async def fetch(self, request):
        return Response("x")
`;
const bundle = decodeBundle(await buildBundle({ name: 'b', mainModule: 'entry', files: new Map([['entry.py', new TextEncoder().encode(src)]]), vars: {},
  bindings: { bindings: [{ type: 'durable_object_namespace', name: 'BENCH', className: 'Bench' }], durableObjects: { classes: ['Bench'], migrations: [] } } }));
const iso = await Isolate.start(bundle, { hostCalls: async () => null });
const obj = { type: 'rpc', method: 'ping', args: [], object: { className: 'Bench', id: 'ab'.repeat(32), name: 'x', token: 't'.repeat(24), sockets: 0 } } as never;
const plain = { type: 'rpc', method: 'ping', args: [] } as never;
for (const [name, ev] of [['object', obj], ['plain', plain], ['object', obj], ['plain', plain]] as const) {
  const ts: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await iso.dispatch(ev);
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  console.log(name, (ts[1000]! * 1000).toFixed(1), 'us p50');
}
const f: number[] = [];
for (let i = 0; i < 2000; i++) { const t = performance.now(); await iso.fetch({ method: 'GET', url: 'http://x/', headers: [], body: new Uint8Array(0) }); f.push(performance.now() - t); }
f.sort((a, b) => a - b); console.log('fetch', (f[1000]! * 1000).toFixed(1), 'us p50');
await iso.close();
