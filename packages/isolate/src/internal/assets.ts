/// <reference path="./webassembly.d.ts" />
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '@pyworkers/common';
import type { BootAssets } from './protocol.js';

const resolvePyodide = (file: string): string =>
  fileURLToPath(import.meta.resolve(`pyodide/${file}`));

/** Copies bytes into a SharedArrayBuffer, so every isolate can read them without a copy. */
export function shared(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

let assets: Promise<BootAssets> | undefined;

/**
 * What every isolate of this process boots with: `pyodide.asm.wasm` compiled once, the stdlib
 * zip in shared memory, the lock file, and an index directory of empty stand-ins (Pyodide starts
 * reading its wasm and stdlib from `indexURL` before our overrides take over; empty files keep
 * that from re-reading 12 MB per isolate).
 */
export function bootAssets(): Promise<BootAssets> {
  assets ??= (async () => {
    const [wasm, stdlib, lockFileContents] = await Promise.all([
      readFile(resolvePyodide('pyodide.asm.wasm')),
      readFile(resolvePyodide('python_stdlib.zip')),
      readFile(resolvePyodide('pyodide-lock.json'), 'utf8'),
    ]);
    const wasmModule = await WebAssembly.compile(wasm);
    const dir = `${cacheDir()}/stub-index/`;
    await mkdir(dir, { recursive: true });
    await Promise.all(
      ['pyodide.asm.wasm', 'python_stdlib.zip'].map((f) => writeFile(dir + f, new Uint8Array())),
    );
    return {
      wasmModule,
      stdlib: shared(stdlib),
      lockFileContents,
      indexURL: dir,
    };
  })();
  assets.catch(() => {
    assets = undefined;
  });
  return assets;
}
