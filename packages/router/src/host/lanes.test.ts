// The router's end of the lanes, against a peer speaking the thread's side of the protocol on a
// real Unix socket (the e2e test, test/lanes.e2e.test.ts, runs the real isolate threads).
import { connect, createServer, type Socket } from 'node:net';
import { lanePath, readFrames, silentLogger, writeFrame } from '@pyworkers/isolate';
import { afterEach, describe, expect, it } from 'vitest';
import { LaneServer } from './lanes.js';

const servers: LaneServer[] = [];
const listeners: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.close();
  for (const s of servers.splice(0)) s.close();
});

function server(kill: (lane: number, message: string) => void = () => {}): LaneServer {
  const s = new LaneServer(0, silentLogger, kill, { at: 4, to: 1 });
  servers.push(s);
  return s;
}

/**
 * A thread's end: listens at its lane path, says hello with `token` on the router's socket,
 * and answers each request that comes on the router's connection with `answer`. Returns the
 * hello socket.
 */
async function thread(
  s: LaneServer,
  token: string,
  answer: (req: { id: number; url: string }, socket: Socket) => void,
  accepted: string[] = [],
): Promise<Socket> {
  const path = lanePath(s.path, 7);
  const listening = createServer((socket) => {
    readFrames(socket, (msg) => {
      const m = msg as { type: string; id: number; url: string; token?: string };
      if (m.type === 'lane-accept') accepted.push(m.token!);
      if (m.type === 'request') answer(m, socket);
    });
  });
  await new Promise<void>((r) => listening.listen(path, r));
  listeners.push(listening);
  const socket = connect(s.path);
  await new Promise((r) => socket.once('connect', r));
  writeFrame(socket, {
    type: 'lane-hello',
    token,
    lane: 7,
    worker: 'w',
    capacity: 16,
    timeoutMs: 300,
    path,
  });
  return socket;
}

const request = (url: string) => ({
  method: 'GET',
  url,
  headers: [] as [string, string][],
  body: new Uint8Array(0),
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('LaneServer', () => {
  it('refuses a lane that does not know its token: it is closed, and gets no request', async () => {
    const s = server();
    let asked = 0;
    const socket = await thread(s, 'not-the-token', () => asked++);
    const closed = new Promise((r) => socket.once('close', r));
    await closed;
    expect(s.stats().lanes).toBe(0);
    expect(s.fetch('w', request('http://x/'))).toBeUndefined();
    expect(asked).toBe(0);
  });

  it('connects to the lane with the token and resolves its requests with the answers', async () => {
    const s = server();
    const accepted: string[] = [];
    await thread(
      s,
      s.token,
      (req, socket) =>
        writeFrame(socket, {
          type: 'response',
          id: req.id,
          status: 200,
          headers: [['x-url', req.url]],
          body: new TextEncoder().encode(`hi ${req.url}`),
        }),
      accepted,
    );
    await until(() => s.stats().lanes === 1);
    const answers = await Promise.all(
      [1, 2, 3].map((i) => s.fetch('w', request(`http://x/${i}`))!),
    );
    expect(answers.map((a) => new TextDecoder().decode(a.body as Uint8Array))).toEqual([
      'hi http://x/1',
      'hi http://x/2',
      'hi http://x/3',
    ]);
    expect(s.stats()).toEqual({ lanes: 1, laneRequests: 3 });
    // The router's connection said the token first.
    expect(accepted).toEqual([s.token]);
    // Another worker has no lane: its request goes through the host.
    expect(s.fetch('other', request('http://x/'))).toBeUndefined();
  });

  it('fails a request past its timeout with ERR_ISOLATE_TIMEOUT and asks the host to kill', async () => {
    const kills: [number, string][] = [];
    const s = server((lane, message) => kills.push([lane, message]));
    await thread(s, s.token, () => {});
    await until(() => s.stats().lanes === 1);
    await expect(s.fetch('w', request('http://x/slow'))).rejects.toMatchObject({
      code: 'ERR_ISOLATE_TIMEOUT',
    });
    expect(kills).toEqual([
      [7, 'w: the request ran longer than 300 ms; the isolate was terminated'],
    ]);
  });

  it("fails what runs on a lane with the host's error when it loses the isolate", async () => {
    const s = server();
    await thread(s, s.token, () => {});
    await until(() => s.stats().lanes === 1);
    const running = s.fetch('w', request('http://x/'))!;
    s.lost(
      7,
      Object.assign(new Error('w: the Python heap tried to grow'), {
        code: 'ERR_ISOLATE_MEMORY_LIMIT',
      }),
    );
    await expect(running).rejects.toMatchObject({ code: 'ERR_ISOLATE_MEMORY_LIMIT' });
    expect(s.stats().lanes).toBe(0);
  });
});
