import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Serving } from 'pyworkers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEdge } from '../src/edge.js';

let serving: Serving;
let dir: string;

beforeAll(async () => {
  // Build into a copy so the test never reuses (or leaves) the app's own .pyworkers cache.
  dir = mkdtempSync(join(tmpdir(), 'pyw-edge-'));
  cpSync(fileURLToPath(new URL('../workers', import.meta.url)), dir, {
    recursive: true,
    filter: (src) => !src.includes('.pyworkers'),
  });
  // A local secret, as a Cloudflare developer keeps it for `wrangler dev`.
  writeFileSync(join(dir, 'cf-notes', '.dev.vars'), 'API_TOKEN="not-in-the-bundle"\n');
  serving = await startEdge(dir, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await serving?.router.close();
});

describe('the reference edge app', () => {
  it('serves the hello worker at / with text produced by Python', async () => {
    const res = await fetch(`${serving.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(await res.text()).toMatch(
      /^Hello from pyworkers! Python 3\.\d+\.\d+ on Emscripten \(emscripten\)\n$/,
    );
  });

  it('runs the Cloudflare-layout worker (wrangler.toml, no [tool.pyworkers]) as an ASGI app', async () => {
    const posted = await fetch(`${serving.url}/cf-notes/notes`, {
      method: 'POST',
      body: 'from the test',
    });
    expect(posted.status).toBe(201);
    const res = await fetch(`${serving.url}/cf-notes/notes`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { title: string; notes: string[] };
    // vars come from wrangler.toml's [vars]
    expect(body.title).toBe('notes');
    expect(body.notes[0]).toMatch(/Cloudflare Python Workers/);
    expect((await fetch(`${serving.url}/cf-notes/nope`)).status).toBe(404);
    // The secret from .dev.vars reached self.env.
    expect(await (await fetch(`${serving.url}/cf-notes/config`)).json()).toEqual({
      title: 'notes',
      has_api_token: true,
    });
  });

  it('runs the guestbook on its D1 database and KV namespace, state on disk', async () => {
    const posted = await fetch(`${serving.url}/guestbook/entries`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Ada', message: 'hello from the test' }),
    });
    expect(posted.status).toBe(201);
    const entry = (await posted.json()) as { id: number; name: string; created_at: string };
    expect(entry).toMatchObject({ id: 1, name: 'Ada', message: 'hello from the test' });
    expect(entry.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const list = (await (await fetch(`${serving.url}/guestbook/entries`)).json()) as {
      entries: { name: string }[];
    };
    expect(list.entries.map((e) => e.name)).toEqual(['Ada']);
    const bad = await fetch(`${serving.url}/guestbook/entries`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
    const first = (await (await fetch(`${serving.url}/guestbook/visits`)).json()) as {
      visits: number;
    };
    const second = (await (await fetch(`${serving.url}/guestbook/visits`)).json()) as {
      visits: number;
    };
    expect(second.visits).toBe(first.visits + 1);
    expect(existsSync(join(dir, 'guestbook', '.pyworkers', 'state'))).toBe(true);
  });

  it('keeps a chat room per Durable Object: its messages in SQLite, visits without lost updates', async () => {
    const post = (room: string, body: unknown) =>
      fetch(`${serving.url}/rooms/${room}/messages`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
    expect((await post('lobby', { name: 'Ada', text: 'first' })).status).toBe(201);
    expect(await (await post('lobby', { name: 'Bo', text: 'second' })).json()).toEqual({ id: 2 });
    expect((await post('lobby', {})).status).toBe(400);
    const lobby = (await (await fetch(`${serving.url}/rooms/lobby/messages`)).json()) as {
      room: string;
      messages: { name: string; text: string; at: string }[];
    };
    expect(lobby.room).toBe('lobby');
    expect(lobby.messages.map((m) => `${m.name}: ${m.text}`)).toEqual(['Ada: first', 'Bo: second']);
    expect(lobby.messages[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Another room is another object with storage of its own.
    expect(
      ((await (await fetch(`${serving.url}/rooms/attic/messages`)).json()) as { messages: [] })
        .messages,
    ).toEqual([]);
    const visits = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await fetch(`${serving.url}/rooms/lobby/visits`);
        return ((await res.json()) as { visits: number }).visits;
      }),
    );
    expect(visits.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(existsSync(join(dir, 'rooms', '.pyworkers', 'state', 'v1', 'do', 'rooms', 'Room'))).toBe(
      true,
    );
  });

  it('keeps live chat clients on a room object with hibernating WebSockets', async () => {
    const url = `${serving.url.replace(/^http/, 'ws')}/rooms/den/live`;
    const join = (name: string) =>
      new Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }>(
        (resolve, reject) => {
          const ws = new WebSocket(`${url}?name=${name}`);
          const got: Record<string, unknown>[] = [];
          const waiting: ((m: Record<string, unknown>) => void)[] = [];
          ws.on('message', (data: Buffer) => {
            const m = JSON.parse(data.toString()) as Record<string, unknown>;
            const w = waiting.shift();
            if (w) w(m);
            else got.push(m);
          });
          const next = () =>
            got.length > 0
              ? Promise.resolve(got.shift()!)
              : new Promise<Record<string, unknown>>((r) => waiting.push(r));
          ws.on('open', () => resolve({ ws, next }));
          ws.on('error', reject);
        },
      );
    const ada = await join('Ada');
    expect(await ada.next()).toEqual({ joined: 'Ada', online: 1 });
    const bo = await join('Bo');
    expect(await ada.next()).toEqual({ joined: 'Bo', online: 2 });
    expect(await bo.next()).toEqual({ joined: 'Bo', online: 2 });
    ada.ws.send('hi Bo');
    const heard = await bo.next();
    expect(heard).toMatchObject({ id: 1, name: 'Ada', text: 'hi Bo' });
    expect(await ada.next()).toEqual(heard);
    // A message posted over HTTP reaches the live clients too, and the socket's are stored.
    await fetch(`${serving.url}/rooms/den/messages`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Cy', text: 'by http' }),
    });
    expect(await bo.next()).toMatchObject({ name: 'Cy', text: 'by http' });
    const den = (await (await fetch(`${serving.url}/rooms/den/messages`)).json()) as {
      messages: { name: string; text: string }[];
    };
    expect(den.messages.map((m) => `${m.name}: ${m.text}`)).toEqual(['Ada: hi Bo', 'Cy: by http']);
    bo.ws.close();
    expect(await ada.next()).toMatchObject({ name: 'Cy' });
    expect(await ada.next()).toEqual({ left: 'Bo' });
    ada.ws.close();
  });

  it('prices in another currency by calling the rates worker over service bindings', async () => {
    const quote = await fetch(`${serving.url}/checkout/quote?amount=10&currency=eur`);
    expect(quote.status).toBe(200);
    expect(await quote.json()).toEqual({
      quote: {
        amount: 10,
        currency: 'EUR',
        rate: 0.92,
        converted: 9.2,
        as_of: '2026-01-02 09:00:00',
      },
      as_of_type: 'datetime',
    });
    // A KeyError raised in rates arrives in checkout as a KeyError.
    const bad = await fetch(`${serving.url}/checkout/quote?amount=1&currency=XYZ`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /^KeyError: "unknown currency 'XYZ'/,
    );
    const table = (await (await fetch(`${serving.url}/checkout/rates`)).json()) as {
      rates: Record<string, number>;
    };
    expect(table.rates.EUR).toBe(0.92);
    expect(await (await fetch(`${serving.url}/checkout/about`)).text()).toBe(
      'checkout, priced by: rates service: USD, EUR, GBP, JPY; call it over RPC',
    );
  });

  it('answers the status page with every worker', async () => {
    const status = (await (await fetch(`${serving.url}/__pyworkers/status`)).json()) as {
      workers: { worker: string }[];
    };
    expect(status.workers.map((w) => w.worker).sort()).toEqual([
      'cf-notes',
      'checkout',
      'guestbook',
      'hello',
      'rates',
      'rooms',
      'sse-clock',
      'ws-echo',
    ]);
  });

  it('streams server-sent events as the worker makes them', async () => {
    const res = await fetch(`${serving.url}/sse-clock/?count=2&interval=10`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const t0 = performance.now();
    const first = new TextDecoder().decode((await reader.read()).value);
    // The first event is out before the handler's 10 s sleep ends.
    expect(first).toMatch(/^id: 0\nevent: tick\ndata: \{"n": 0/);
    expect(performance.now() - t0).toBeLessThan(8_000);
    await reader.cancel();
  });

  it('echoes text and binary WebSocket frames at ws-echo, and closes with its code', async () => {
    const ws = new WebSocket(`${serving.url.replace(/^http/, 'ws')}/ws-echo/`);
    const frames: (string | Buffer)[] = [];
    const next = (): Promise<string | Buffer> =>
      new Promise((resolve, reject) => {
        ws.once('message', (data: Buffer, isBinary: boolean) =>
          resolve(isBinary ? data : data.toString()),
        );
        ws.once('error', reject);
      });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    frames.push(await next());
    ws.send('hello');
    frames.push(await next());
    ws.send(Buffer.from([0, 1, 2, 255]));
    frames.push(await next());
    ws.send('bye');
    expect(frames).toEqual(['connected', 'hello', Buffer.from([0, 1, 2, 255])]);
    expect(await closed).toEqual({ code: 1000, reason: 'bye' });
  });

  it('answers a plain GET at ws-echo with 426 and what to do', async () => {
    const res = await fetch(`${serving.url}/ws-echo/`);
    expect(res.status).toBe(426);
    expect(await res.text()).toMatch(/Upgrade: websocket/);
  });
});
