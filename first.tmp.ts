import { buildBundle, decodeBundle, IsolateLauncher, loadBaseline } from './packages/isolate/src/index.js';
await loadBaseline();
const src = `from workers import Response, WorkerEntrypoint\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        return Response("hello")\n`;
const bundle = decodeBundle(await buildBundle({ name: 'h', mainModule: 'entry', files: new Map([['entry.py', new TextEncoder().encode(src)]]), vars: {} }));
const launcher = new IsolateLauncher({ poolSize: 1 });
const request = { method: 'GET', url: 'http://127.0.0.1/', headers: [], body: new Uint8Array() };
const rows: number[][] = [];
for (let i = 0; i < 12; i++) {
  await launcher.warm(); await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  const iso = await launcher.start(bundle);
  const t1 = performance.now();
  const r = [t1 - t0];
  for (let k = 0; k < 4; k++) { const a = performance.now(); await iso.fetch(request); r.push(performance.now() - a); }
  rows.push(r); await iso.close();
  console.log(r.map((x) => x.toFixed(2)).join(' '), JSON.stringify(Object.fromEntries(Object.entries((iso as any).bootPhases ?? {}).map(([k, v]) => [k, Number((v as number).toFixed(2))]))));
}
await launcher.close();
