/// <reference path="./webassembly.d.ts" />
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '@pyworkers/common';
import { IsolateError } from '../errors.js';
import type { BootAssets } from './protocol.js';
import { release } from './release.js';

const resolvePyodide = (file: string): string =>
  fileURLToPath(import.meta.resolve(`pyodide/${file}`));

/** A file read straight into a SharedArrayBuffer (every isolate reads it, none copies it). */
async function readShared(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const out = new Uint8Array(new SharedArrayBuffer(size));
    for (let at = 0; at < size; ) {
      const { bytesRead } = await file.read(out, at, size - at, at);
      if (bytesRead === 0) {
        throw new IsolateError('ERR_ISOLATE_BOOT', `${path} shrank while it was read`);
      }
      at += bytesRead;
    }
    return out;
  } finally {
    await file.close();
  }
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
      readShared(resolvePyodide('python_stdlib.zip')),
      readFile(resolvePyodide('pyodide-lock.json'), 'utf8'),
    ]);
    const wasmModule = await WebAssembly.compile(wasm);
    // The module keeps its own copy of the bytes.
    release(wasm);
    const dir = `${cacheDir()}/stub-index/`;
    await mkdir(dir, { recursive: true });
    await Promise.all(
      ['pyodide.asm.wasm', 'python_stdlib.zip'].map((f) => writeFile(dir + f, new Uint8Array())),
    );
    return {
      wasmModule,
      stdlib,
      lockFileContents,
      indexURL: dir,
    };
  })();
  assets.catch(() => {
    assets = undefined;
  });
  return assets;
}
