// Durable Object WebSockets accepted with `ctx.acceptWebSocket(server)` (the hibernation API):
// the host where the object lives holds the socket, not this isolate. What the object sends on
// `server` goes to the host as a host call nobody awaits (calls start in the order they are
// made, so sends and the close keep their order); what the client sends comes back as object
// events (`webSocketMessage`), so an object whose sockets are idle can be evicted and woken.
import { hostCall } from './host-channel.js';
import {
  type AttachmentStore,
  PairedWebSocket,
  setAttachmentStore,
  toData,
} from './websocket-pair.js';

/** The binding an object's storage and socket calls go out on (router/src/objects). */
const BINDING = '__pyworkers_do__';

/** A host call nobody awaits (a send, a close, an attachment): a refusal is dropped. */
export function hostPost(binding: string, method: string, ...args: unknown[]): void {
  hostCall(binding, method, args).catch(() => {});
}

/**
 * `ctx.acceptWebSocket(server, tags)`: the host now holds socket `sid` of the object whose
 * storage token is `token`; `ref` (`<object id>:<sid>`) is what the 101 answer carries. What
 * `server` sent before it was accepted goes out first.
 */
export function acceptHibernatable(
  server: unknown,
  token: string,
  sid: string,
  ref: string,
  tags: string[],
): void {
  if (!(server instanceof PairedWebSocket) || !server.peer)
    throw new TypeError(
      'ctx.acceptWebSocket() takes the server end of a WebSocketPair (client, server = WebSocketPair.new())',
    );
  const client = server.peer;
  if (server.hibernation || client.remote)
    throw new TypeError('this WebSocket was accepted (or returned in a response) already');
  // First: the host knows the socket before any send of it arrives.
  hostPost(BINDING, 'wsAccept', token, sid, tags);
  server.hibernation = { ref, sid };
  wire(client, token, sid);
}

/**
 * A socket the object accepted with `server.accept()` (the non-hibernating API) leaving
 * through its stub: the host holds it like a hibernatable one, but its messages go to the
 * listeners of `server`, and the object is not evicted while it is open.
 */
export function adoptAccepted(client: unknown, token: string, sid: string, ref: string): void {
  const server = client instanceof PairedWebSocket ? client.peer : undefined;
  if (!server?.isAccepted || server.hibernation || (client as PairedWebSocket).remote)
    throw new TypeError(
      'a WebSocket answered over a stub must be accepted by the Durable Object first: server.accept(), or self.ctx.acceptWebSocket(server) to let the object hibernate',
    );
  hostPost(BINDING, 'wsAccept', token, sid, [], true);
  server.hibernation = { ref, sid, listen: true };
  wire(client as PairedWebSocket, token, sid);
}

/** Whether `client` is the client end of a pair whose server end was `accept()`ed. */
export function acceptedPair(client: unknown): boolean {
  return client instanceof PairedWebSocket && !!client.peer?.isAccepted;
}

/** What the object sends on the pair goes to the host; what it sent already goes first. */
function wire(client: PairedWebSocket, token: string, sid: string): void {
  client.remote = {
    send: (data) => {
      hostPost(BINDING, 'wsSend', token, sid, data);
      return undefined;
    },
    close: (code, reason) => hostPost(BINDING, 'wsClose', token, sid, code ?? 1000, reason ?? ''),
    onmessage: undefined,
    onclose: undefined,
  };
  for (const event of client.takeBacklog()) {
    if (event.type === 'message') client.remote.send(toData((event as MessageEvent).data));
    else if (event.type === 'close') {
      const { code, reason } = event as Event & { code: number; reason: string };
      client.remote.close(code, reason);
    }
  }
}

/** The ref of the hibernatable socket whose client end `client` is, or null. */
export function hibernationRef(client: unknown): string | null {
  return client instanceof PairedWebSocket ? (client.peer?.hibernation?.ref ?? null) : null;
}

/** Python's sockets keep the attachments `server.serializeAttachment()` sets on the JS end. */
export function setWebSocketAttachments(store: AttachmentStore): void {
  setAttachmentStore(store);
}
