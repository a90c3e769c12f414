import { connect, createServer, type Socket } from 'node:net';
import {
  type BodyMessage,
  BodyStreams,
  BufferPool,
  IPC_STREAM_WINDOW_BYTES,
  POOL_BUFFER_BYTES,
} from '@pyworkers/isolate';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyChannel, frameReader, QUEUE_LIMIT_BYTES } from './body-channel.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** Two ends of a real loopback TCP connection. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const a = connect(port, '127.0.0.1');
  const b = await accepted;
  server.close();
  sockets.push(a, b);
  return [a, b];
}

/** Chunks of one id joined, other messages as they are (splits of a chunk are not semantic). */
function collect(msgs: BodyMessage[]): unknown[] {
  const out: unknown[] = [];
  for (const m of msgs) {
    const last = out.at(-1) as { type: string; id: number; bytes?: number[] } | undefined;
    if (m.type === 'body-chunk' && last?.type === 'body-chunk' && last.id === m.id) {
      last.bytes!.push(...m.chunk);
    } else if (m.type === 'body-chunk') {
      out.push({ type: m.type, id: m.id, bytes: [...m.chunk] });
    } else out.push(m);
  }
  return out;
}

/** What a channel writes for `msgs`, as read from the other end of a real socket. */
async function wireBytes(msgs: BodyMessage[]): Promise<Buffer> {
  const [a, b] = await socketPair();
  const wire: Buffer[] = [];
  b.on('data', (d: Buffer) => wire.push(d));
  const sender = bodyChannel(
    a,
    () => {},
    () => {},
  );
  for (const m of msgs) sender.post(m);
  a.end();
  await new Promise((resolve) => b.once('end', resolve));
  return Buffer.concat(wire);
}

const sample: BodyMessage[] = [
  { type: 'body-chunk', id: 7, chunk: new Uint8Array([1, 2, 3]) },
  { type: 'body-credit', id: 7, bytes: 65_536 },
  { type: 'body-chunk', id: 8, chunk: new Uint8Array(70_000).fill(9) },
  { type: 'body-end', id: 8, error: 'the worker raised: ValueError(ü)' },
  { type: 'body-chunk', id: 7, chunk: new Uint8Array([4]) },
  { type: 'body-end', id: 7 },
  { type: 'body-cancel', id: 4_000_000_000 },
];

describe('the body channel', () => {
  it('carries every kind of body message over a real socket, in order', async () => {
    const [a, b] = await socketPair();
    const got: BodyMessage[] = [];
    const done = new Promise<void>((resolve) => {
      bodyChannel(
        b,
        (m) => {
          got.push(m);
          if (m.type === 'body-cancel') resolve();
        },
        (err) => {
          throw err;
        },
      );
    });
    const sender = bodyChannel(
      a,
      () => {},
      () => {},
    );
    for (const m of sample) sender.post(m);
    await done;
    expect(collect(got)).toEqual(collect(sample));
  });

  it('parses frames split at any byte, handing chunk bytes on as views (no copy)', async () => {
    const bytes = await wireBytes(sample);
    for (const step of [1, 2, 9, 10, 4096]) {
      const got: BodyMessage[] = [];
      const read = frameReader(
        (m) => got.push(m),
        (err) => {
          throw err;
        },
      );
      for (let at = 0; at < bytes.byteLength; at += step) read(bytes.subarray(at, at + step));
      expect(collect(got)).toEqual(collect(sample));
      for (const m of got) if (m.type === 'body-chunk') expect(m.chunk.buffer).toBe(bytes.buffer);
    }
  });

  it('with a pool, copies chunk bytes into pooled buffers, each the only view of its buffer', async () => {
    const bytes = await wireBytes(sample);
    const pool = new BufferPool();
    const got: BodyMessage[] = [];
    const read = frameReader(
      (m) => got.push(m),
      (err) => {
        throw err;
      },
      pool,
    );
    // One reused read buffer, as openBodySocket reads: what is kept must have been copied.
    const reused = Buffer.alloc(1000);
    for (let at = 0; at < bytes.byteLength; at += reused.byteLength) {
      const n = bytes.copy(reused, 0, at, at + reused.byteLength);
      read(reused.subarray(0, n));
      reused.fill(0xee);
    }
    expect(collect(got)).toEqual(collect(sample));
    const chunks = got.filter((m) => m.type === 'body-chunk');
    for (const { chunk } of chunks) {
      expect(chunk.byteOffset).toBe(0);
      // A chunk of a few bytes gets a buffer of its own size (isSmall), the others pooled ones.
      const small = chunk.byteLength < POOL_BUFFER_BYTES / 4;
      expect(chunk.buffer.byteLength).toBe(small ? chunk.byteLength : POOL_BUFFER_BYTES);
      expect(pool.owns(chunk)).toBe(!small);
    }
    // 70,000 bytes: one full pooled buffer, then the rest in another.
    expect(chunks.filter((m) => m.id === 8).map((m) => m.chunk.byteLength)).toEqual([
      65_536,
      70_000 - 65_536,
    ]);
  });

  it('holds a sender back when the peer credits what it does not read, and goes on once it reads', async () => {
    const [a, b] = await socketPair();
    const MiB = 1024 * 1024;
    const total = 64 * MiB;
    let produced = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      while (produced < total) {
        produced += 64 * 1024;
        yield new Uint8Array(64 * 1024);
      }
    }
    const channel = bodyChannel(
      a,
      (m) => sender.onMessage(m),
      () => {},
    );
    const sender: BodyStreams = new BodyStreams(
      (m) => channel.post(m),
      false,
      IPC_STREAM_WINDOW_BYTES,
    );
    a.on('drain', () => sender.drained());
    const sent = sender.send(1, source());
    // The peer never reads (b is paused), but credits 10 MiB every 10 ms for what it "got".
    const credit = Buffer.alloc(13);
    credit.writeUInt32LE(4, 0);
    credit[4] = 4;
    credit.writeUInt32LE(1, 5);
    credit.writeUInt32LE(10 * MiB, 9);
    const hostile = setInterval(() => b.write(credit), 10);
    await new Promise((r) => setTimeout(r, 600));
    // Bounded by the queue limit plus what the kernel's socket buffers hold, not the 64 MiB.
    expect(a.writableLength).toBeLessThanOrEqual(QUEUE_LIMIT_BYTES + 128 * 1024);
    expect(produced).toBeLessThan(QUEUE_LIMIT_BYTES + 8 * MiB);
    clearInterval(hostile);
    // Once the peer reads (and its credits are real), the rest goes through.
    let read = 0;
    b.on('data', (d: Buffer) => {
      read += d.byteLength;
    });
    const credits = setInterval(() => b.write(credit), 10);
    await sent;
    clearInterval(credits);
    expect(produced).toBe(total);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (read >= total) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
  });

  it('refuses a frame it cannot trust instead of allocating what it claims', () => {
    const errors: string[] = [];
    const got: BodyMessage[] = [];
    const frame = (kind: number, length: number): Buffer => {
      const head = Buffer.alloc(9);
      head.writeUInt32LE(length, 0);
      head[4] = kind;
      head.writeUInt32LE(1, 5);
      return head;
    };
    for (const bad of [frame(9, 0), frame(3, 0xffff_fff0), frame(4, 8)]) {
      const read = frameReader(
        (m) => got.push(m),
        (err) => errors.push(err.message),
      );
      read(bad);
      read(frame(5, 0)); // nothing after a broken frame is read
    }
    expect(got).toEqual([]);
    expect(errors).toEqual([
      'body channel: unknown frame kind 9',
      'body channel: a frame of kind 3 with 4294967280 bytes',
      'body channel: a credit frame of 8 bytes',
    ]);
  });
});
