import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT_VERSION, type Bundle, decodeBundle, encodeBundle } from '../src/index.js';

const manifest = {
  name: 'fmt',
  mainModule: 'entry',
  pyodideVersion: '314.0.7',
  sdkVersion: '0.0.0',
  vars: {},
};
const source = (n: number) =>
  new TextEncoder().encode(`def handler_${n}(request):\n    return "hello ${n}"\n`.repeat(200));
const files = new Map([
  ['entry.py', source(1)],
  ['pkg/__init__.py', new Uint8Array(0)],
  ['pkg/mod.py', source(2)],
]);
const snapshot = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

/** A bundle file re-assembled with a changed manifest (to make bad ones). */
function withManifest(bytes: Uint8Array, edit: (m: Record<string, unknown>) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const len = view.getUint32(12, true);
  const m = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len)));
  edit(m);
  const json = new TextEncoder().encode(JSON.stringify(m));
  const out = new Uint8Array(16 + json.length + bytes.length - 16 - len);
  out.set(bytes.subarray(0, 16));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(bytes.subarray(16 + len), 16 + json.length);
  return out;
}

describe('bundle format', () => {
  it('stores the files as one brotli stream by default and reads them back exactly', () => {
    const bytes = encodeBundle({ manifest, files, snapshot });
    const raw = encodeBundle({ manifest, files, snapshot }, { filesCodec: 'none' });
    expect(bytes.length).toBeLessThan(raw.length / 4);
    for (const encoded of [bytes, raw]) {
      const back: Bundle = decodeBundle(encoded);
      expect([...back.files.keys()]).toEqual([...files.keys()]);
      for (const [path, data] of files)
        expect(Buffer.from(back.files.get(path)!)).toEqual(Buffer.from(data));
      expect([...back.snapshot!]).toEqual([...snapshot]);
      expect(back.manifest.filesRegion?.rawSize).toBe(files.get('entry.py')!.length * 2);
    }
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(BUNDLE_FORMAT_VERSION);
  });

  it('still reads a format 1 bundle (files stored as is, no filesRegion)', () => {
    const v2 = encodeBundle({ manifest, files, snapshot }, { filesCodec: 'none' });
    const v1 = withManifest(v2, (m) => delete m.filesRegion);
    new DataView(v1.buffer).setUint32(8, 1, true);
    expect(decodeBundle(v1).files.get('pkg/mod.py')!.length).toBe(files.get('pkg/mod.py')!.length);
  });

  it('refuses a files region that decodes to more than it declares (no inflation bomb)', () => {
    const bytes = encodeBundle({ manifest, files, snapshot });
    const bomb = withManifest(bytes, (m) => {
      (m.filesRegion as { rawSize: number }).rawSize = 10;
    });
    expect(codeOf(() => decodeBundle(bomb))).toBe('ERR_BUNDLE_INVALID');
  });

  it('refuses a tampered file, a file past the region and an unreadable stream', () => {
    const bytes = encodeBundle({ manifest, files, snapshot }, { filesCodec: 'none' });
    const tampered = bytes.slice();
    tampered[tampered.length - snapshot.length - 5]! ^= 1;
    expect(() => decodeBundle(tampered, 'fmt.pwb')).toThrow(
      /fmt\.pwb: file pkg\/mod\.py does not match its hash/,
    );
    const past = withManifest(bytes, (m) => {
      (m.files as { size: number }[])[2]!.size += 1;
    });
    expect(() => decodeBundle(past)).toThrow(/lies past the files region/);
    const garbage = withManifest(encodeBundle({ manifest, files, snapshot }), (m) => {
      (m.filesRegion as { codec: string }).codec = 'brotli';
    });
    const region = 16 + new DataView(garbage.buffer).getUint32(12, true);
    garbage.set(brotliCompressSync(Buffer.from('x')).subarray(0, 1), region);
    garbage[region + 1] = 0xff;
    expect(codeOf(() => decodeBundle(garbage))).toBe('ERR_BUNDLE_INVALID');
  });
});
