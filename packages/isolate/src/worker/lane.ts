// The thread's end of a lane: a Unix socket on which the router sends this isolate its plain
// requests itself, past the host process's main thread (one process hop fewer each way). The
// thread answers them as it answers the host's (request-bridge.ts), on the socket. The host
// keeps what it decides: placement (it reads the lane's load from `load[0]`), eviction (it
// closes the lane first, see below), binding calls (they go to the host as always) and limits.
//
// Closing, so that no request is lost: the host posts `lane-close`; the thread says
// `lane-closing` on the socket; the router stops sending and answers `lane-closed` after the
// last request it sent; the thread answers every request it took, then reports `closed` to the
// host, which may evict the isolate.
import { connect, type Socket } from 'node:net';
import { BodyStreams, IPC_STREAM_WINDOW_BYTES, isBodyMessage } from '../body-stream.js';
import { responseBufferPool } from '../buffer-pool.js';
import { readFrames, writeFrame } from '../frames.js';
import type {
  FromWorker,
  LaneFrame,
  LaneOpenMessage,
  LaneStateMessage,
  RequestMessage,
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
  private readonly socket: Socket;
  private readonly channel: Channel;
  private readonly send: (msg: LaneFrame) => unknown;
  private inflight = 0;
  /** The router sent its last request (`lane-closed`). */
  private routerDone = false;
  private done = false;

  constructor(
    private readonly open: LaneOpenMessage,
    private readonly run: LaneRun,
    private readonly report: (msg: LaneStateMessage) => void,
  ) {
    const socket = connect(open.path);
    this.socket = socket;
    socket.setNoDelay(true);
    const post = (msg: unknown): boolean => {
      if (socket.destroyed) return true;
      const chunk = (msg as { type?: string; chunk?: Uint8Array }).chunk;
      // A pooled response buffer goes back to its pool once the socket wrote it.
      const pooled = chunk && chunk.byteOffset === 0 ? chunk.buffer : undefined;
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
    socket.on('drain', () => bodies.drained());
    socket.on('connect', () => {
      const { token, lane, worker, capacity, timeoutMs } = open;
      this.send({ type: 'lane-hello', token, lane, worker, capacity, timeoutMs });
      report({ type: 'lane-state', state: 'open' });
    });
    readFrames(socket, (msg) => this.onFrame(msg as RequestMessage | { type: 'lane-closed' }));
    socket.on('error', () => {});
    socket.on('close', () => this.finish('the router closed the lane'));
  }

  /** The host evicts the isolate: stop taking requests once the router has sent its last. */
  close(): void {
    if (this.done) {
      this.report({ type: 'lane-state', state: 'closed' });
      return;
    }
    this.send({ type: 'lane-closing' });
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
      this.socket.end();
      this.finish();
    }
  }

  /** The lane is over: asked to (every request answered), or its socket went away. */
  private finish(message?: string): void {
    if (this.done) return;
    this.done = true;
    this.channel.bodies.failAll(message ?? 'the lane closed');
    if (!this.socket.destroyed && message) this.socket.destroy();
    this.report({ type: 'lane-state', state: 'closed', ...(message ? { message } : {}) });
  }
}
