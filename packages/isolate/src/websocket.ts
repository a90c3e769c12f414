// WebSocket sessions across a message hop (router <-> host process <-> isolate thread): once a
// worker accepted an upgrade (`ws-accept`), text and binary messages and the close travel as
// `ws-message` / `ws-close` with the request's id, in both directions. A receiver credits what
// its consumer took (`ws-credit`); a sender with more than WEBSOCKET_WINDOW_BYTES uncredited says
// so (`send` returns false) until the credit comes back (`ondrain`), so a relay can stop reading:
// a client flooding a worker that reads slowly waits in its own socket, not in the hops' queues.
// Toward the client it is the same: the router stops crediting while the client's socket is
// full, and an ASGI app's `websocket.send` waits (`PairedWebSocket.writable`) until it drains.

/** The messages of one WebSocket session; `id` is that hop's request id. */
export type WebSocketMessage =
  | { type: 'ws-message'; id: number; data: string | Uint8Array }
  | { type: 'ws-close'; id: number; code: number; reason: string }
  /** The receiver's consumer took `bytes` of this session's messages. */
  | { type: 'ws-credit'; id: number; bytes: number };

/**
 * Bytes of messages a sender may have uncredited per session before `send` returns false (text
 * counted in UTF-16 code units). One message of the largest size a client may send (1 MiB) fits.
 */
export const WEBSOCKET_WINDOW_BYTES = 1024 * 1024;

/** Whether a message belongs to a WebSocket session (and should go to {@link WebSockets}). */
export function isWebSocketMessage(msg: { type: string }): msg is WebSocketMessage {
  return msg.type === 'ws-message' || msg.type === 'ws-close' || msg.type === 'ws-credit';
}

const sizeOf = (data: string | Uint8Array): number =>
  typeof data === 'string' ? data.length : data.byteLength;

/**
 * One end of an accepted WebSocket: what the router relays to and from the real client.
 * Messages that arrive before `onmessage` is set are kept and delivered when it is.
 */
export interface WebSocketPeer {
  /** False (from a peer with a credit window): wait for `ondrain` before sending more. */
  send(data: string | Uint8Array): boolean | undefined;
  /** Bytes sent and not credited back yet (a peer with a credit window). */
  readonly bufferedAmount?: number;
  close(code?: number, reason?: string): void;
  /** Called once the other side credited enough after `send` returned false. */
  ondrain?: (() => void) | undefined;
  /** Stop crediting what arrives (a relay whose next hop is full); `resume` credits it. */
  pause?(): void;
  resume?(): void;
  /** Called with each message from the other side (text as string, binary as Uint8Array). */
  onmessage: ((data: string | Uint8Array) => void) | undefined;
  /** Called once when the other side closed (or went away: code 1006). */
  onclose: ((code: number, reason: string) => void) | undefined;
}

type Post = (msg: WebSocketMessage) => void;

class PeerEnd implements WebSocketPeer {
  private pending: (string | Uint8Array)[] = [];
  private closedWith: [number, string] | undefined;
  private message: WebSocketPeer['onmessage'];
  private closeHandler: WebSocketPeer['onclose'];
  /** Bytes sent and not credited back yet. */
  private unacked = 0;
  /** Bytes taken and not credited yet: a quarter window at a time, or all on resume. */
  private taken = 0;
  private paused = false;
  ondrain: (() => void) | undefined;
  closed = false;

  constructor(
    private readonly id: number,
    private readonly post: Post,
    private readonly done: () => void,
  ) {}

  get onmessage(): WebSocketPeer['onmessage'] {
    return this.message;
  }

  set onmessage(fn: WebSocketPeer['onmessage']) {
    this.message = fn;
    if (!fn) return;
    const queued = this.pending;
    this.pending = [];
    for (const data of queued) {
      fn(data);
      this.credit(sizeOf(data));
    }
  }

  get onclose(): WebSocketPeer['onclose'] {
    return this.closeHandler;
  }

  set onclose(fn: WebSocketPeer['onclose']) {
    this.closeHandler = fn;
    if (fn && this.closedWith) fn(...this.closedWith);
  }

  get bufferedAmount(): number {
    return this.unacked;
  }

  send(data: string | Uint8Array): boolean {
    if (this.closed) return true;
    this.post({ type: 'ws-message', id: this.id, data });
    this.unacked += sizeOf(data);
    return this.unacked <= WEBSOCKET_WINDOW_BYTES;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.taken > 0) this.flush();
  }

  /** The other side's consumer took `bytes`. */
  credited(bytes: number): void {
    const over = this.unacked > WEBSOCKET_WINDOW_BYTES;
    this.unacked = Math.max(0, this.unacked - bytes);
    if (over && this.unacked <= WEBSOCKET_WINDOW_BYTES) this.ondrain?.();
  }

  /**
   * Credits in quarter windows, not per message (a chatty socket would double its messages):
   * a sender over the window has more than three quarters of one on the way, which crosses it.
   */
  private credit(bytes: number): void {
    this.taken += bytes;
    if (!this.paused && this.taken >= WEBSOCKET_WINDOW_BYTES / 4) this.flush();
  }

  private flush(): void {
    if (!this.closed) this.post({ type: 'ws-credit', id: this.id, bytes: this.taken });
    this.taken = 0;
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.post({ type: 'ws-close', id: this.id, code, reason });
    this.done();
  }

  deliver(data: string | Uint8Array): void {
    if (this.closed) return;
    if (!this.message) {
      this.pending.push(data);
      return;
    }
    this.message(data);
    this.credit(sizeOf(data));
  }

  remoteClose(code: number, reason: string): void {
    if (this.closedWith) return;
    this.closedWith = [code, reason];
    this.closed = true;
    this.done();
    this.closeHandler?.(code, reason);
  }
}

/** Every WebSocket session of one hop, by request id. */
export class WebSockets {
  private readonly open = new Map<number, PeerEnd>();

  constructor(private readonly post: Post) {}

  /** The local end of session `id`, whose other end is across the hop. */
  peer(id: number): WebSocketPeer {
    const end = new PeerEnd(id, this.post, () => this.open.delete(id));
    this.open.set(id, end);
    return end;
  }

  /** Routes one session message; false when no session of that id is open here. */
  onMessage(msg: WebSocketMessage): boolean {
    const end = this.open.get(msg.id);
    if (!end) return false;
    if (msg.type === 'ws-message') end.deliver(msg.data);
    else if (msg.type === 'ws-credit') end.credited(msg.bytes);
    else end.remoteClose(msg.code, msg.reason);
    return true;
  }

  /** The other side went away: every open session ends with 1006 (abnormal closure). */
  failAll(reason: string): void {
    for (const end of [...this.open.values()]) end.remoteClose(1006, reason);
  }

  /**
   * Relays two peers to each other (a host process between the router and an isolate): what
   * one receives the other sends, and a close on either side closes the other.
   */
  static join(a: WebSocketPeer, b: WebSocketPeer): void {
    // A full next hop stops the credit of this one, so the sender before it stops too.
    a.onmessage = (data) => {
      if (b.send(data) === false) a.pause?.();
    };
    b.onmessage = (data) => {
      if (a.send(data) === false) b.pause?.();
    };
    b.ondrain = () => a.resume?.();
    a.ondrain = () => b.resume?.();
    a.onclose = (code, reason) => b.close(code, reason);
    b.onclose = (code, reason) => a.close(code, reason);
  }
}
