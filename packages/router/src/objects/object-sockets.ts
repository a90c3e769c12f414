// Durable Object WebSockets held by the host where the object lives (Cloudflare's hibernation
// API). `ctx.acceptWebSocket(server)` in the object hands the socket to this host: the object's
// sends and closes arrive as host calls (`wsSend`, `wsClose`), the client's messages go to the
// object as events (`webSocketMessage`, `webSocketClose`, `webSocketError`) through
// `dispatchObject`, so an idle object with open sockets holds no instance and can be evicted:
// the next message makes a new one. The client is attached when the 101 answer that carried
// the socket's ref (`<object id>:<socket id>`) reaches the router (`attach`). Auto-responses
// are answered here without waking the object.
import { serialize } from 'node:v8';
import type { Logger, WebSocketPeer } from '@pyworkers/isolate';
import type { HostWorker } from '../host/types.js';

/** One socket event for the object (`ws` of an object event). */
export interface SocketEvent {
  kind: 'message' | 'close' | 'error';
  id: string;
  tags: string[];
  attachment: unknown;
  data?: string | Uint8Array;
  code?: number;
  reason?: string;
  wasClean?: boolean;
  message?: string;
  /** A socket accepted with `server.accept()`: for the JS listeners of the instance. */
  listen?: boolean;
}

/** Whose a socket is: the object (by its host key) and how to send it an event. */
export interface SocketOwner {
  key: string;
  worker: HostWorker;
  className: string;
  id: string;
  name?: string;
}

/** Runs a socket event on the object (the host's `dispatchObject`); resolves when it ran. */
export type DeliverSocketEvent = (owner: SocketOwner, event: SocketEvent) => Promise<void>;

/** The largest attachment a socket keeps (Cloudflare: 16 KiB serialized). */
export const MAX_ATTACHMENT_BYTES = 16 * 1024;
/** A socket whose 101 answer did not reach the router by then is closed (1006). */
export const ATTACH_WITHIN_MS = 30_000;

interface Held {
  sid: string;
  owner: SocketOwner;
  tags: string[];
  attachment: unknown;
  /** False once the object or the client closed it. */
  open: boolean;
  end?: HeldEnd;
  /** What the object sent before the client was attached. */
  pending: (string | Uint8Array)[];
  /** The object closed it before the client was attached: the close it gets on attach. */
  closedWith?: [number, string];
  autoAt: number | null;
  timer?: NodeJS.Timeout;
  /** Accepted with `server.accept()`: not hibernatable (its listeners are in the instance). */
  listen: boolean;
}

interface Owned {
  sockets: Set<string>;
  auto?: { request: string; response: string };
}

/** The socket's end the router relays the real client to (what `attach` returns). */
class HeldEnd implements WebSocketPeer {
  #message: WebSocketPeer['onmessage'];
  #close: WebSocketPeer['onclose'];

  constructor(
    private readonly held: Held,
    private readonly sockets: ObjectSockets,
  ) {}

  get onmessage(): WebSocketPeer['onmessage'] {
    return this.#message;
  }

  set onmessage(fn: WebSocketPeer['onmessage']) {
    this.#message = fn;
    if (!fn) return;
    const queued = this.held.pending;
    this.held.pending = [];
    for (const data of queued) fn(data);
  }

  get onclose(): WebSocketPeer['onclose'] {
    return this.#close;
  }

  set onclose(fn: WebSocketPeer['onclose']) {
    this.#close = fn;
    if (fn && this.held.closedWith) fn(...this.held.closedWith);
  }

  /** A message from the client (no credit window: held sockets are not relayed on). */
  send(data: string | Uint8Array): undefined {
    this.sockets.fromClient(this.held, data);
    return undefined;
  }

  /** The client closed (1006: the connection broke; a reason with it is the error). */
  close(code = 1005, reason = ''): void {
    this.sockets.clientClosed(this.held, code, reason);
  }
}

const refuse = (code: string, message: string): Error =>
  Object.assign(new Error(message), { code });

/** Every hibernatable socket of one host's objects. */
export class ObjectSockets {
  readonly #held = new Map<string, Held>();
  readonly #owned = new Map<string, Owned>();

  constructor(
    private readonly deliver: DeliverSocketEvent,
    private readonly logger: Logger,
  ) {}

  /** Open sockets of the object `key` (a new instance lists them: `ws_list`). */
  count(key: string): number {
    return this.#owned.get(key)?.sockets.size ?? 0;
  }

  /** A socket call of the object (`wsAccept`, `wsSend`, ...): answered at once, in order. */
  call(owner: SocketOwner, method: string, args: unknown[]): unknown {
    if (method === 'wsAccept')
      return this.#accept(owner, String(args[0]), args[1], args[2] === true);
    if (method === 'wsList') return this.#list(owner.key);
    if (method === 'wsAutoResponse') {
      const owned = this.#own(owner.key);
      const [request, response] = args;
      if (typeof request === 'string' && typeof response === 'string')
        owned.auto = { request, response };
      else delete owned.auto;
      return null;
    }
    const held = this.#held.get(String(args[0]));
    if (!held || held.owner.key !== owner.key)
      throw refuse('ERR_DO_WEBSOCKET', 'this WebSocket is not one of this object');
    if (method === 'wsSend') return this.#send(held, args[1]);
    if (method === 'wsClose') {
      const code = Number(args[1] ?? 1000);
      const reason = String(args[2] ?? '');
      const hibernatable = held.open && !held.listen;
      this.#close(held, code, reason);
      // The object closed it: webSocketClose still comes, as on Cloudflare (where it is the
      // client's answering close frame; here it is sent now, with the object's code and
      // reason, which a client echoes: the hop to the router ends a session at its first close).
      if (hibernatable) this.#event(held, { kind: 'close', code, reason, wasClean: true });
      return null;
    }
    if (method === 'wsAttachment') return this.#attachment(held, args[1]);
    if (method === 'wsAutoResponseTime') return held.autoAt;
    throw refuse('ERR_BINDING_METHOD', `ctx WebSocket call ${JSON.stringify(method)} is unknown`);
  }

  #own(key: string): Owned {
    let owned = this.#owned.get(key);
    if (!owned) {
      owned = { sockets: new Set() };
      this.#owned.set(key, owned);
    }
    return owned;
  }

  #accept(owner: SocketOwner, sid: string, tags: unknown, listen: boolean): null {
    if (!/^[0-9a-f]{32}$/.test(sid) || this.#held.has(sid))
      throw refuse('ERR_DO_WEBSOCKET', 'acceptWebSocket(): bad socket id');
    const held: Held = {
      sid,
      owner,
      tags: Array.isArray(tags) ? tags.map(String) : [],
      attachment: null,
      open: true,
      pending: [],
      autoAt: null,
      listen,
    };
    held.timer = setTimeout(() => {
      if (held.end) return;
      this.logger.warn(
        { worker: owner.worker.name, className: owner.className },
        'a WebSocket the object accepted was never returned to a client (a 101 response from stub.fetch); closed',
      );
      this.clientClosed(held, 1006, '');
    }, ATTACH_WITHIN_MS);
    held.timer.unref();
    this.#held.set(sid, held);
    this.#own(owner.key).sockets.add(sid);
    return null;
  }

  #list(key: string): { sockets: unknown[]; auto: [string, string] | null } {
    const owned = this.#owned.get(key);
    const sockets = [...(owned?.sockets ?? [])]
      .map((sid) => this.#held.get(sid))
      .filter((h): h is Held => !!h && h.open && !h.listen)
      .map((h) => ({ id: h.sid, tags: h.tags, attachment: h.attachment }));
    return { sockets, auto: owned?.auto ? [owned.auto.request, owned.auto.response] : null };
  }

  #send(held: Held, data: unknown): null {
    if (!held.open) return null;
    const payload = typeof data === 'string' || data instanceof Uint8Array ? data : String(data);
    const deliver = held.end?.onmessage;
    if (deliver) deliver(payload);
    else held.pending.push(payload);
    return null;
  }

  #close(held: Held, code: number, reason: string): null {
    if (!held.open) return null;
    if (!held.end) held.closedWith = [code, reason];
    this.#gone(held);
    held.end?.onclose?.(code, reason);
    return null;
  }

  #attachment(held: Held, value: unknown): null {
    const size = value === null || value === undefined ? 0 : serialize(value).byteLength;
    if (size > MAX_ATTACHMENT_BYTES) {
      this.logger.warn(
        { worker: held.owner.worker.name, className: held.owner.className, bytes: size },
        `serializeAttachment(): the value is more than ${MAX_ATTACHMENT_BYTES} bytes serialized; it is not kept past this instance`,
      );
      return null;
    }
    held.attachment = value ?? null;
    return null;
  }

  /** Takes a socket off the object's open ones (it stays reachable until its client is gone). */
  #gone(held: Held): void {
    held.open = false;
    const owned = this.#owned.get(held.owner.key);
    owned?.sockets.delete(held.sid);
    if (owned && owned.sockets.size === 0 && !owned.auto) this.#owned.delete(held.owner.key);
    // Closed before its client came: kept until attached (or the attach timer ends it).
    if (!held.closedWith) {
      this.#held.delete(held.sid);
      if (held.timer) clearTimeout(held.timer);
    }
  }

  /**
   * The client end of the socket `ref` (`<object id>:<socket id>`), once: the router relays
   * the real client to it. Refused for a socket that is unknown here or attached already.
   */
  attach(ref: string): WebSocketPeer {
    const sep = ref.indexOf(':');
    const held = sep > 0 ? this.#held.get(ref.slice(sep + 1)) : undefined;
    if (!held || held.end || held.owner.id !== ref.slice(0, sep))
      throw refuse(
        'ERR_DO_WEBSOCKET',
        'the WebSocket of this 101 response is not held here (closed, or attached already)',
      );
    if (held.timer) clearTimeout(held.timer);
    held.end = new HeldEnd(held, this);
    // Closed by the object before the client came: it gets that close once attached.
    if (held.closedWith) this.#held.delete(held.sid);
    return held.end;
  }

  /** @internal A message from the client: auto-response, or an event for the object. */
  fromClient(held: Held, data: string | Uint8Array): void {
    if (!held.open) return;
    const auto = this.#owned.get(held.owner.key)?.auto;
    if (auto && typeof data === 'string' && data === auto.request) {
      held.autoAt = Date.now();
      held.end?.onmessage?.(auto.response);
      return;
    }
    this.#event(held, { kind: 'message', data });
  }

  /** @internal The client closed, or its connection broke (1006). */
  clientClosed(held: Held, code: number, reason: string): void {
    if (!held.open) {
      this.#held.delete(held.sid);
      return;
    }
    this.#gone(held);
    this.#held.delete(held.sid);
    if (code === 1006 && reason) this.#event(held, { kind: 'error', message: reason });
    this.#event(held, {
      kind: 'close',
      code,
      reason: code === 1006 ? '' : reason,
      wasClean: code !== 1006,
    });
  }

  #event(held: Held, event: Omit<SocketEvent, 'id' | 'tags' | 'attachment'>): void {
    const { owner } = held;
    this.deliver(owner, {
      ...event,
      id: held.sid,
      tags: held.tags,
      attachment: held.attachment,
      ...(held.listen ? { listen: true } : {}),
    } as SocketEvent).catch((err: unknown) =>
      this.logger.warn(
        { worker: owner.worker.name, className: owner.className, err: (err as Error)?.message },
        `durable object WebSocket ${event.kind} event not delivered`,
      ),
    );
  }

  /** Whether the object has a socket open that its instance listens to (it must stay live). */
  holdsInstance(key: string): boolean {
    for (const sid of this.#owned.get(key)?.sockets ?? [])
      if (this.#held.get(sid)?.listen) return true;
    return false;
  }

  /**
   * The object's instance is gone: the sockets its listeners were for close (1011); with no
   * socket left open, nothing of it is kept here.
   */
  forget(key: string): void {
    for (const sid of [...(this.#owned.get(key)?.sockets ?? [])]) {
      const held = this.#held.get(sid);
      if (held?.listen) this.#close(held, 1011, 'the Durable Object that accepted it went away');
    }
    if (this.#owned.get(key)?.sockets.size === 0) this.#owned.delete(key);
  }

  /** The host is closing: every client is told 1001 (going away). */
  close(): void {
    for (const held of [...this.#held.values()]) {
      if (held.timer) clearTimeout(held.timer);
      held.open = false;
      held.end?.onclose?.(1001, 'the server is shutting down');
    }
    this.#held.clear();
    this.#owned.clear();
  }
}
