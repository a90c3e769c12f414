// A direct channel between host processes for Durable Object events (and the reads of the
// bodies their fetches stream, which stay in the object's host): a call from an isolate
// on host A to an object that lives on host B goes A -> B and back on a Unix socket, instead
// of A -> router -> B and back over IPC (two process hand-offs fewer each way). Each host
// listens on its own path in a directory only the router's user can enter (0700); peers
// connect on first use and keep the connection. Frames: a 4-byte big-endian length, then a
// V8-serialized message (structured clone, as the IPC channel's 'advanced' serialization).
//
// A call B cannot take (it does not hold the worker's bundle yet, it is starting) is answered
// `elsewhere` before anything ran, and A sends it through the router as before. A connection
// that breaks fails the calls on it (the object's host crashed), as the router would.
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { readFrames, writeFrame } from '@pyworkers/isolate';

/**
 * One object event, as a peer asks another to run it; or a read or cancel of a body the peer's
 * stream table holds (the streamed body of an earlier stub fetch that ran there).
 */
export type PeerCall = PeerObjectCall | PeerBodyCall;

/** An object event (`from`: the calling worker, who alone may read a body it answers with). */
export interface PeerObjectCall {
  worker: string;
  target: { className: string; id: string; name?: string };
  input: { method: string; args: unknown[] };
  from: string;
}

/** `__body_read__` / `__body_cancel__` of stream `id` by worker `from`. */
export interface PeerBodyCall {
  body: { method: string; id: string; from: string; binding: string };
}

type Request = { t: 'call'; id: number; call: PeerCall };
type Reply =
  | { t: 'ok'; id: number; value: unknown }
  | { t: 'err'; id: number; code: string; message: string }
  | { t: 'elsewhere'; id: number };

/** Thrown by {@link PeerClient.call} when the peer did not run the call: send it another way. */
export const ELSEWHERE = Symbol('peer: not here');

/** What a host answers a peer's call with: the result, or {@link ELSEWHERE}. */
export type PeerHandler = (call: PeerCall) => Promise<unknown>;

const reader = (socket: Socket, onMessage: (msg: unknown) => void): void =>
  readFrames(socket, onMessage);

function write(socket: Socket, msg: Request | Reply): void {
  writeFrame(socket, msg);
}

/**
 * Listens at `path` (replacing a socket file a crashed process left) and answers calls. A path
 * it cannot listen at is reported to `failed`: its peers then find no one there and send
 * their calls through the router.
 */
export function servePeers(
  path: string,
  handle: PeerHandler,
  failed: (err: Error) => void = () => {},
): Server {
  try {
    if (existsSync(path)) unlinkSync(path);
  } catch (err) {
    failed(err as Error);
  }
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    reader(socket, (msg) => {
      const { id, call } = msg as Request;
      handle(call).then(
        (value) => {
          if (!socket.destroyed) write(socket, { t: 'ok', id, value });
        },
        (err: unknown) => {
          if (socket.destroyed) return;
          if (err === ELSEWHERE) {
            write(socket, { t: 'elsewhere', id });
            return;
          }
          const e = err as { code?: unknown; message?: unknown };
          write(socket, {
            t: 'err',
            id,
            code: typeof e?.code === 'string' ? e.code : 'ERR_HOST_CALL',
            message: typeof e?.message === 'string' ? e.message : String(err),
          });
        },
      );
    });
  });
  server.on('error', failed);
  server.listen(path);
  server.unref();
  return server;
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** The calls this host makes to its peers, one connection per peer, opened on first use. */
export class PeerClient {
  readonly #conns = new Map<number, { socket: Socket; waiting: Map<number, Waiting> }>();
  #next = 1;

  constructor(private readonly paths: readonly string[]) {}

  #conn(peer: number): { socket: Socket; waiting: Map<number, Waiting> } {
    let conn = this.#conns.get(peer);
    if (conn && !conn.socket.destroyed) return conn;
    const socket = createConnection(this.paths[peer]!);
    socket.setNoDelay(true);
    socket.unref();
    const waiting = new Map<number, Waiting>();
    conn = { socket, waiting };
    this.#conns.set(peer, conn);
    const made = conn;
    reader(socket, (msg) => {
      const reply = msg as Reply;
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      if (reply.t === 'ok') w.resolve(reply.value);
      else if (reply.t === 'elsewhere') w.reject(ELSEWHERE);
      else w.reject(Object.assign(new Error(reply.message), { code: reply.code }));
    });
    const fail = (err?: Error): void => {
      if (this.#conns.get(peer) === made) this.#conns.delete(peer);
      for (const w of waiting.values())
        w.reject(
          Object.assign(
            new Error(
              `the isolate host of the Durable Object went away (${err?.message ?? 'closed'})`,
            ),
            { code: 'ERR_ROUTER_HOST_CRASHED' },
          ),
        );
      waiting.clear();
    };
    socket.on('error', (err) => {
      // Not listening (yet, or any more): the calls not sent go another way.
      const refused = (err as { code?: string }).code;
      if (refused === 'ENOENT' || refused === 'ECONNREFUSED') {
        if (this.#conns.get(peer) === made) this.#conns.delete(peer);
        for (const w of waiting.values()) w.reject(ELSEWHERE);
        waiting.clear();
      } else fail(err);
    });
    socket.on('close', () => fail());
    return conn;
  }

  /** Runs `call` on host `peer`; rejects with {@link ELSEWHERE} when that host did not take it. */
  call(peer: number, call: PeerCall): Promise<unknown> {
    const { socket, waiting } = this.#conn(peer);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      // A pending call keeps the process alive until it is answered.
      if (waiting.size === 1) socket.ref();
      const done = (): void => {
        if (waiting.size === 0) socket.unref();
      };
      const w = waiting.get(id)!;
      waiting.set(id, {
        resolve: (v) => {
          w.resolve(v);
          done();
        },
        reject: (e) => {
          w.reject(e);
          done();
        },
      });
      write(socket, { t: 'call', id, call });
    });
  }

  close(): void {
    for (const { socket } of this.#conns.values()) socket.destroy();
    this.#conns.clear();
  }
}
