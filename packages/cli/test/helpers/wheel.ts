import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** A zip archive with stored (uncompressed) entries: all a wheel needs to be real. */
export function zip(files: Record<string, string | Uint8Array>): Uint8Array {
  const enc = new TextEncoder();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(typeof content === 'string' ? enc.encode(content) : content);
    const nameBytes = Buffer.from(enc.encode(name));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt32LE(0x00210000, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0x00210000, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

const b64 = (data: Uint8Array): string =>
  createHash('sha256').update(data).digest('base64url').replace(/=+$/, '');

/** A pure-Python wheel: `name-version-py3-none-any.whl` with METADATA, WHEEL and RECORD. */
export function buildWheel(
  name: string,
  version: string,
  modules: Record<string, string>,
  requires: string[] = [],
): { filename: string; bytes: Uint8Array } {
  const dist = name.replace(/-/g, '_');
  const info = `${dist}-${version}.dist-info`;
  const files: Record<string, string> = {
    ...modules,
    [`${info}/METADATA`]: [
      'Metadata-Version: 2.1',
      `Name: ${name}`,
      `Version: ${version}`,
      ...requires.map((r) => `Requires-Dist: ${r}`),
      '',
    ].join('\n'),
    [`${info}/WHEEL`]:
      'Wheel-Version: 1.0\nGenerator: pyworkers-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const enc = new TextEncoder();
  const record = Object.entries(files)
    .map(([p, t]) => `${p},sha256=${b64(enc.encode(t))},${enc.encode(t).length}`)
    .concat(`${info}/RECORD,,`)
    .join('\n');
  files[`${info}/RECORD`] = `${record}\n`;
  return { filename: `${dist}-${version}-py3-none-any.whl`, bytes: zip(files) };
}
