// The thread's end of a lane against a router's end on real Unix sockets: the thread listens,
// says so on the router's socket, and takes requests once the router connected with the token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFrames, writeFrame } from '../frames.js';
import { type LaneStateMessage, lanePath } from '../internal/protocol.js';
import { Lane } from './lane.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** A router's socket in a fresh directory; `onHello` gets each thread's hello. */
async function router(onHello: (hello: { path: string; lane: number }) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lane-test-'));
  const path = join(dir, 'host-1.sock');
  const server: Server = createServer((socket) => {
    readFrames(socket, (msg) => onHello(msg as { path: string; lane: number }));
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanup.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return path;
}

function open(path: string, states: LaneStateMessage[], token = 'tok'): Lane {
  const lane = new Lane(
    {
      type: 'lane-open',
      path,
      token,
      lane: 3,
      worker: 'w',
      capacity: 4,
      timeoutMs: 1000,
      load: new Int32Array(new SharedArrayBuffer(4)),
    },
    async (msg, ch) => {
      ch.post({ type: 'response', id: msg.id, status: 200, headers: [], body: msg.body });
    },
    (state) => states.push(state),
  );
  cleanup.push(() => lane.close());
  return lane;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('Lane (the thread end)', () => {
  it('listens where it says, and answers requests once the router connected with the token', async () => {
    let data: Socket | undefined;
    const answers: unknown[] = [];
    const path = await router((hello) => {
      expect(hello.path).toBe(lanePath(path, 3));
      data = connect(hello.path);
      readFrames(data, (msg) => answers.push(msg));
      writeFrame(data, { type: 'lane-accept', token: 'tok' });
      writeFrame(data, {
        type: 'request',
        id: 1,
        method: 'POST',
        url: 'http://x/',
        headers: [],
        body: new TextEncoder().encode('ping'),
      });
    });
    // A killed host process's stale socket file at the same path does not stop it.
    writeFileSync(lanePath(path, 3), '');
    const states: LaneStateMessage[] = [];
    open(path, states);
    await until(() => answers.length === 1);
    expect(states).toEqual([{ type: 'lane-state', state: 'open' }]);
    const answer = answers[0] as { type: string; id: number; body: Uint8Array };
    expect([answer.type, answer.id, Buffer.from(answer.body).toString()]).toEqual([
      'response',
      1,
      'ping',
    ]);
    data?.destroy();
  });

  it('takes no request from a connection that does not say the token', async () => {
    let closed = false;
    const path = await router((hello) => {
      const data = connect(hello.path);
      data.on('close', () => {
        closed = true;
      });
      writeFrame(data, { type: 'lane-accept', token: 'not-it' });
    });
    const states: LaneStateMessage[] = [];
    open(path, states);
    await until(() => closed);
    expect(closed).toBe(true);
    expect(states).toEqual([]);
  });

  it('answers what the router sent while connecting when the host closed the lane before the token', async () => {
    // The race of an eviction right after the hello: the router has connected and sent a
    // request behind its token, the thread has not read them yet, and the host closes the lane.
    let data: Socket | undefined;
    const answers: { type: string; id?: number }[] = [];
    let hello: { path: string } | undefined;
    const path = await router((h) => {
      hello = h;
    });
    const states: LaneStateMessage[] = [];
    const lane = open(path, states);
    await until(() => hello !== undefined);
    lane.close();
    data = connect(hello!.path);
    readFrames(data, (msg) => {
      const frame = msg as { type: string; id?: number };
      answers.push(frame);
      // As the router does: stop sending, then say so after the last request it sent.
      if (frame.type === 'lane-closing') writeFrame(data!, { type: 'lane-closed' });
    });
    writeFrame(data, { type: 'lane-accept', token: 'tok' });
    writeFrame(data, {
      type: 'request',
      id: 7,
      method: 'POST',
      url: 'http://x/',
      headers: [],
      body: new TextEncoder().encode('late'),
    });
    await until(() => states.length === 2);
    expect(answers.map((a) => [a.type, a.id])).toEqual([
      ['lane-closing', undefined],
      ['response', 7],
    ]);
    expect(states).toEqual([
      { type: 'lane-state', state: 'open' },
      { type: 'lane-state', state: 'closed' },
    ]);
    data.destroy();
  });

  it('closes at once when the host closes it before the hello went out', async () => {
    let hellos = 0;
    const path = await router(() => {
      hellos++;
    });
    const states: LaneStateMessage[] = [];
    open(path, states).close();
    expect(states).toEqual([{ type: 'lane-state', state: 'closed' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(hellos).toBe(0);
  });
});
