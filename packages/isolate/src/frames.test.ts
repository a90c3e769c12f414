import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseChunk } from './body-stream.js';
import { BufferPool } from './buffer-pool.js';
import { frameParser, readFrames, writeFrame } from './frames.js';

// A real Unix socket pair: what one end writes, the other reads as messages.
let dir: string;
let server: ReturnType<typeof createServer>;
let writer: Socket;
let reader: Socket;
const got: unknown[] = [];
let arrived: () => void = () => {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'frames-test-'));
  const path = join(dir, 's.sock');
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer(resolve).listen(path);
  });
  writer = connect(path);
  reader = await accepted;
  readFrames(reader, (msg) => {
    got.push(msg);
    arrived();
  });
});

afterAll(() => {
  writer.destroy();
  reader.destroy();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function roundTrip(messages: unknown[]): Promise<unknown[]> {
  got.length = 0;
  const all = new Promise<void>((resolve) => {
    arrived = () => {
      if (got.length === messages.length) resolve();
    };
  });
  for (const msg of messages) writeFrame(writer, msg);
  await all;
  return [...got];
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

describe('frames', () => {
  it('carries requests, responses, chunks and other messages as they were', async () => {
    const request = {
      type: 'request',
      id: 7,
      method: 'POST',
      url: 'http://example.test/päth?q="x"',
      headers: [
        ['content-type', 'text/plain; charset=utf-8'],
        ['x-emoji', 'caf\u00e9 \u{1f600}'],
      ],
      body: bytes('hello body'),
    };
    const streamed = { ...request, id: 8, body: new Uint8Array(0), streamed: true };
    const response = {
      type: 'response',
      id: 7,
      status: 201,
      headers: [
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ],
      body: bytes('answer'),
    };
    const empty = { type: 'response', id: 9, status: 204, headers: [], body: new Uint8Array(0) };
    const chunk = { type: 'body-chunk', id: 3, chunk: bytes('chunk') };
    const other = { type: 'error', id: 4, error: { code: 'X', message: 'm' }, at: new Date(0) };
    const out = await roundTrip([request, streamed, response, empty, chunk, other]);
    const plain = (m: unknown) =>
      Object.fromEntries(
        Object.entries(m as object).map(([k, v]) => [
          k,
          v instanceof Uint8Array ? Buffer.from(v).toString() : v,
        ]),
      );
    expect(out.map(plain)).toEqual([request, streamed, response, empty, chunk, other].map(plain));
    // Bodies arrive as bytes, other values as structured clone keeps them.
    expect((out[0] as { body: unknown }).body).toBeInstanceOf(Uint8Array);
    expect((out[5] as { at: unknown }).at).toBeInstanceOf(Date);
    expect(out[0]).not.toHaveProperty('streamed');
  });

  it('carries plain data as JSON and anything JSON would change as a V8 serialization', async () => {
    const call = {
      t: 'call',
      id: 1,
      call: { target: { id: 'ab', name: 'caf\u00e9' }, args: [1.5, 2 ** 60, 'x', null, true, {}] },
    };
    const list = [1, 'two', [3]];
    const undef = { t: 'ok', id: 2, value: undefined };
    const zero = { t: 'ok', id: 3, value: -0 };
    const big = { t: 'ok', id: 4, value: 10n };
    const buf = { t: 'ok', id: 5, value: bytes('b') };
    const out = await roundTrip([call, list, undef, zero, big, buf]);
    expect(out.slice(0, 2)).toEqual([call, list]);
    expect(out[2]).toStrictEqual(undef);
    expect(Object.is((out[3] as { value: number }).value, -0)).toBe(true);
    expect((out[4] as { value: bigint }).value).toBe(10n);
    expect(Buffer.from((out[5] as { value: Uint8Array }).value).toString()).toBe('b');
  });

  it('reads frames that arrive a byte at a time', () => {
    const response = {
      type: 'response',
      id: 1,
      status: 200,
      headers: [['a', 'b']],
      body: bytes('x'.repeat(1000)),
    };
    // Written through a socket that delivers one byte per write: every split point is read.
    const parts: Buffer[] = [];
    const fake = {
      write: (b: Uint8Array) => {
        parts.push(Buffer.from(b));
        return true;
      },
      cork: () => {},
      uncork: () => {},
    } as unknown as Socket;
    writeFrame(fake, response);
    const whole = Buffer.concat(parts);
    // Read by an emitter that hands every byte over as a chunk of its own.
    const seen: unknown[] = [];
    const source = new EventEmitter();
    readFrames(source as unknown as Socket, (m) => seen.push(m));
    for (let i = 0; i < whole.length; i++) source.emit('data', whole.subarray(i, i + 1));
    expect(seen).toHaveLength(1);
    const msg = seen[0] as { status: number; body: Uint8Array };
    expect(msg.status).toBe(200);
    expect(Buffer.from(msg.body).toString()).toBe('x'.repeat(1000));
  });
  it('hands on a body chunk that spans reads as views of each read, not copied into one', () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const parts: Buffer[] = [];
    const fake = {
      write: (b: Uint8Array) => {
        parts.push(Buffer.from(b));
        return true;
      },
      cork: () => {},
      uncork: () => {},
    } as unknown as Socket;
    writeFrame(fake, { type: 'body-chunk', id: 9, chunk: data });
    writeFrame(fake, { type: 'body-end', id: 9 });
    const whole = Buffer.concat(parts);
    const seen: { type: string; id: number; chunk?: Uint8Array }[] = [];
    const source = new EventEmitter();
    readFrames(source as unknown as Socket, (m) => seen.push(m as (typeof seen)[number]));
    // Reads that split the chunk's head, its bytes, and the next frame's length.
    const reads: Buffer[] = [];
    for (let at = 0, i = 0; at < whole.length; i++) {
      const end = Math.min(whole.length, at + ([3, 7, 65_536, 65_536, 60_000][i] ?? whole.length));
      reads.push(Buffer.from(whole.subarray(at, end)));
      at = end;
    }
    for (const read of reads) source.emit('data', read);
    const chunks = seen.filter((m) => m.type === 'body-chunk');
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((m) => m.id === 9)).toBe(true);
    expect(Buffer.concat(chunks.map((m) => m.chunk!)).equals(data)).toBe(true);
    // Each piece is a view of one read's buffer (no copy).
    for (const m of chunks) expect(reads.some((r) => r.buffer === m.chunk!.buffer)).toBe(true);
    expect(seen.at(-1)).toEqual({ type: 'body-end', id: 9 });
  });
  it('with a pool, keeps only copies of a reused read buffer: chunks in pooled buffers that go back', () => {
    const pool = new BufferPool(64 * 1024);
    const data = Buffer.alloc(150_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 253;
    const parts: Buffer[] = [];
    const fake = {
      write: (b: Uint8Array) => {
        parts.push(Buffer.from(b));
        return true;
      },
      cork: () => {},
      uncork: () => {},
    } as unknown as Socket;
    const response = {
      type: 'response',
      id: 2,
      status: 200,
      headers: [['a', 'b']],
      body: bytes('whole body'),
    };
    writeFrame(fake, { type: 'body-chunk', id: 5, chunk: data });
    writeFrame(fake, response);
    writeFrame(fake, { type: 'body-end', id: 5 });
    const whole = Buffer.concat(parts);
    const seen: { type: string; chunk?: Uint8Array; body?: Uint8Array }[] = [];
    const parse = frameParser(
      (m) => seen.push(m as (typeof seen)[number]),
      () => {},
      1 << 20,
      pool,
    );
    // One read buffer, overwritten after every read (as a socket's `onread` buffer is).
    const reused = Buffer.alloc(10_000);
    for (let at = 0; at < whole.length; at += reused.length) {
      const n = whole.copy(reused, 0, at, Math.min(whole.length, at + reused.length));
      parse(reused.subarray(0, n));
      reused.fill(0xee);
    }
    const chunks = seen.filter((m) => m.type === 'body-chunk').map((m) => m.chunk!);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    // Whole pooled buffers, then the rest: 65,536 + 65,536 + 18,928 bytes.
    expect(chunks.map((c) => c.byteLength)).toEqual([65_536, 65_536, 18_928]);
    expect(chunks.every((c) => c.buffer.byteLength === 64 * 1024 && c.byteOffset === 0)).toBe(true);
    const answer = seen.find((m) => m.type === 'response')!;
    expect(Buffer.from(answer.body!).toString()).toBe('whole body');
    expect(seen.at(-1)).toEqual({ type: 'body-end', id: 5 });
    // Written: the buffers go back to the pool.
    expect(pool.size).toBe(0);
    for (const c of chunks) releaseChunk(c);
    expect(pool.size).toBe(3);
  });
});
