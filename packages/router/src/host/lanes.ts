// The router's end of the lanes to one host process's isolates (@pyworkers/isolate's
// worker/lane.ts): a warm isolate's thread connects here, and the router sends it that
// worker's plain requests itself (a whole body, no WebSocket upgrade), past the host process's
// main thread: one process hop fewer each way. Everything else (cold starts, streamed request
// bodies, WebSockets, events, Durable Objects) still goes through the host, which keeps
// placement (it sees each lane's load), eviction (it closes a lane first: no request is lost),
// binding calls and limits. The request timeout is kept here: a request past it fails with
// ERR_ISOLATE_TIMEOUT and the host is asked to kill its isolate (`kill`).
//
// One socket path per host process, in a directory only the router's user can enter (0700);
// a thread must say the token the router gave its host before it gets a request. It says it
// there with the path it listens at (`lanePath`), and the router connects to it: the lane's
// socket is then one the router connected, which node:net lets it read into one reused buffer
// (`onread`), the body chunks copied into pooled buffers that go back once the client's socket
// wrote them. Reading into Node's own buffers allocated one per 64 KiB read, which V8 counts
// against the old generation's limit until a GC: streaming 100 MiB then ran a mark-compact
// every ~10 MiB in the router (~45% of its CPU).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorData } from '@pyworkers/common';
import {
  BodyStreams,
  BufferPool,
  corkTurn,
  errorFromThread,
  frameParser,
  IPC_STREAM_WINDOW_BYTES,
  IsolateError,
  type IsolateRequest,
  type IsolateStreamingResponse,
  isBodyMessage,
  type LaneFrame,
  type Logger,
  lanePath,
  RESPONSE_BUFFER_BYTES,
  readFrames,
  writeFrame,
} from '@pyworkers/isolate';

/** What a lane's thread answers on it. */
type Answer =
  | LaneFrame
  | { type: 'response'; id: number; status: number; headers: [string, string][]; body: Uint8Array }
  | { type: 'response-head'; id: number; status: number; headers: [string, string][] }
  | { type: 'error'; id?: number; error: ErrorData; traceback?: string };

interface Pending {
  resolve: (res: IsolateStreamingResponse) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** How long a lane whose socket closed waits for its host to say why, before it fails its requests. */
const LOST_GRACE_MS = 2_000;

/** What a lane's socket reads into at once (one buffer per lane, reused). */
const READ_BYTES = 256 * 1024;

/** The largest frame a lane may send (a whole response is at most INLINE_BODY_BYTES). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** One isolate's lane. */
class Lane {
  inflight = 0;
  /** The host is closing it: no more requests. */
  closing = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly bodies: BodyStreams;
  private gone: Error | undefined;
  private readonly failed: (() => void)[] = [];

  constructor(
    readonly hello: Extract<LaneFrame, { type: 'lane-hello' }>,
    private readonly socket: Socket,
    private readonly logger: Logger,
    private readonly kill: (lane: number, message: string) => void,
    private readonly closed: (lane: Lane) => void,
  ) {
    const post = (msg: unknown): boolean => socket.destroyed || writeFrame(socket, msg);
    // The window of the router <-> host hop (a socket between processes, as that one).
    this.bodies = new BodyStreams(post, false, IPC_STREAM_WINDOW_BYTES);
    socket.on('drain', () => this.bodies.drained());
  }

  get worker(): string {
    return this.hello.worker;
  }

  /** Whether it may take one more request now. */
  get open(): boolean {
    return !this.closing && !this.gone && this.inflight < this.hello.capacity;
  }

  fetch(request: IsolateRequest): Promise<IsolateStreamingResponse> {
    const id = this.nextId++;
    this.inflight++;
    return new Promise<IsolateStreamingResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const message = `${this.worker}: the request ran longer than ${this.hello.timeoutMs} ms; the isolate was terminated`;
        this.settle(id)?.reject(new IsolateError('ERR_ISOLATE_TIMEOUT', message));
        this.kill(this.hello.lane, message);
      }, this.hello.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // Every request of this turn in one write: the isolate thread wakes once for them.
      corkTurn(this.socket);
      writeFrame(this.socket, { type: 'request', id, ...request });
    }).then(
      (res) => this.untilDone(res),
      (err: unknown) => {
        this.inflight--;
        throw err;
      },
    );
  }

  /** The lane counts a request in flight until its body was read (or left). */
  private untilDone(res: IsolateStreamingResponse): IsolateStreamingResponse {
    if (res.body instanceof Uint8Array) {
      this.inflight--;
      return res;
    }
    const body = res.body;
    const done = (): void => {
      this.inflight--;
    };
    return {
      ...res,
      body: (async function* () {
        try {
          yield* body;
        } finally {
          done();
        }
      })(),
    };
  }

  onFrame(msg: Answer): void {
    if (isBodyMessage(msg as never)) {
      this.bodies.onMessage(msg as never);
      return;
    }
    switch (msg.type) {
      case 'response':
        this.settle(msg.id)?.resolve({ status: msg.status, headers: msg.headers, body: msg.body });
        return;
      case 'response-head':
        this.settle(msg.id)?.resolve({
          status: msg.status,
          headers: msg.headers,
          body: this.bodies.receive(msg.id),
        });
        return;
      case 'error':
        if (msg.id === undefined) return;
        this.logger.error({ worker: this.worker }, msg.traceback ?? msg.error.message);
        this.bodies.cancel(msg.id);
        this.bodies.fail(msg.id, msg.error.message);
        this.settle(msg.id)?.reject(errorFromThread(msg.error, 'ERR_ISOLATE_HANDLER'));
        return;
      case 'lane-closing':
        // Every request sent so far is ahead of this on the socket: the thread answers them.
        this.closing = true;
        writeFrame(this.socket, { type: 'lane-closed' });
        this.closed(this);
        return;
    }
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }

  /** Calls `fn` once the lane failed. */
  onFail(fn: () => void): void {
    if (this.gone) fn();
    else this.failed.push(fn);
  }

  /** The isolate exited or was killed: what still runs on the lane fails with `err`. */
  fail(err: Error): void {
    if (this.gone) return;
    this.gone = err;
    for (const fn of this.failed.splice(0)) fn();
    this.closed(this);
    this.bodies.failAll(err);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.socket.destroy();
  }
}

/** The lanes of one host process's isolates. */
export class LaneServer {
  readonly path: string;
  readonly token = randomBytes(18).toString('base64url');
  private readonly dir: string;
  private readonly server: Server;
  private readonly byWorker = new Map<string, Lane[]>();
  /** Every lane that said hello, by its number, until it failed. */
  private readonly byNumber = new Map<number, Lane>();
  private readonly sockets = new Set<Socket>();
  private served = 0;
  /** The buffers the lanes' body chunks are copied into, back once the client's socket wrote them. */
  private readonly pool = new BufferPool(RESPONSE_BUFFER_BYTES);

  constructor(
    private readonly hostId: number,
    private readonly logger: Logger,
    /** Asks the host to kill the isolate of lane `lane` (its request ran past the timeout). */
    private readonly kill: (lane: number, message: string) => void,
    /** The host's spread (LocalHostOptions): past `at` in flight, a worker with fewer than `to` lanes asks the host for another isolate. */
    private readonly spread: { at: number; to: number; may?: (worker: string) => boolean },
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'pyworkers-lanes-'));
    this.path = join(this.dir, `host-${hostId}.sock`);
    this.server = createServer((socket) => this.accept(socket));
    this.server.listen(this.path);
    this.server.unref();
  }

  /** A thread says where it listens for its lane (on this, the router's socket). */
  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
    let said = false;
    readFrames(
      socket,
      (msg) => {
        if (said) return;
        said = true;
        const hello = msg as Extract<LaneFrame, { type: 'lane-hello' }>;
        if (
          hello?.type !== 'lane-hello' ||
          hello.token !== this.token ||
          hello.path !== lanePath(this.path, hello.lane)
        ) {
          this.logger.warn({ host: this.hostId }, 'a lane connected without its token: closed');
          socket.destroy();
          return;
        }
        // The thread ends this socket once the lane's own one is open.
        this.attach(hello);
      },
      64 * 1024,
    );
  }

  /** Connects to the thread of `hello` and takes its lane. */
  private attach(hello: Extract<LaneFrame, { type: 'lane-hello' }>): void {
    let lane: Lane | undefined;
    let socket: Socket | undefined;
    const parse = frameParser(
      (msg) => lane?.onFrame(msg as Answer),
      (err) => socket?.destroy(err),
      MAX_FRAME_BYTES,
      this.pool,
      () => socket?.destroyed ?? true,
    );
    socket = connect({
      path: hello.path,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BYTES),
        callback: (bytes: number, buf: Uint8Array) => {
          parse(Buffer.from(buf.buffer, buf.byteOffset, bytes));
          return true;
        },
      },
    });
    this.sockets.add(socket);
    writeFrame(socket, { type: 'lane-accept', token: this.token } satisfies LaneFrame);
    const opened = new Lane(hello, socket, this.logger, this.kill, (l) => this.remove(l));
    lane = opened;
    this.byNumber.set(hello.lane, opened);
    const list = this.byWorker.get(hello.worker) ?? [];
    list.push(opened);
    this.byWorker.set(hello.worker, list);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      const crashed = new IsolateError(
        'ERR_ISOLATE_CRASHED',
        `isolate for ${opened.worker} exited`,
      );
      // Closed as asked (`lane-closing`): every request on it was answered, nothing to wait for.
      if (opened.closing) {
        this.fail(opened, crashed);
        return;
      }
      opened.closing = true;
      this.remove(opened);
      // The host tells why its isolate went (`lost`: a limit, a crash; or it exited itself);
      // if it says nothing, the isolate exited.
      const timer = setTimeout(() => this.fail(opened, crashed), LOST_GRACE_MS);
      timer.unref();
      opened.onFail(() => clearTimeout(timer));
    });
  }

  private remove(lane: Lane): void {
    const list = this.byWorker.get(lane.worker);
    if (!list) return;
    const at = list.indexOf(lane);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.byWorker.delete(lane.worker);
  }

  /**
   * Runs `request` on the least busy open lane of `worker`; undefined when it has none with
   * room (the request then goes through the host, which may start another isolate).
   */
  fetch(worker: string, request: IsolateRequest): Promise<IsolateStreamingResponse> | undefined {
    const list = this.byWorker.get(worker);
    if (!list) return undefined;
    let best: Lane | undefined;
    for (const lane of list) if (lane.open && (!best || lane.inflight < best.inflight)) best = lane;
    if (!best) return undefined;
    if (
      best.inflight >= this.spread.at &&
      list.length < this.spread.to &&
      (this.spread.may?.(worker) ?? true)
    )
      return undefined;
    this.served++;
    return best.fetch(request);
  }

  /** Lanes open now and requests sent on lanes so far. */
  stats(): { lanes: number; laneRequests: number } {
    let lanes = 0;
    for (const list of this.byWorker.values()) lanes += list.length;
    return { lanes, laneRequests: this.served };
  }

  /** The host lost the isolate of lane `lane`: the requests on it fail with `err`. */
  lost(lane: number, err: Error): void {
    const found = this.byNumber.get(lane);
    if (found) this.fail(found, err);
  }

  private fail(lane: Lane, err: Error): void {
    this.byNumber.delete(lane.hello.lane);
    lane.fail(err);
  }

  /** The host process is gone: every lane's requests fail with `err`. */
  failAll(err: Error): void {
    for (const lane of [...this.byNumber.values()]) this.fail(lane, err);
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
