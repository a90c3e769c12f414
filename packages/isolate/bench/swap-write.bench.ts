// The heap write of a swap into a parked isolate, side by side in one run: every non-zero page
// (what a swap did before), against only the pages where the worker's heap differs from the
// baseline plus those the parked boot changed. Real Pyodide in this thread; CPU time per write
// (means of 20), and the MiB each copies. Run: npm run bench:swap -w @pyworkers/isolate
import { loadavg } from 'node:os';
import { buildBundle, decodeBundle, loadBaseline } from '../src/index.js';
import { bootAssets } from '../src/internal/assets.js';
import { prepareBundle } from '../src/internal/prepared.js';
import { parkedMemory, writeHeap } from '../src/worker/pyodide-heap.js';
import { bootRuntime } from '../src/worker/pyodide-runtime.js';

const CASES = {
  hello: 'def on_fetch(r, e):\n    pass\n',
  'imports + 50k-entry dict':
    'import json, email.message, http.client, xml.etree.ElementTree, asyncio, decimal\n' +
    'DATA = {i: str(i) * 3 for i in range(50000)}\ndef on_fetch(r, e):\n    pass\n',
};

const baseline = await loadBaseline();
const base = { ...baseline.image, id: baseline.id() };
const mib = (n: number) => (n / 1048576).toFixed(1);
const cpuMs = (f: () => number): [number, number] => {
  const c0 = process.cpuUsage();
  let copied = 0;
  for (let i = 0; i < 20; i++) copied = f();
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1000 / 20, copied];
};

console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (const [name, source] of Object.entries(CASES)) {
  const bundle = decodeBundle(
    await buildBundle({
      name: 'swap',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(source)]]),
      vars: {},
    }),
  );
  const image = (await prepareBundle(bundle)).image!;
  const rt = await bootRuntime({
    assets: await bootAssets(),
    image: base,
    makeSnapshot: false,
    env: {},
    memoryLimitBytes: 256 << 20,
    trackProxies: true,
    stdout() {},
    stderr() {},
  });
  rt.py.runPython('import json\n_w = json.dumps({"a": [1]})\ndel _w');
  const c0 = process.cpuUsage();
  const record = parkedMemory(rt.module, base, rt.guard.entries)!;
  const c = process.cpuUsage(c0);
  // Twice each, alternating: the first round warms the JIT.
  let full: [number, number] = [0, 0];
  let pages: [number, number] = [0, 0];
  for (let round = 0; round < 2; round++) {
    full = cpuMs(() => writeHeap(rt.module, image));
    pages = cpuMs(() => writeHeap(rt.module, image, { ...record, entriesNow: rt.guard.entries }));
  }
  console.log(
    `${name}: every non-zero page ${full[0].toFixed(2)} ms (${mib(full[1])} MiB); ` +
      `only what differs ${pages[0].toFixed(2)} ms (${mib(pages[1])} MiB), ` +
      `${(full[0] / pages[0]).toFixed(1)}x; recording the parked boot's pages ${((c.user + c.system) / 1000).toFixed(1)} ms`,
  );
}
