// Lanes (src/host/lanes.ts): a warm isolate's plain requests go from the router straight to
// its thread in the host process. The answers must be the ones the host gives (bodies,
// streams, errors and their statuses), and nothing may be lost when the host evicts an
// isolate while the router is sending on its lane, or when the isolate dies under a request.
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { waitFor } from './fixtures.js';
import { PATTERN_PY } from './helpers/streams-worker.js';

const entry = (name: string) => `
import asyncio
import os
from urllib.parse import urlsplit
from workers import Response, WorkerEntrypoint


${PATTERN_PY}

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        full = urlsplit(request.url).path
        path = "/" + full.split("/", 2)[2]  # past the route's /<name>/
        if path == "/boom":
            raise RuntimeError("boom")
        if path == "/crash":
            os._exit(3)
        if path.startswith("/slow/"):
            await asyncio.sleep(float(path.removeprefix("/slow/")))
            return Response("slept")
        if path.startswith("/pattern/"):
            total, size = map(int, path.removeprefix("/pattern/").split("/"))
            return Response(pattern(total, size))
        if path == "/echo":
            return Response(await request.bytes(), status=201, headers={"x-method": request.method})
        return Response("${name} " + full, headers={"x-worker": "${name}"})
`;

async function bundle(name: string): Promise<Bundle> {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry(name))]]),
    vars: {},
    limits: { requestTimeoutMs: 3_000 },
  });
  return decodeBundle(bytes);
}

/** What `pattern(total, size)` yields, joined. */
function expected(total: number, size: number): Buffer {
  const out = Buffer.alloc(total);
  for (let i = 0, at = 0; at < total; i++) {
    const n = Math.min(size, total - at);
    for (let j = 0; j < n; j++) out[at + j] = (((i * 7) % 251) + j) % 251;
    at += n;
  }
  return out;
}

let router: Router;
let base: string;

const host = async () => (await router.status()).hosts[0]!;
const lanesOf = async (): Promise<number> => (await host()).laneRequests ?? 0;
const coldStarts = async (worker: string): Promise<number> =>
  (await router.status()).workers.find((w) => w.worker === worker)?.coldStarts ?? 0;

beforeAll(async () => {
  const [a, b] = await Promise.all([bundle('a'), bundle('b')]);
  router = createRouter({
    hostKind: 'process',
    hosts: 1,
    // One isolate at a time: a cold start of one worker evicts the other's (idle) isolate.
    maxIsolates: 1,
    workers: [
      { name: 'a', routes: [{ pathPrefix: '/a/' }], bundle: async () => a },
      { name: 'b', routes: [{ pathPrefix: '/b/' }], bundle: async () => b },
    ],
  });
  const addr = await router.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await router?.close();
});

/** Warms worker `name` until its isolate's lane is open (after its first requests). */
async function warm(name: string): Promise<void> {
  await waitFor(async () => {
    expect((await fetch(`${base}/${name}/`)).status).toBe(200);
    return ((await host()).lanes ?? 0) > 0;
  }, 20_000);
}

describe('lanes from the router to warm isolates in a host process', () => {
  it("send a warm worker's requests on its lane, answered as the host answers them", async () => {
    await warm('a');
    const before = await lanesOf();
    // Four at a time: a lane past `spreadAt` (4) in flight sends the rest through the host,
    // which may start a second isolate for the hot worker.
    for (let batch = 0; batch < 5; batch++) {
      const paths = [0, 1, 2, 3].map((i) => `/a/n${batch}.${i}`);
      const responses = await Promise.all(paths.map((path) => fetch(`${base}${path}`)));
      for (const [i, res] of responses.entries()) {
        expect(res.status).toBe(200);
        expect(res.headers.get('x-worker')).toBe('a');
        expect(await res.text()).toBe(`a ${paths[i]}`);
      }
    }
    const echo = await fetch(`${base}/a/echo`, { method: 'POST', body: 'over the lane' });
    expect(echo.status).toBe(201);
    expect(echo.headers.get('x-method')).toBe('POST');
    expect(await echo.text()).toBe('over the lane');
    expect(await lanesOf()).toBeGreaterThanOrEqual(before + 21);
  });

  it('stream a response body on the lane, every byte in order', async () => {
    await warm('a');
    const before = await lanesOf();
    const res = await fetch(`${base}/a/pattern/3000000/16384`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.byteLength).toBe(3_000_000);
    expect(body.equals(expected(3_000_000, 16384))).toBe(true);
    expect(await lanesOf()).toBe(before + 1);
  });

  it('answer 500 when the handler raises on the lane, and keep the isolate', async () => {
    await warm('a');
    const cold = await coldStarts('a');
    const before = await lanesOf();
    expect((await fetch(`${base}/a/boom`)).status).toBe(500);
    expect(await lanesOf()).toBe(before + 1);
    expect((await fetch(`${base}/a/`)).status).toBe(200);
    expect(await coldStarts('a')).toBe(cold);
  });

  it('answer 502 to a request past its timeout on the lane; the host replaces the isolate', async () => {
    await warm('a');
    const cold = await coldStarts('a');
    const before = await lanesOf();
    const t0 = performance.now();
    const res = await fetch(`${base}/a/slow/60`);
    expect(res.status).toBe(502);
    // The worker's 3 s timeout, not the 60 s the handler would sleep.
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(await lanesOf()).toBe(before + 1);
    await waitFor(async () => ((await host()).lanes ?? 0) === 0, 20_000);
    const again = await fetch(`${base}/a/`);
    expect(again.status).toBe(200);
    expect(await coldStarts('a')).toBe(cold + 1);
  });

  it('answer 502 when the isolate exits under a request on the lane; the next request gets a new one', async () => {
    await warm('a');
    const cold = await coldStarts('a');
    const before = await lanesOf();
    expect((await fetch(`${base}/a/crash`)).status).toBe(502);
    expect(await lanesOf()).toBe(before + 1);
    const again = await fetch(`${base}/a/`);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe('a /a/');
    expect(await coldStarts('a')).toBe(cold + 1);
  });

  it('lose no request while isolates with lanes are evicted under load', async () => {
    await warm('a');
    const before = await lanesOf();
    // Each burst of b evicts a's isolate and the next burst of a evicts b's, while requests
    // to the other worker are still being sent on its lane.
    for (let round = 0; round < 8; round++) {
      const burst = ['a', 'b', 'a', 'b', 'a', 'b'].map(async (name, i) => {
        const res = await fetch(`${base}/${name}/r${round}.${i}`);
        return { name, i, status: res.status, text: await res.text() };
      });
      for (const { name, i, status, text } of await Promise.all(burst)) {
        // Status and body together: a failure says what came back (a 502 names its cause).
        expect(`${status} ${text}`).toBe(`200 ${name} /${name}/r${round}.${i}`);
      }
    }
    const s = await router.status();
    const evictions = s.workers.reduce((n, w) => n + (w.evictions ?? 0), 0);
    expect(evictions).toBeGreaterThan(0);
    expect(await lanesOf()).toBeGreaterThan(before);
  });
});
