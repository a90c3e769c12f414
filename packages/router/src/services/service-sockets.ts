// WebSockets a service binding's fetch got back (the target worker answered the upgrade with a
// 101), held in the router until the caller's own 101 answer carries them to the client: the
// caller returns `await env.OTHER.fetch(request)` (a gateway in front of a chat worker) and the
// client's connection is relayed to the target's socket, as for a worker's own. The ref
// travels like a Durable Object socket's (`webSocketRef`). A socket no answer claims within
// `attachMs` is closed with 1011, so the table never grows without bound.
import { randomUUID } from 'node:crypto';
import type { WebSocketPeer } from '@pyworkers/isolate';
import { RouterError } from '../errors.js';

/** How the refs of these sockets start (a Durable Object socket's is `<object id>:<n>`). */
export const SERVICE_SOCKET_PREFIX = 'service:';

/** How long a held socket waits for the answer that carries it to a client. */
export const SERVICE_SOCKET_ATTACH_MS = 30_000;

interface Held {
  peer: WebSocketPeer;
  timer: NodeJS.Timeout;
}

/** The sockets of one router that wait for their client. */
export class ServiceSockets {
  readonly #held = new Map<string, Held>();

  constructor(private readonly attachMs = SERVICE_SOCKET_ATTACH_MS) {}

  /** Whether `ref` names a socket of this table (not a Durable Object's). */
  static owns(ref: string): boolean {
    return ref.startsWith(SERVICE_SOCKET_PREFIX);
  }

  get size(): number {
    return this.#held.size;
  }

  /** Keeps `peer` until an answer claims it; returns the ref that answer carries. */
  hold(peer: WebSocketPeer): string {
    const ref = `${SERVICE_SOCKET_PREFIX}${randomUUID()}`;
    const timer = setTimeout(() => {
      this.#held.delete(ref);
      peer.close(
        1011,
        `no response carried this WebSocket to a client within ${this.attachMs} ms (return the service fetch's 101 response from the caller's fetch)`,
      );
    }, this.attachMs);
    timer.unref();
    this.#held.set(ref, { peer, timer });
    return ref;
  }

  /** The socket `ref` names, once: the client is relayed to it from now on. */
  take(ref: string): WebSocketPeer {
    const held = this.#held.get(ref);
    if (!held)
      throw new RouterError(
        'ERR_SERVICE_SOCKET_GONE',
        `the WebSocket of this 101 response is not held here (claimed already, or not claimed within ${this.attachMs} ms)`,
      );
    this.#held.delete(ref);
    clearTimeout(held.timer);
    return held.peer;
  }

  /** The router closes: every socket still waiting ends (1001, going away). */
  close(): void {
    for (const [ref, held] of this.#held) {
      clearTimeout(held.timer);
      held.peer.close(1001, 'the router is shutting down');
      this.#held.delete(ref);
    }
  }
}
