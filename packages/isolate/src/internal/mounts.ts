import { sdkFiles } from './paths.js';
import type { MountSet } from './protocol.js';

/** Packs files into one SharedArrayBuffer: isolates mount views into it, nobody copies. */
export function packMountSet(files: Iterable<[string, Uint8Array]>): MountSet {
  const list = [...files];
  const total = list.reduce((n, [, b]) => n + b.length, 0);
  const data = new Uint8Array(new SharedArrayBuffer(Math.max(total, 1)));
  const entries: [string, number, number][] = [];
  let offset = 0;
  for (const [path, bytes] of list) {
    data.set(bytes, offset);
    entries.push([path, offset, bytes.length]);
    offset += bytes.length;
  }
  return { data, entries };
}

let sdk: MountSet | undefined;
/** The SDK's Python files as one shared mount set, packed once per process. */
export function sdkMountSet(): MountSet {
  sdk ??= packMountSet(sdkFiles().map((f) => [f.path, f.bytes] as [string, Uint8Array]));
  return sdk;
}
