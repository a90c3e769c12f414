import { decodeSnapshot, encodeSnapshot } from '@pyworkers/snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bundle,
  buildBundle,
  decodeBundle,
  encodeBundle,
  Isolate,
  IsolateLauncher,
  loadBaseline,
} from '../src/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const entry = `
import json, os, random, secrets, time, uuid
from workers import Response

BUILT_AT = time.monotonic()
LEFT_OPEN = open("/tmp/left-open.txt", "w")

async def on_fetch(request, env):
    if request.url.endswith("/print"):
        print("printed by the handler")
        return Response(json.dumps({"left_open_closed": LEFT_OPEN.closed}))
    if request.url.endswith("/files"):
        with open(os.path.join(os.path.dirname(__file__), "data", "greeting.txt")) as f:
            text = f.read()
        try:
            open(__file__, "a")
            writable = True
        except OSError as e:
            writable = e.errno
        return Response(json.dumps({"text": text, "writable": writable}))
    now = time.monotonic()
    return Response(json.dumps({
        "random": random.random(),
        "secrets": secrets.token_hex(8),
        "uuid": str(uuid.uuid4()),
        "urandom": os.urandom(8).hex(),
        "hash": hash("abc"),
        "monotonic_ok": now >= BUILT_AT,
        "mono": now,
    }))
`;

const files = new Map([
  ['entry.py', enc.encode(entry)],
  ['data/greeting.txt', enc.encode('hello from the bundle')],
]);

let bundle: Bundle;
const launcher = new IsolateLauncher({ poolSize: 2 });
const isolates: Isolate[] = [];

beforeAll(async () => {
  bundle = decodeBundle(await buildBundle({ name: 'probe', mainModule: 'entry', files, vars: {} }));
  await launcher.warm();
});
afterAll(async () => {
  await Promise.all(isolates.map((i) => i.close()));
  await launcher.close();
});

const get = async (iso: Isolate, path = '/') => {
  const res = await iso.fetch({
    method: 'GET',
    url: `http://127.0.0.1${path}`,
    headers: [],
    body: new Uint8Array(),
  });
  expect(res.status).toBe(200);
  return JSON.parse(dec.decode(res.body));
};

describe('IsolateLauncher', () => {
  it('swaps the snapshot into parked isolates, each with fresh entropy', async () => {
    const a = await launcher.start(bundle);
    const b = await launcher.start(bundle);
    isolates.push(a, b);
    expect(a.swapped).toBe(true);
    expect(b.swapped).toBe(true);
    const [ra, rb] = [await get(a), await get(b)];
    for (const key of ['random', 'secrets', 'uuid', 'urandom'])
      expect(ra[key]).not.toEqual(rb[key]);
    expect(ra.hash).toBe(rb.hash);
    expect(ra.monotonic_ok && rb.monotonic_ok).toBe(true);
    expect(launcher.stats().swaps).toBe(2);
  });

  it.runIf(process.platform === 'linux')(
    "reports each isolate's memory as the OS counts it: resident pages, not the heap's size",
    async () => {
      for (const iso of isolates.slice(0, 2)) {
        // Measured after a request (not on a cold start's path): its report follows the answer.
        await get(iso);
        for (let i = 0; i < 100 && !iso.memory.resident; i++)
          await new Promise((r) => setTimeout(r, 20));
        const { wasmBytes, jsHeapBytes, resident } = iso.memory;
        expect(resident).toBe(true);
        // The baseline's ~14 MiB of non-zero pages are written; the rest of its 30 MiB is not.
        expect(wasmBytes).toBeGreaterThan(8 << 20);
        expect(wasmBytes).toBeLessThan(24 << 20);
        expect(jsHeapBytes).toBeGreaterThan(4 << 20);
      }
    },
  );

  it('mounts the bundle files read-only', async () => {
    const iso = isolates[0]!;
    const r = await get(iso, '/files');
    expect(r.text).toBe('hello from the bundle');
    // EACCES (the files are mode 0444) or EROFS: either way the write is refused.
    expect([2, 69]).toContain(r.writable);
  });

  it('closed files the top level left open, and print() reaches the logger', async () => {
    const lines: string[] = [];
    const logger = {
      debug() {},
      info: (_o: object, m?: string) => lines.push(String(m)),
      warn() {},
      error() {},
    };
    const iso = await launcher.start(bundle, { logger });
    isolates.push(iso);
    expect((await get(iso, '/print')).left_open_closed).toBe(true);
    expect(lines).toContain('printed by the handler');
  });
});

describe('IsolateLauncher standby', () => {
  it("gives a retired isolate back to its own worker's next cold start, never to another", async () => {
    const other = decodeBundle(
      await buildBundle({ name: 'other', mainModule: 'entry', files, vars: {} }),
    );
    const pool = new IsolateLauncher({ poolSize: 1, maxStandby: 1 });
    try {
      const first = await pool.start(bundle);
      const seen = await get(first);
      await pool.retire(first);
      expect(pool.stats()).toMatchObject({ standby: 1, reuses: 0 });
      const notMine = await pool.start(other);
      expect(notMine).not.toBe(first);
      isolates.push(notMine);
      const again = await pool.start(bundle);
      expect(again).toBe(first);
      expect((await get(again)).mono).toBeGreaterThan(seen.mono);
      expect(pool.stats()).toMatchObject({ standby: 0, reuses: 1 });
      // Past maxStandby the oldest retired isolate is closed, not kept.
      await pool.retire(again);
      await pool.retire(notMine);
      expect(pool.stats().standby).toBe(1);
      await expect(get(again)).rejects.toThrow(/closed/);
    } finally {
      await pool.close();
    }
  });
});

describe('IsolateLauncher fallback', () => {
  it('boots a fresh isolate when the parked one cannot take the snapshot', async () => {
    // The parked isolate interns a JS string; the snapshot claims another one in that slot.
    const conflicted = new IsolateLauncher({
      poolSize: 1,
      parkedWarmup: 'import js\nawait js.Promise.resolve(1)',
    });
    try {
      await conflicted.warm();
      // Bundles ship a delta against the baseline; re-encoded whole, as older bundles were.
      const reference = (await loadBaseline()).reference();
      const { meta, heap } = decodeSnapshot(bundle.snapshot!, { reference });
      const snapshot = encodeSnapshot(heap, {
        ...meta,
        jsRefs: { ...meta.jsRefs, immortalKeys: ['pyworkers-test-conflict'] },
      });
      const { files: _f, snapshot: _s, ...manifest } = bundle.manifest;
      const tampered = decodeBundle(encodeBundle({ manifest, files: bundle.files, snapshot }));
      const iso = await conflicted.start(tampered);
      isolates.push(iso);
      expect(iso.swapped).toBe(false);
      expect(iso.restored).toBe(true);
      expect(conflicted.stats()).toMatchObject({ swaps: 0, fallbacks: 1, freshStarts: 1 });
      // The fresh-thread path re-seeds too: it differs from a fresh restore of the same snapshot.
      const other = await Isolate.start(bundle);
      isolates.push(other);
      const [ra, rb] = [await get(iso), await get(other)];
      expect(ra.monotonic_ok && rb.monotonic_ok).toBe(true);
      for (const key of ['random', 'secrets', 'uuid', 'urandom'])
        expect(ra[key]).not.toEqual(rb[key]);
    } finally {
      await conflicted.close();
    }
  });
});
