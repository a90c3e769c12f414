import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type BodyMessage, BodyStreams } from './body-stream.js';
import { BufferPool, POOL_BUFFER_BYTES } from './buffer-pool.js';

async function* chunks(n: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n; i++) {
    // A view into a bigger buffer, as a socket read gives: not transferable as it is.
    const backing = new Uint8Array(size + 32).fill(i % 250);
    yield backing.subarray(16, 16 + size);
  }
}

describe('pooled body buffers over a real MessagePort hop', () => {
  it('go to the reader transferred and come back with its credits, so the sender stops allocating', async () => {
    const { port1, port2 } = new MessageChannel();
    const pool = new BufferPool();
    const sender = new BodyStreams(
      (msg, transfer) => port1.postMessage(msg, transfer ?? []),
      true,
      256 * 1024,
      [pool],
    );
    const reader = new BodyStreams(
      (msg, transfer) => port2.postMessage(msg, transfer ?? []),
      true,
      256 * 1024,
    );
    port1.on('message', (m: BodyMessage) => sender.onMessage(m));
    port2.on('message', (m: BodyMessage) => reader.onMessage(m));
    const body = reader.receive(1, true);
    const sent = sender.send(1, chunks(200, 50_000), true);
    let count = 0;
    let bytes = 0;
    const recycled: Uint8Array[] = [];
    for await (const chunk of body) {
      // Each chunk arrives as the only view of a pooled buffer, with the sender's bytes.
      expect(chunk.byteOffset).toBe(0);
      expect(chunk.buffer.byteLength).toBe(POOL_BUFFER_BYTES);
      expect(chunk[0]).toBe(count % 250);
      expect(chunk[chunk.byteLength - 1]).toBe(count % 250);
      bytes += chunk.byteLength;
      count++;
      reader.recycle(chunk);
      // It goes back with the next credit (a quarter window later): detached here by then.
      recycled.push(chunk);
      if (recycled.length > 8) expect(recycled.shift()!.byteLength).toBe(0);
    }
    await sent;
    expect(count).toBe(200);
    expect(bytes).toBe(200 * 50_000);
    // 10 MB went through; the buffers went round instead of being made per chunk: the sender
    // holds the ones that came back (a window's worth), not 200.
    await new Promise((r) => setTimeout(r, 20));
    expect(pool.size).toBeGreaterThan(0);
    expect(pool.size).toBeLessThan(16);
    port1.close();
  });

  it('leaves chunks it did not fill alone: a consumer that keeps them keeps them', () => {
    const pool = new BufferPool();
    const own = new Uint8Array(POOL_BUFFER_BYTES);
    expect(pool.owns(own)).toBe(false);
    const [copy] = pool.copy(own.subarray(0, POOL_BUFFER_BYTES / 2));
    expect(pool.owns(copy!)).toBe(true);
    expect(pool.copy(copy!)).toEqual([copy]);
    // Bigger than a pooled buffer: split.
    expect(pool.copy(new Uint8Array(POOL_BUFFER_BYTES + 1)).map((c) => c.byteLength)).toEqual([
      POOL_BUFFER_BYTES,
      1,
    ]);
  });

  it('puts a chunk of a few bytes in a buffer of its own size, not a pooled one', () => {
    // A window counts bytes: 256 KiB of 20-byte events in 64 KiB buffers would be 800 MiB.
    const pool = new BufferPool();
    const [small] = pool.copy(new Uint8Array(20).fill(3));
    expect(small!.buffer.byteLength).toBe(20);
    expect(pool.owns(small!)).toBe(false);
    expect([...small!]).toEqual(new Array(20).fill(3));
    expect(pool.copy(new Uint8Array(POOL_BUFFER_BYTES / 4))[0]!.buffer.byteLength).toBe(
      POOL_BUFFER_BYTES,
    );
  });
});
