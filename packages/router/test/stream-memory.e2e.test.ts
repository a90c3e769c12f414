// Memory under streaming, measured from outside as an operator would (RSS of the router and of
// its host process). A 100 MiB upload to a worker that reads it in chunks grows the server by
// less than 32 MiB (issue #13): the router frees each body piece node:http gave it once it is
// forwarded (src/internal/free-buffer.ts; before, dead pieces waited for a GC: router +20 to
// +36 MiB), the host reads into one buffer and passes pooled ones round. The host keeps no
// parked isolate here: a replacement booting after the first request (+27 to +44 MiB, not the
// upload's) would land in the measurement. A client that stops reading an endless response
// costs a bounded amount.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { waitFor } from './fixtures.js';
import { peakGrowth, treeRss } from './helpers/rss.js';
import { streamsBundle } from './helpers/streams-worker.js';
import { upload } from './helpers/upload-client.js';

const MiB = 1024 * 1024;

let router: Router;
let port: number;
let hostPid: number;

beforeAll(async () => {
  const bundle = await streamsBundle();
  router = createRouter({
    hostKind: 'process',
    hosts: 1,
    poolSize: 0,
    maxPoolSize: 0,
    maxBodyBytes: 256 * MiB,
    eventSources: false,
    workers: [{ name: 'streams', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
  });
  ({ port } = await router.listen({ port: 0, host: '127.0.0.1' }));
  // Warm: the isolate is up and one small streamed upload has run through every hop.
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  expect(JSON.parse(await upload(port, '/count', 4 * MiB)).size).toBe(4 * MiB);
  hostPid = (await router.status()).hosts[0]!.pid;
  expect(treeRss(hostPid)).toBeGreaterThan(0);
});

afterAll(async () => {
  await router?.close();
});

describe.runIf(process.platform === 'linux')('memory under streaming (process host)', () => {
  it('a 100 MiB streamed upload reaches the worker chunk by chunk and grows the server by less than 32 MiB', async () => {
    const total = 100 * MiB;
    const t0 = performance.now();
    const { result, ...grown } = await peakGrowth({ router: process.pid, host: hostPid }, () =>
      upload(port, '/count', total),
    );
    const seconds = (performance.now() - t0) / 1000;
    const answer = JSON.parse(result) as { chunks: number; size: number };
    expect(answer.size).toBe(total);
    process.stdout.write(
      `100 MiB upload: router +${(grown.router / MiB).toFixed(1)} MiB (ArrayBuffers +${(grown.routerBuffers / MiB).toFixed(1)}), host +${(grown.host / MiB).toFixed(1)} MiB RSS, ${answer.chunks} chunks, ${(total / MiB / seconds).toFixed(0)} MiB/s\n`,
    );
    // Held whole anywhere on the way, it would arrive as one chunk (or a few window-sized ones).
    expect(answer.chunks).toBeGreaterThan(100);
    // Issue #13's bound, on the server's processes together.
    expect(grown.router + grown.host).toBeLessThan(32 * MiB);
    // What the router holds of the body: its credit window (1 MiB) and the socket reads on the
    // way, not dead pieces awaiting a GC (those were +9 to +36 MiB before they were freed).
    expect(grown.routerBuffers).toBeLessThan(8 * MiB);
  });

  it('a worker that stops reading an upload holds the client back; every byte arrives once it reads', async () => {
    const total = 64 * MiB;
    const block = randomBytes(MiB);
    const expected = createHash('sha256');
    let accepted = 0;
    let sent = 0;
    let answer = '';
    const req = request({ host: '127.0.0.1', port, path: '/hold', method: 'POST' });
    const answered = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          answer += d;
        });
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
    const pump = (): void => {
      while (sent < total) {
        // Every MiB differs (its first byte is its index), so a buffer reused too early shows.
        const chunk = Buffer.from(block);
        chunk[0] = sent / MiB;
        expected.update(chunk);
        sent += chunk.byteLength;
        const room = req.write(chunk, () => {
          accepted += chunk.byteLength;
        });
        if (!room) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
    // The client's writes stall once every window and socket buffer on the way is full...
    let last = -1;
    await waitFor(async () => {
      const stalled = accepted === last && accepted > 0;
      last = accepted;
      await new Promise((r) => setTimeout(r, 500));
      return stalled;
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const held = accepted;
    process.stdout.write(`worker not reading: the client got ${(held / MiB).toFixed(1)} MiB out\n`);
    expect(accepted).toBe(held);
    // Loopback socket buffers hold a few MiB; the router's and host's windows 1 MiB and 256 KiB.
    expect(held).toBeLessThan(24 * MiB);
    // ...and once the worker reads, every byte arrives, in order.
    expect(await (await fetch(`http://127.0.0.1:${port}/release/hold`)).text()).toBe('released');
    await answered;
    const got = JSON.parse(answer) as { size: number; sha256: string };
    expect(got.size).toBe(total);
    expect(got.sha256).toBe(expected.digest('hex'));
  });

  it('a client that stops reading an endless response costs a bounded amount; leaving stops it', async () => {
    const state = async (): Promise<{ produced: number; closed: boolean }> =>
      (await fetch(`http://127.0.0.1:${port}/state`)).json() as Promise<{
        produced: number;
        closed: boolean;
      }>;
    const socket = connect(port, '127.0.0.1');
    let received = 0;
    socket.on('data', (d) => {
      received += d.length;
      socket.pause();
    });
    let produced = 0;
    const grown = await peakGrowth({ router: process.pid, host: hostPid }, async () => {
      socket.write('GET /endless HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      // Production stalls once every window and socket buffer on the way is full...
      let last = -1;
      await waitFor(async () => {
        const now = (await state()).produced;
        const stalled = now === last && now > 0;
        last = now;
        await new Promise((r) => setTimeout(r, 500));
        return stalled;
      });
      produced = last;
      // ...and stays stalled: a server that buffered for the client would keep producing.
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await state()).produced).toBe(produced);
    });
    const made = (produced * 16 * 1024) / MiB;
    process.stdout.write(
      `paused client: ${made.toFixed(1)} MiB produced before stalling, router +${(grown.router / MiB).toFixed(1)} MiB, host +${(grown.host / MiB).toFixed(1)} MiB RSS\n`,
    );
    expect(received).toBeGreaterThan(0);
    // Loopback socket buffers hold a few MiB; each hop's window 256 KiB.
    expect(made).toBeLessThan(24);
    expect(grown.router).toBeLessThan(32 * MiB);
    expect(grown.host).toBeLessThan(32 * MiB);
    socket.destroy();
    await waitFor(async () => (await state()).closed);
  });
});
