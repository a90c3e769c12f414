// The guards of the in-place heap swap, exercised on real Pyodide in this thread.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, decodeBundle, loadBaseline } from '../src/index.js';
import { bootAssets } from '../src/internal/assets.js';
import type { LoadedImage } from '../src/internal/images.js';
import { prepareBundle } from '../src/internal/prepared.js';
import type { HeapImage } from '../src/internal/protocol.js';
import { guardStats } from '../src/worker/pyodide-guards.js';
import { bootRuntime, type Runtime } from '../src/worker/pyodide-runtime.js';
import { SwapRefused, swapHeap } from '../src/worker/pyodide-swap.js';

const entry = `
def handler(x):
    return f"dedicated:{x}"

def on_fetch(request, env):
    pass
`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let baseline: LoadedImage;
let dedicated: HeapImage;

async function parked(): Promise<Runtime> {
  return bootRuntime({
    assets: await bootAssets(),
    image: baseline.image,
    makeSnapshot: false,
    env: {},
    // This test's Python calls a function it puts on the real global (js.trySwap).
    jsglobals: globalThis,
    memoryLimitBytes: 256 * 1024 * 1024,
    trackProxies: true,
    stdout: () => {},
    stderr: () => {},
  });
}

beforeAll(async () => {
  baseline = await loadBaseline();
  const bundle = decodeBundle(
    await buildBundle({
      name: 'guards',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
    }),
  );
  dedicated = (await prepareBundle(bundle)).image!;
});

describe('the in-place heap swap', () => {
  it('drops the old life: proxies, finalizers, timers, open files, the dedup map', async () => {
    const rt = await parked();
    const py = rt.py;
    const stale = py.runPython('[1, 2, 3]') as { toString(): string };
    // Proxies of the old life that become garbage after the swap: their finalizers would
    // Py_DecRef pointers into the new heap.
    for (let i = 0; i < 50; i++) py.runPython(`{"garbage": ${i}}`);
    py.runPython(`
import asyncio, js
LOG = []
async def late():
    await asyncio.sleep(0.05)
    LOG.append("stale task resumed")
T = asyncio.ensure_future(late())
FH = open("/tmp/left-open.txt", "w")
`);
    // A JS object handed to Python sits in hiwire's dedup map.
    py.globals.set('jsobj', { a: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const dedupBefore = (rt.module.__hiwire_immortal_get(1) as Map<unknown, unknown>).size;
    expect(dedupBefore).toBeGreaterThan(0);
    const openBefore = rt.module.FS.streams.filter((s) => s && s.fd > 2).length;
    expect(openBefore).toBeGreaterThan(0);

    const next = swapHeap(rt, dedicated);
    const stats = guardStats(rt);
    expect(stats.proxiesPoisoned).toBeGreaterThan(0);
    expect(stats.timersCleared).toBeGreaterThan(0);
    expect(stats.filesClosed).toBe(openBefore);
    expect((rt.module.__hiwire_immortal_get(1) as Map<unknown, unknown>).size).toBe(0);
    expect(() => stale.toString()).toThrow(/swapped out/);

    // The dedicated heap answers; the old task never resumes; GC of old proxies is harmless.
    expect(next.runPython('import entry; entry.handler(7)')).toBe('dedicated:7');
    // V8 runs FinalizationRegistry callbacks some time after a collection, later under load:
    // collect and poll rather than assume a fixed delay.
    await expect
      .poll(
        async () => {
          gc();
          await new Promise((r) => setTimeout(r, 20));
          return guardStats(rt).staleFinalizersSkipped;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBeGreaterThan(0);
    expect(next.runPython('"LOG" in globals()')).toBe(false);
    expect(await next.runPythonAsync('import asyncio\nawait asyncio.sleep(0.001)\n6 * 7')).toBe(42);
    expect(next.runPython('import entry; entry.handler(8)')).toBe('dedicated:8');
    // What the swap sets on first use (the loader's paths, pyodide's modules) is the new heap's.
    const api = rt.module.API as Record<string, unknown>;
    expect(api.sitepackages).toBe(next.runPython('import site; site.getsitepackages()[0]'));
    expect(String((next.pyodide_py as unknown as { __name__: string }).__name__)).toBe('pyodide');
    expect(next.runPython('import sys; sys.path[0]')).toBe('');

    // One swap per instance: it now belongs to its worker.
    expect(() => swapHeap(rt, dedicated)).toThrow(SwapRefused);
  });

  it('refuses to swap while Python is on the stack, and the instance keeps working', async () => {
    const rt = await parked();
    (globalThis as Record<string, unknown>).trySwap = () => {
      try {
        swapHeap(rt, dedicated);
        return 'swapped';
      } catch (err) {
        return err instanceof SwapRefused ? `refused:${err.reason}` : `error:${err}`;
      }
    };
    expect(rt.py.runPython('import js\njs.trySwap()')).toBe('refused:busy');
    expect(rt.py.runPython('1 + 1')).toBe(2);
    expect(rt.swaps).toBe(0);
  });

  it('refuses an image whose interned JS strings conflict, before touching memory', async () => {
    const rt = await parked();
    await rt.py.runPythonAsync('import js\nawait js.Promise.resolve(1)');
    const interned = rt.module.__hiwire_immortal_get(7);
    expect(typeof interned).toBe('string');
    const conflicting: HeapImage = {
      ...dedicated,
      jsRefs: { ...dedicated.jsRefs, immortalKeys: ['not-what-the-instance-has'] },
    };
    let refused: unknown;
    try {
      swapHeap(rt, conflicting);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(SwapRefused);
    expect((refused as SwapRefused).reason).toBe('conflict');
    expect(rt.py.runPython('"still the baseline life"')).toBe('still the baseline life');
  });
});
