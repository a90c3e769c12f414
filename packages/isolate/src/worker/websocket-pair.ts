// Cloudflare's `WebSocketPair` inside the isolate: `const [client, server] =
// Object.values(new WebSocketPair())`. The worker keeps `server` (accept, send, close, message
// and close events) and returns `client` in a 101 response; the runtime then connects `client`
// to the real connection through the host (see isolate-worker.ts).
import { WEBSOCKET_WINDOW_BYTES, type WebSocketPeer } from '../websocket.js';

interface PyProxyLike {
  toJs(): unknown;
  destroy(): void;
}

/** What `send()` takes, as the message to post: a str, or bytes of any kind. */
export function toData(data: unknown): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const proxy = data as PyProxyLike | null;
  if (proxy && typeof proxy.toJs === 'function') {
    // Python bytes handed straight to send(): take a copy out of the Python heap.
    const value = proxy.toJs();
    proxy.destroy();
    if (value instanceof Uint8Array) return value;
    if (typeof value === 'string') return value;
  }
  throw new TypeError('WebSocket.send() takes a str, bytes or an ArrayBuffer / typed array');
}

/** `readyState` values, as on a browser WebSocket. */
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** One end of a {@link WebSocketPair}. */
export class PairedWebSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readyState = OPEN;
  /** @internal */ peer: PairedWebSocket | undefined;
  /** @internal The host connection, once this end was handed out in a 101 response. */
  remote: WebSocketPeer | undefined;
  /**
   * @internal Set on the server end a Durable Object accepted with `ctx.acceptWebSocket`: the
   * socket's ref (`<object id>:<socket id>`); the host holds the socket from then on.
   */
  hibernation: { ref: string; sid: string; listen?: boolean } | undefined;
  private accepted = false;
  /** Sends waiting for the host to take what this end's far side holds (see `writable`). */
  private drainWaiters: (() => void)[] = [];

  /**
   * Bytes sent on this end that the real client has not taken yet, as far as this isolate
   * knows (a browser WebSocket's `bufferedAmount`): what the host has not credited back.
   */
  get bufferedAmount(): number {
    return this.peer?.remote?.bufferedAmount ?? 0;
  }

  /**
   * @internal `undefined` while this end may send more; else a promise that resolves once the
   * session is connected or the host's credit window has room again (or the socket closed):
   * ask again then. ASGI's `websocket.send` awaits it, so an app streaming to a client that
   * reads slowly waits instead of being cut off.
   */
  writable(): Promise<void> | undefined {
    const link = this.peer;
    if (!link || this.readyState !== OPEN || link.readyState !== OPEN) return undefined;
    const remote = link.remote;
    // Not connected yet (the 101 is on its way): what is sent waits in memory until it is.
    if (remote && (remote.bufferedAmount ?? 0) <= WEBSOCKET_WINDOW_BYTES) return undefined;
    return new Promise((resolve) => link.drainWaiters.push(resolve));
  }

  /** @internal The host's window has room again, or the session ended: sends go on. */
  wake(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** @internal Whether `accept()` was called (the non-hibernating API). */
  get isAccepted(): boolean {
    return this.accepted;
  }
  private backlog: Event[] = [];

  /** Starts delivering events (Cloudflare queues them until the worker accepts). */
  accept(): void {
    if (this.accepted) return;
    this.accepted = true;
    const events = this.backlog;
    this.backlog = [];
    for (const event of events) this.dispatchEvent(event);
  }

  send(data: unknown): void {
    if (this.readyState !== OPEN) throw new TypeError('WebSocket is not open: cannot send');
    const payload = toData(data);
    this.peer?.receive(payload);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= CLOSING) return;
    this.readyState = CLOSED;
    this.peer?.receiveClose(code, String(reason));
    this.peer?.wake(); // sends waiting for room end: they are dropped now
  }

  /** Cloudflare's `ws.serializeAttachment(value)` (hibernatable sockets: kept by the host). */
  serializeAttachment(value: unknown): void {
    attachments(this).set(this.hibernation!.sid, value);
  }

  /** Cloudflare's `ws.deserializeAttachment()`: what `serializeAttachment` kept, or null. */
  deserializeAttachment(): unknown {
    return attachments(this).get(this.hibernation!.sid);
  }

  /** @internal A message from the other end. */
  receive(data: string | Uint8Array): void {
    if (this.remote) {
      this.remote.send(data);
      return;
    }
    const body =
      typeof data === 'string'
        ? data
        : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    this.emit(new MessageEvent('message', { data: body }));
  }

  /** @internal The other end closed. */
  receiveClose(code: number, reason: string): void {
    if (this.remote) {
      this.remote.close(code, reason);
      return;
    }
    this.readyState = CLOSED;
    const event = new Event('close') as Event & { code: number; reason: string; wasClean: boolean };
    Object.assign(event, { code, reason, wasClean: code !== 1006 });
    this.emit(event);
  }

  /** @internal Events queued before accept(), taken once. */
  takeBacklog(): Event[] {
    const events = this.backlog;
    this.backlog = [];
    return events;
  }

  private emit(event: Event): void {
    if (this.accepted) this.dispatchEvent(event);
    else this.backlog.push(event);
  }
}

/** Where a hibernatable socket's attachment lives (the Python SDK's, see hibernation.ts). */
export interface AttachmentStore {
  set(sid: string, value: unknown): void;
  get(sid: string): unknown;
}

let attachmentStore: AttachmentStore | undefined;

/** @internal Installs the attachment store (the Python SDK's sockets, on first accept). */
export function setAttachmentStore(store: AttachmentStore): void {
  attachmentStore = store;
}

function attachments(ws: PairedWebSocket): AttachmentStore {
  if (!ws.hibernation || !attachmentStore)
    throw new TypeError(
      'serializeAttachment()/deserializeAttachment() are for WebSockets a Durable Object accepted with ctx.acceptWebSocket(ws)',
    );
  return attachmentStore;
}

/** `new WebSocketPair()`: `{ 0: client, 1: server }`, linked to each other. */
export class WebSocketPair {
  0: PairedWebSocket;
  1: PairedWebSocket;

  constructor() {
    const client = new PairedWebSocket();
    const server = new PairedWebSocket();
    client.peer = server;
    server.peer = client;
    this[0] = client;
    this[1] = server;
  }
}

/**
 * Connects the `client` end a worker returned to the host's session: what the worker sends on
 * `server` goes to the real client, and the real client's messages arrive on `server`.
 */
export function connectClient(client: PairedWebSocket, remote: WebSocketPeer): Promise<void> {
  const server = client.peer;
  if (!server)
    throw new TypeError('the web_socket of a 101 response must come from a WebSocketPair');
  client.remote = remote;
  client.readyState = OPEN;
  // What the worker sent before it returned the response goes out first, in order.
  for (const event of client.takeBacklog()) {
    if (event.type === 'message') remote.send(toData((event as MessageEvent).data));
    else if (event.type === 'close') {
      const { code, reason } = event as Event & { code: number; reason: string };
      remote.close(code, reason);
    }
  }
  client.wake();
  return new Promise((resolve) => {
    remote.onmessage = (data) => server.receive(data);
    remote.ondrain = () => client.wake();
    remote.onclose = (code, reason) => {
      server.receiveClose(code, reason);
      client.wake();
      resolve();
    };
    // The worker closing its end ends the session too.
    const close = remote.close.bind(remote);
    remote.close = (code, reason) => {
      close(code, reason);
      client.wake();
      resolve();
    };
  });
}

/**
 * Cloudflare's `new WebSocketRequestResponsePair(request, response)`: what
 * `ctx.setWebSocketAutoResponse()` takes; the host answers `request` with `response` on a
 * Durable Object's hibernatable sockets without waking the object.
 */
export class WebSocketRequestResponsePair {
  readonly request: string;
  readonly response: string;

  constructor(request: unknown, response: unknown) {
    if (typeof request !== 'string' || typeof response !== 'string')
      throw new TypeError('WebSocketRequestResponsePair(request, response) takes two strings');
    this.request = request;
    this.response = response;
  }
}
