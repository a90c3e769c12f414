import { decodeSnapshot, inspectSnapshot } from '@pyworkers/snapshot';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  decodeBundle,
  encodeBundle,
  IsolateError,
  IsolateLauncher,
  loadBaseline,
} from '../src/index.js';

const enc = new TextEncoder();
const files = (source: string) => new Map([['entry.py', enc.encode(source)]]);
const launcher = new IsolateLauncher({ poolSize: 1 });
afterAll(() => launcher.close());

async function buildError(source: string): Promise<IsolateError> {
  const err = await buildBundle({
    name: 'w',
    mainModule: 'entry',
    files: files(source),
    vars: {},
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IsolateError);
  return err as IsolateError;
}

describe('building a dedicated snapshot', () => {
  it('compresses a `small` bundle more than a `compact` one, and both decode', async () => {
    const input = {
      name: 'w',
      mainModule: 'entry',
      files: files(
        'import json, email.parser\nTABLE = {str(i): i for i in range(5000)}\n\nasync def on_fetch(request):\n    return None\n',
      ),
      vars: {},
    };
    const compact = decodeBundle(await buildBundle(input, { encoding: 'compact' }));
    const small = decodeBundle(await buildBundle(input, { encoding: 'small' }));
    expect(small.manifest.filesRegion?.codec).toBe('brotli');
    expect(small.snapshot!.length).toBeLessThan(compact.snapshot!.length);
    const reference = (await loadBaseline()).reference();
    const a = decodeSnapshot(compact.snapshot!, { reference });
    const b = decodeSnapshot(small.snapshot!, { reference });
    // Two builds of one input are two runs of its top level: their heaps need not be equal
    // byte for byte, but each decodes (checksums hold) to a heap of the same size.
    expect(b.heap.length).toBe(a.heap.length);
  });

  it('names a top-level variable holding a JS object, and says how to fix it', async () => {
    const err = await buildError(`
import js
from js import JSON
CONFIG = JSON.parse('{"a": 1}')

def on_fetch(request, env):
    pass
`);
    expect(err.code).toBe('ERR_ISOLATE_UNRESTORABLE');
    expect(err.userError).toBe(true);
    expect(err.message).toMatch(/entry\.CONFIG/);
    expect(err.message).toMatch(/Move it into the handler/);
  });

  it('keeps `from js import X` working and records the hash seed of its baseline', async () => {
    const bytes = await buildBundle({
      name: 'jsimport',
      mainModule: 'entry',
      files: files(`
from js import JSON, Object
from workers import Response

async def on_fetch(request, env):
    return Response(JSON.stringify(Object.fromEntries([["ok", 1]])))
`),
      vars: {},
    });
    const bundle = decodeBundle(bytes);
    const info = inspectSnapshot(bundle.snapshot!);
    const meta = info.meta;
    const baseline = await loadBaseline();
    // Shipped as a compressed delta against the baseline: a small file, not a 30 MiB heap.
    expect(info.delta).toBe(true);
    expect(info.referenceSha256).toBe(Buffer.from(baseline.reference().sha256).toString('hex'));
    expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
    expect(meta.kind).toBe('dedicated');
    expect(meta.hashSeed).toBe(baseline.meta.hashSeed);
    expect(typeof meta.hashSeed).toBe('number');
    expect(meta.importedModules).toContain('entry');
    const iso = await launcher.start(bundle);
    try {
      const res = await iso.fetch({
        method: 'GET',
        url: 'http://127.0.0.1/',
        headers: [],
        body: new Uint8Array(),
      });
      expect(new TextDecoder().decode(res.body)).toBe('{"ok":1}');
    } finally {
      await iso.close();
    }
  });

  it('leaves no freed data in the snapshot: free memory is zero, live data is kept', async () => {
    const bytes = await buildBundle({
      name: 'freed',
      mainModule: 'entry',
      files: files(`
_junk = bytes([0x5A]) * 4_000_000
del _junk
_small = [bytes([0x5C]) * 200 for _ in range(2000)]
del _small
KEEP = bytes([0x5B]) * 100_000

def on_fetch(request, env):
    pass
`),
      vars: {},
    });
    const bundle = decodeBundle(bytes);
    const reference = (await loadBaseline()).reference();
    const { heap } = decodeSnapshot(bundle.snapshot!, { reference });
    const run = (byte: number, n: number) => Buffer.alloc(n, byte);
    const mem = Buffer.from(heap.buffer, heap.byteOffset, heap.length);
    // The search works: the live buffer is there.
    expect(mem.includes(run(0x5b, 100_000))).toBe(true);
    // The freed 4 MB buffer and the freed small objects are not.
    expect(mem.includes(run(0x5a, 4096))).toBe(false);
    expect(mem.includes(run(0x5c, 200))).toBe(false);
  });

  it('refuses OS entropy drawn at top level unless it is within the budget', async () => {
    const source = `
import secrets, uuid
TOKEN = secrets.token_hex(16)
ID = uuid.uuid4()
def on_fetch(request, env):
    pass
`;
    const err = await buildError(source);
    expect(err.code).toBe('ERR_ISOLATE_ENTROPY');
    expect(err.message).toMatch(/drew 32 bytes/);
    const bytes = await buildBundle(
      { name: 'w', mainModule: 'entry', files: files(source), vars: {} },
      { entropyBudget: 64 },
    );
    const meta = inspectSnapshot(decodeBundle(bytes).snapshot!).meta;
    expect(meta.app.topLevelEntropyBytes).toBe(32);
  });
});

describe('bad bundles', () => {
  it('reject bytes that are not a bundle, a corrupt snapshot, and another Pyodide', async () => {
    expect(() => decodeBundle(enc.encode('definitely not a bundle'))).toThrow(
      expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }),
    );
    const good = decodeBundle(
      await buildBundle({
        name: 'bad',
        mainModule: 'entry',
        files: files('def on_fetch(request, env):\n    pass\n'),
        vars: {},
      }),
    );
    const { files: _f, snapshot: _s, ...manifest } = good.manifest;
    const corrupt = good.snapshot!.slice();
    corrupt[corrupt.length - 100]! ^= 0xff;
    const broken = decodeBundle(encodeBundle({ manifest, files: good.files, snapshot: corrupt }));
    await expect(launcher.start(broken)).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' });
    const other = decodeBundle(
      encodeBundle({
        manifest: { ...manifest, pyodideVersion: '0.26.0' },
        files: good.files,
        snapshot: good.snapshot,
      }),
    );
    await expect(launcher.start(other)).rejects.toMatchObject({ code: 'ERR_BUNDLE_VERSION' });
  });
});
