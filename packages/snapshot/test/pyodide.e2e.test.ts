import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadPyodide } from 'pyodide';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allocatePyodideSnapshot,
  availableCodecs,
  decodeSnapshot,
  encodeSnapshot,
  fromPyodideSnapshot,
  inspectSnapshot,
  type SnapshotMeta,
  snapshotReference,
  wasmDataImage,
} from '../src/index.js';
import { prng, sameBytes } from './fixtures.js';
import { MUTATIONS, mutate } from './fuzz.js';

// Both snapshots use one hash seed, so the handler's heap shares most pages with the baseline.
const env = { PYTHONHASHSEED: '1234' };
const HANDLER = `
import json
def handler(name):
    return json.dumps({"hello": name, "n": len(name)})
`;

let baseline: Uint8Array;
let dedicated: Uint8Array;

function metaOf(parts: ReturnType<typeof fromPyodideSnapshot>, kind: SnapshotMeta['kind']) {
  return {
    ...parts.meta,
    pyodideVersion: '314.0.7',
    pythonVersion: '3.14',
    kind,
    hashSeed: 1234,
    importedModules: [],
    loadedLibraries: [],
    app: {},
  } satisfies SnapshotMeta;
}

beforeAll(async () => {
  const base = await loadPyodide({ _makeSnapshot: true, env });
  baseline = base.makeMemorySnapshot();
  // The dedicated snapshot is made the way builds make it: restore the baseline, run the top
  // level on top of it. A second fresh boot would share pages with the baseline only if both
  // interpreters hashed strings with one seed and laid out memory alike, which a fresh boot does
  // not promise (a loaded CI box once gave a 73% delta, the size of a delta across two seeds).
  const handler = await loadPyodide({ _loadSnapshot: baseline, _makeSnapshot: true, env });
  handler.runPython(HANDLER);
  dedicated = handler.makeMemorySnapshot();
});

describe('a real Pyodide snapshot', () => {
  it('round-trips through every codec, with about half its pages zero', () => {
    const parts = fromPyodideSnapshot(baseline);
    const meta = metaOf(parts, 'baseline');
    for (const codec of availableCodecs()) {
      const bytes = encodeSnapshot(parts.heap, meta, {
        codec,
        ...(codec === 'none' ? {} : { level: 1 }),
      });
      const info = inspectSnapshot(bytes);
      expect(info.pages.zero / info.pages.total).toBeGreaterThan(0.3);
      expect(info.fileBytes).toBeLessThan(parts.heap.length * 0.6);
      expect(sameBytes(decodeSnapshot(bytes).heap, parts.heap)).toBe(true);
    }
  });

  it('shares many pages with the Pyodide module data image, a reference every host has', () => {
    const wasmPath = createRequire(import.meta.url).resolve('pyodide/pyodide.asm.wasm');
    const image = snapshotReference(wasmDataImage(readFileSync(wasmPath)));
    const parts = fromPyodideSnapshot(baseline);
    const bytes = encodeSnapshot(parts.heap, metaOf(parts, 'baseline'), { reference: image });
    const info = inspectSnapshot(bytes);
    expect(info.pages.reference).toBeGreaterThan(info.pages.literal / 10);
    expect(sameBytes(decodeSnapshot(bytes, { reference: image }).heap, parts.heap)).toBe(true);
  });

  it('restores from a delta against its baseline and runs the handler', async () => {
    const base = fromPyodideSnapshot(baseline);
    const parts = fromPyodideSnapshot(dedicated);
    const reference = snapshotReference(base.heap);
    const delta = encodeSnapshot(parts.heap, metaOf(parts, 'dedicated'), {
      reference,
      codec: 'gzip',
    });
    const full = encodeSnapshot(parts.heap, metaOf(parts, 'dedicated'), { codec: 'gzip' });
    expect(delta.length).toBeLessThan(full.length / 4);
    expect(inspectSnapshot(delta).pages.reference).toBeGreaterThan(0);

    // The restore path: size the Pyodide buffer from the metadata, decode straight into it.
    const { meta } = inspectSnapshot(delta);
    const target = allocatePyodideSnapshot(meta);
    decodeSnapshot(delta, { reference, into: target.heap, intoIsZeroed: true });
    const py = await loadPyodide({ _loadSnapshot: target.bytes });
    expect(py.runPython('handler("snap")')).toBe('{"hello": "snap", "n": 4}');
  });

  it('turns truncation, bit flips and header edits into a SnapshotError', () => {
    const parts = fromPyodideSnapshot(dedicated);
    const reference = snapshotReference(fromPyodideSnapshot(baseline).heap);
    const bytes = encodeSnapshot(parts.heap, metaOf(parts, 'dedicated'), { reference });
    const rand = prng(314);
    for (const kind of MUTATIONS) {
      for (let i = 0; i < 10; i++) {
        const bad = mutate(bytes, kind, rand);
        let code = 'decoded';
        try {
          decodeSnapshot(bad, { reference });
        } catch (e) {
          code = (e as { code?: string }).code ?? String(e);
        }
        expect(code, `${kind} round ${i}`).toMatch(/^ERR_SNAPSHOT_/);
      }
    }
  });
});
