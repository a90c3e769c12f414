// The thread's end of a lane: a Unix socket on which the router sends this isolate its plain
// requests itself, past the host process's main thread (one process hop fewer each way). The
// thread answers them as it answers the host's (request-bridge.ts), on the socket. The host
// keeps what it decides: placement (it reads the lane's load from `load[0]`), eviction (it
// closes the lane first, see below), binding calls (they go to the host as always) and limits.
//
// Opening: the thread listens at lanePath (next to the router's socket, in its 0700 directory)
// and says so on the router's socket (`lane-hello`, with the token its host was given); the
// router connects there and says the token first (`lane-accept`). The router is the side that
// connects so that it can read the lane into one reused buffer (node:net offers `onread` only
// on a socket it connects): a 100 MiB streamed response then allocates no read buffer there.
//
// Closing, so that no request is lost: the host posts `lane-close`; the thread says
// `lane-closing` on the socket; the router stops sending and answers `lane-closed` after the
// last request it sent; the thread answers every request it took, then reports `closed` to the
// host, which may evict the isolate.
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BodyStreams, IPC_STREAM_WINDOW_BYTES, isBodyMessage } from '../body-stream.js';
import { responseBufferPool } from '../buffer-pool.js';
import { corkTurn, readFrames, writeFrame } from '../frames.js';
import {
  type FromWorker,
  type LaneFrame,
  type LaneOpenMessage,
  type LaneStateMessage,
  lanePath,
  type RequestMessage,
} from '../internal/protocol.js';

/** Where a request came from, and where its answer and body messages go. */
export interface Channel {
  post: (msg: FromWorker, transfer?: ArrayBuffer[]) => unknown;
  bodies: BodyStreams;
  /** Set on a lane: the worker's name (for errors), and a lane answers no WebSocket upgrade. */
  lane?: string;
}

/** Runs one request that came on a lane, answering on `ch`; settles once it is answered. */
export type LaneRun = (msg: RequestMessage, ch: Channel) => Promise<void>;

export class Lane {
  /** The lane's socket, once the router connected and said the token. */
  private socket: Socket | undefined;
  private readonly server: Server;
  /** The router's socket, on which the thread says where it listens. */
  private readonly hello: Socket;
  private readonly channel: Channel;
  private readonly send: (msg: LaneFrame) => unknown;
  private inflight = 0;
  /** The router sent its last request (`lane-closed`). */
  private routerDone = false;
  private done = false;
  /** The hello went out: the router may be connecting, and may send requests once it has. */
  private helloSent = false;
  /** The host closed the lane before the router said the token: close once it has. */
  private closeAsked = false;

  constructor(
    private readonly open: LaneOpenMessage,
    private readonly run: LaneRun,
    private readonly report: (msg: LaneStateMessage) => void,
  ) {
    const post = (msg: unknown): boolean => {
      const socket = this.socket;
      if (!socket || socket.destroyed) return true;
      const chunk = (msg as { type?: string; chunk?: Uint8Array }).chunk;
      // A pooled response buffer goes back to its pool once the socket wrote it.
      const pooled = chunk && chunk.byteOffset === 0 ? chunk.buffer : undefined;
      // Every answer of this turn in one write: the router wakes once for them. Not a body's
      // chunks: their pooled buffers go back once written, and a stream held to the turn's end
      // waited for them (in-process host, 100 MiB: 242-329 MiB/s against 366-574 uncorked).
      if (!chunk) corkTurn(socket);
      return writeFrame(
        socket,
        msg,
        pooled && (() => responseBufferPool.give(pooled as ArrayBuffer)),
      );
    };
    // A socket between processes: the window of the router <-> host hop, which it replaces.
    const bodies = new BodyStreams(post, false, IPC_STREAM_WINDOW_BYTES);
    this.channel = { post, bodies, lane: open.worker };
    this.send = post;
    const path = lanePath(open.path, open.lane);
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => this.finish(`the lane could not listen: ${err.message}`));
    this.hello = connect(open.path);
    this.hello.on('error', () => {});
    // Closed before the router connected: it refused the lane, or went away.
    this.hello.on('close', () => {
      if (!this.socket) this.finish('the router closed the lane');
    });
    // A host process that was killed left its lanes' socket files; its replacement numbers its
    // lanes from 1 again, in the same directory.
    rmSync(path, { force: true });
    this.server.listen(path, () => {
      const { token, lane, worker, capacity, timeoutMs } = open;
      const hello: LaneFrame = {
        type: 'lane-hello',
        token,
        lane,
        worker,
        capacity,
        timeoutMs,
        path,
      };
      writeFrame(this.hello, hello);
      this.helloSent = true;
    });
  }

  /** The router connects: the lane is open once it said the token. */
  private accept(socket: Socket): void {
    if (this.socket || this.done) {
      socket.destroy();
      return;
    }
    let said = false;
    socket.on('error', () => {});
    readFrames(socket, (msg) => {
      if (said) {
        this.onFrame(msg as RequestMessage | { type: 'lane-closed' });
        return;
      }
      const accept = msg as Extract<LaneFrame, { type: 'lane-accept' }>;
      if (accept?.type !== 'lane-accept' || accept.token !== this.open.token || this.socket) {
        socket.destroy();
        return;
      }
      said = true;
      this.socket = socket;
      this.server.close();
      this.hello.end();
      socket.on('drain', () => this.channel.bodies.drained());
      socket.on('close', () => this.finish('the router closed the lane'));
      this.report({ type: 'lane-state', state: 'open' });
      // Closed while the router was connecting: what it sends before our `lane-closing`
      // reaches it is answered, as on a lane that was open.
      if (this.closeAsked) this.send({ type: 'lane-closing' });
    });
  }

  /** The host evicts the isolate: stop taking requests once the router has sent its last. */
  close(): void {
    if (this.done) {
      this.report({ type: 'lane-state', state: 'closed' });
      return;
    }
    if (this.socket) {
      this.send({ type: 'lane-closing' });
      return;
    }
    // Before the hello, the router cannot have connected: no request came on it.
    if (!this.helloSent) {
      this.finish();
      return;
    }
    // After it, the router may already have connected and sent requests that this thread has
    // not read yet (its token frame first): they must be answered, so the lane closes as an
    // open one does once the router said the token. If the router refuses the lane or goes
    // away instead, its socket closes and so does the lane (the hello's 'close').
    this.closeAsked = true;
  }

  private onFrame(
    msg: RequestMessage | { type: 'lane-closed' } | Parameters<BodyStreams['onMessage']>[0],
  ): void {
    if (isBodyMessage(msg)) {
      this.channel.bodies.onMessage(msg);
      return;
    }
    if (msg.type === 'lane-closed') {
      this.routerDone = true;
      this.settled();
      return;
    }
    if (msg.type !== 'request') return;
    this.inflight++;
    Atomics.add(this.open.load, 0, 1);
    void this.run(msg, this.channel).finally(() => {
      this.inflight--;
      Atomics.sub(this.open.load, 0, 1);
      this.settled();
    });
  }

  private settled(): void {
    if (this.routerDone && this.inflight === 0) {
      this.socket?.end();
      this.finish();
    }
  }

  /** The lane is over: asked to (every request answered), or its socket went away. */
  private finish(message?: string): void {
    if (this.done) return;
    this.done = true;
    this.channel.bodies.failAll(message ?? 'the lane closed');
    this.server.close();
    if (!this.hello.destroyed) this.hello.destroy();
    if (this.socket && !this.socket.destroyed && message) this.socket.destroy();
    this.report({ type: 'lane-state', state: 'closed', ...(message ? { message } : {}) });
  }
}
