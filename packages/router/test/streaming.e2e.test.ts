// Streaming through the whole pipeline over real HTTP: router -> host process -> isolate
// thread -> Python and back. SSE events arrive while the handler still runs, a client that
// stops reading holds the worker back, and bodies stream both ways at once (echo).
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import type { Bundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { waitFor } from './fixtures.js';
import { streamsBundle } from './helpers/streams-worker.js';

let bundle: Bundle;
const routers: Router[] = [];

async function start(
  hostKind: 'process' | 'local',
): Promise<{ router: Router; base: string; port: number }> {
  const router = createRouter({
    hostKind,
    hosts: 1,
    maxBodyBytes: 8 * 1024 * 1024,
    workers: [{ name: 'streams', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
  });
  routers.push(router);
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  return { router, base: `http://127.0.0.1:${port}`, port };
}

beforeAll(async () => {
  bundle = await streamsBundle();
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
});

for (const hostKind of ['process', 'local'] as const) {
  describe(`through the router (${hostKind} hosts)`, () => {
    let base: string;
    let port: number;
    beforeAll(async () => {
      ({ base, port } = await start(hostKind));
      expect(await (await fetch(`${base}/`)).text()).toBe('ok');
    });

    it('server-sent events arrive one by one while the handler runs', async () => {
      const res = await fetch(`${base}/sse`);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      for (let i = 0; i < 2; i++) {
        // The handler waits on a gate only the next request opens: this event left before.
        expect(decoder.decode((await reader.read()).value)).toBe(`data: ${i}\n\n`);
        expect(await (await fetch(`${base}/release/sse${i}`)).text()).toBe('released');
      }
      expect((await reader.read()).done).toBe(true);
    });

    it('a client that stops reading holds the worker back; leaving stops it', async () => {
      const socket = connect(port, '127.0.0.1');
      let received = 0;
      socket.on('data', (d) => {
        received += d.length;
        if (received > 0) socket.pause();
      });
      socket.write('GET /endless HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      const produced = async (): Promise<number> =>
        ((await (await fetch(`${base}/state`)).json()) as { produced: number }).produced;
      // Wait until production stalls: the windows and socket buffers are full.
      let last = -1;
      await waitFor(async () => {
        const now = await produced();
        const stalled = now === last && now > 0;
        last = now;
        await new Promise((r) => setTimeout(r, 300));
        return stalled;
      });
      // Socket buffers on loopback are a few MiB; without backpressure this grows without end.
      expect(last * 16384).toBeLessThan(24 * 1024 * 1024);
      socket.destroy();
      await waitFor(
        async () => ((await (await fetch(`${base}/state`)).json()) as { closed: boolean }).closed,
      );
    });

    it('streamed bytes arrive exactly as the worker made them, whatever its chunk size', async () => {
      // The thread fills pooled buffers that go round (host writes, gives back): a buffer
      // reused before it was written would show here as wrong bytes.
      for (const size of [100, 5_000, 65_536, 100_000]) {
        const total = (size < 1000 ? 1 : 6) * 1024 * 1024 + 13;
        const expected = createHash('sha256');
        for (let sent = 0, i = 0; sent < total; i++) {
          const n = Math.min(size, total - sent);
          const chunk = new Uint8Array(n);
          for (let j = 0; j < n; j++) chunk[j] = (((i * 7) % 251) + j) % 251;
          expected.update(chunk);
          sent += n;
        }
        const res = await fetch(`${base}/pattern/${total}/${size}`);
        const got = Buffer.from(await res.arrayBuffer());
        expect(got.byteLength).toBe(total);
        expect(createHash('sha256').update(got).digest('hex')).toBe(expected.digest('hex'));
      }
    });

    it('echoes a streamed body back (Response(request.body))', async () => {
      const size = 3 * 1024 * 1024 + 5;
      const res = await fetch(`${base}/echo`, {
        method: 'POST',
        body: new Uint8Array(size).fill(7),
      });
      expect((await res.arrayBuffer()).byteLength).toBe(size);
    });

    it('answers 413 when a streamed body passes the limit', async () => {
      const res = await fetch(`${base}/count`, {
        method: 'POST',
        body: new Blob([new Uint8Array(9 * 1024 * 1024)]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
    });
  });
}
