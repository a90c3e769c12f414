// Benchmark: shipped size, encode and decode time per codec, deltas, and the restore path, on
// real Pyodide snapshots made here. Run: npm run bench -w @pyworkers/snapshot
// BENCH_RUNS (default 9) sets timing runs; BENCH_SLOW=0 skips brotli level 11 (~1 min each).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import zlib from 'node:zlib';
import { loadPyodide } from 'pyodide';
import {
  availableCodecs,
  decodeSnapshot,
  encodeSnapshot,
  fromPyodideSnapshot,
  type SnapshotCodec,
  type SnapshotMeta,
  type SnapshotReference,
  snapshotReference,
  wasmDataImage,
} from '../src/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const SLOW = process.env.BENCH_SLOW !== '0';
const SEED = '4242';
const HANDLER = `
import json, base64
def handler(name):
    return json.dumps({"hello": name, "b64": base64.b64encode(name.encode()).decode()})
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed<T>(runs: number, fn: () => T): { ms: number; result: T } {
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = fn();
    times.push(performance.now() - t);
  }
  return { ms: median(times), result };
}

type WasmMemory = { buffer: ArrayBuffer; grow(pages: number): number };
const Memory = (
  globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }
).WebAssembly.Memory;

const mib = (n: number) => `${(n / 1024 ** 2).toFixed(2)} MiB`;
const pct = (n: number, of: number) => `${((n / of) * 100).toFixed(2)}%`;

function table(title: string, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(
    `\n${title}\n${line(head)}\n|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-|` : `${'-'.repeat(w + 1)}:|`)).join('')}`,
  );
  for (const r of rows) console.log(line(r));
}

function metaOf(
  parts: ReturnType<typeof fromPyodideSnapshot>,
  kind: SnapshotMeta['kind'],
): SnapshotMeta {
  return {
    ...parts.meta,
    pyodideVersion: '314.0.7',
    pythonVersion: '3.14',
    kind,
    hashSeed: Number(SEED),
    importedModules: [],
    loadedLibraries: [],
    app: {},
  };
}

console.log(
  `@pyworkers/snapshot codecs benchmark: node ${process.version}, ${os.cpus().length} cpus, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${RUNS} runs (medians)`,
);
const t0 = performance.now();
const basePy = await loadPyodide({ _makeSnapshot: true, env: { PYTHONHASHSEED: SEED } });
const base = fromPyodideSnapshot(basePy.makeMemorySnapshot());
const handlerPy = await loadPyodide({ _makeSnapshot: true, env: { PYTHONHASHSEED: SEED } });
handlerPy.runPython(HANDLER);
const handler = fromPyodideSnapshot(handlerPy.makeMemorySnapshot());
const wasm = readFileSync(createRequire(import.meta.url).resolve('pyodide/pyodide.asm.wasm'));
const image = snapshotReference(wasmDataImage(wasm));
const baseRef = snapshotReference(base.heap);
const raw = base.heap.length;
console.log(
  `made baseline (${mib(raw)}) and handler (${mib(handler.heap.length)}) snapshots with PYTHONHASHSEED=${SEED} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

interface Config {
  codec: SnapshotCodec;
  level?: number;
  runs?: number;
}
const configs: Config[] = [
  { codec: 'none' },
  { codec: 'gzip', level: 6 },
  { codec: 'gzip', level: 9, runs: 3 },
  { codec: 'brotli', level: 5, runs: 3 },
  { codec: 'brotli', level: 9, runs: 1 },
  ...(SLOW ? [{ codec: 'brotli' as const, level: 11, runs: 1 }] : []),
  ...(availableCodecs().includes('zstd') ? [{ codec: 'zstd' as const, level: 19, runs: 1 }] : []),
];
const label = (c: Config) => (c.level === undefined ? c.codec : `${c.codec} ${c.level}`);

function sizeRows(heap: Uint8Array, meta: SnapshotMeta, reference?: SnapshotReference): string[][] {
  return configs.map((c) => {
    const opts = {
      codec: c.codec,
      ...(c.level === undefined ? {} : { level: c.level }),
      ...(reference ? { reference } : {}),
    };
    const enc = timed(Math.min(c.runs ?? RUNS, RUNS), () => encodeSnapshot(heap, meta, opts));
    const dec = timed(RUNS, () => decodeSnapshot(enc.result, reference ? { reference } : {}));
    return [
      label(c),
      mib(enc.result.length),
      pct(enc.result.length, raw),
      enc.ms.toFixed(0),
      dec.ms.toFixed(1),
    ];
  });
}

const head = ['codec', 'file', '% of raw heap', 'encode ms', 'decode ms'];
table(
  `Bare interpreter (baseline), standalone; raw heap ${mib(raw)}`,
  head,
  sizeRows(base.heap, metaOf(base, 'baseline')),
);
table(
  'Bare interpreter (baseline), delta against the pyodide.asm.wasm data image (every host has it)',
  head,
  sizeRows(base.heap, metaOf(base, 'baseline'), image),
);
table(
  'Small handler, delta against its baseline (same hash seed)',
  head,
  sizeRows(handler.heap, metaOf(handler, 'dedicated'), baseRef),
);

// The restore path: the runtime keeps codec none on local disk and decodes into fresh memory.
const gz = zlib.gzipSync(base.heap);
const localFull = encodeSnapshot(handler.heap, metaOf(handler, 'dedicated'));
const localDelta = encodeSnapshot(handler.heap, metaOf(handler, 'dedicated'), {
  reference: baseRef,
});
const localBrotli = encodeSnapshot(handler.heap, metaOf(handler, 'dedicated'), {
  codec: 'brotli',
  level: 5,
});
const pages = Math.ceil(raw / 65536);
// A parked instance's memory: already faulted in, holding another heap (zero pages are written).
const parked = new Memory({ initial: pages });
new Uint8Array(parked.buffer).set(base.heap);
const restore =
  (
    bytes: Uint8Array,
    verify: 'full' | 'file' | 'crc32' | 'none',
    reference?: SnapshotReference,
    into?: WasmMemory,
  ) =>
  () =>
    decodeSnapshot(bytes, {
      into: into ?? new Memory({ initial: pages }),
      intoIsZeroed: !into,
      verify,
      ...(reference ? { reference } : {}),
    });
const paths: [string, () => unknown][] = [
  ['gunzip of the raw heap (gzip -6, for comparison)', () => zlib.gunzipSync(gz)],
  ['none -> fresh WebAssembly.Memory, verify file', restore(localFull, 'file')],
  ['none -> fresh WebAssembly.Memory, verify crc32', restore(localFull, 'crc32')],
  ['none -> fresh WebAssembly.Memory, verify none', restore(localFull, 'none')],
  ['none -> fresh WebAssembly.Memory, verify full', restore(localFull, 'full')],
  [
    'none -> parked (faulted-in) memory, verify file',
    restore(localFull, 'file', undefined, parked),
  ],
  [
    'none -> parked (faulted-in) memory, verify crc32',
    restore(localFull, 'crc32', undefined, parked),
  ],
  [
    'none -> parked (faulted-in) memory, verify none',
    restore(localFull, 'none', undefined, parked),
  ],
  ['none delta + baseline -> fresh memory, verify crc32', restore(localDelta, 'crc32', baseRef)],
  ['brotli 5 -> fresh WebAssembly.Memory, verify file', restore(localBrotli, 'file')],
];
// Round-robin over the paths, so load spikes on this shared machine hit all of them alike.
const samples = paths.map((): number[] => []);
for (let run = 0; run < RUNS * 2; run++) {
  paths.forEach(([, fn], i) => {
    const t = performance.now();
    fn();
    samples[i]!.push(performance.now() - t);
  });
}
const gunzip = median(samples[0]!);
const rows = paths.map(([name], i): [string, number] => [name, median(samples[i]!)]);
table(
  `Restore path: decode a ${mib(raw)} handler heap (medians of ${RUNS * 2}, interleaved)`,
  ['path', 'ms', 'gunzip / this'],
  rows.map(([name, ms]) => [name, ms.toFixed(1), `${(gunzip / ms).toFixed(2)}x`]),
);
