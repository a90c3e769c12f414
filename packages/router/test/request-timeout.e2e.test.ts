// `requestTimeoutMs` and streamed uploads, over raw sockets: an upload that keeps flowing may
// take longer than the timeout (node:http's own requestTimeout answered it 408 mid-stream);
// one that stalls, or a small body that never completes, still gets a 408 and a close.
import { connect } from 'node:net';
import type { Bundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { streamsBundle } from './helpers/streams-worker.js';

const TIMEOUT_MS = 800;
let bundle: Bundle;
let router: Router;
let port: number;

beforeAll(async () => {
  bundle = await streamsBundle();
  router = createRouter({
    hostKind: 'process',
    hosts: 1,
    requestTimeoutMs: TIMEOUT_MS,
    headersTimeoutMs: TIMEOUT_MS,
    workers: [{ name: 'streams', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
  });
  ({ port } = await router.listen({ port: 0, host: '127.0.0.1' }));
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
});

afterAll(async () => {
  await router?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends a chunked POST to /count: `chunks` chunks of 16 KiB, `gapMs` apart, then (unless
 * `stallAfter` is set: stop after that many) the end. Resolves with what the server answered and
 * when the connection closed, in ms since the first byte.
 */
function upload(opts: { chunks: number; gapMs: number; stallAfter?: number }) {
  return new Promise<{ answer: string; closedAtMs: number }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = performance.now();
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAtMs: performance.now() - started }));
    socket.write(
      'POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    );
    const chunk = Buffer.alloc(16 * 1024, 1);
    void (async () => {
      for (let i = 0; i < opts.chunks; i++) {
        if (opts.stallAfter !== undefined && i === opts.stallAfter) return; // silence
        socket.write(`${chunk.byteLength.toString(16)}\r\n`);
        socket.write(chunk);
        socket.write('\r\n');
        await sleep(opts.gapMs);
      }
      socket.write('0\r\n\r\n');
    })();
  });
}

describe('requestTimeoutMs and streamed uploads', () => {
  it('lets an upload that keeps flowing take several times the timeout', async () => {
    // 20 chunks 150 ms apart: ~3 s, nearly four times requestTimeoutMs.
    const { answer, closedAtMs } = await upload({ chunks: 20, gapMs: 150 });
    expect(closedAtMs).toBeGreaterThan(TIMEOUT_MS * 3);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain(`"size": ${20 * 16 * 1024}`);
  });

  it('answers 408 and closes when an upload stalls in the middle', async () => {
    const { answer, closedAtMs } = await upload({ chunks: 20, gapMs: 50, stallAfter: 5 });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    // Closed about one timeout after the last bytes, not at once and not never.
    expect(closedAtMs).toBeGreaterThan(TIMEOUT_MS);
    expect(closedAtMs).toBeLessThan(TIMEOUT_MS * 6);
  });

  it('answers 408 to a small body that never completes', async () => {
    const { answer } = await new Promise<{ answer: string }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('error', reject);
      socket.on('close', () => resolve({ answer: text }));
      socket.write('POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});
