// WebSocket upgrades: an `Upgrade: websocket` request goes to the worker like any request; a
// worker that accepts (101 with a WebSocketPair's client end, or ASGI `websocket.accept`)
// gets the connection, relayed frame by frame (text, binary, close codes; `ws` answers pings),
// with a credit window each way (@pyworkers/isolate `WEBSOCKET_WINDOW_BYTES`): toward a worker
// that reads slowly, and from a worker to a client that reads slowly.
// Any other answer is written to the socket as a plain HTTP response.
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type IsolateStreamingResponse, readWhole, type WebSocketPeer } from '@pyworkers/isolate';
import { type WebSocket, WebSocketServer } from 'ws';

/** Largest WebSocket message accepted from a client (Cloudflare's limit is 1 MiB). */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;

/**
 * Most bytes of a worker's messages the router holds for a client that is not reading them
 * (8 messages of the largest size): past it the connection is dropped, and the worker's socket
 * closes with 1006 and the reason, instead of the router buffering without bound.
 */
export const MAX_WEBSOCKET_BUFFERED_BYTES = 8 * MAX_WEBSOCKET_MESSAGE_BYTES;

// Written by the handshake itself, never copied from the worker's answer.
const HANDSHAKE_HEADERS = new Set([
  'sec-websocket-protocol',
  'sec-websocket-accept',
  'sec-websocket-extensions',
  'upgrade',
  'connection',
]);

// Close codes that may not be sent in a close frame (RFC 6455 7.4.1).
const UNSENDABLE = new Set([1005, 1006, 1015]);

/** Handshakes for accepted upgrades; one per router. */
export function createUpgrader(): (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  response: IsolateStreamingResponse,
) => Promise<void> {
  const chosen = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
    clientTracking: false,
    handleProtocols: (_protocols, req) => chosen.get(req) ?? false,
  });
  return async (req, socket, head, response) => {
    const peer = response.webSocket;
    if (response.status !== 101 || !peer) {
      await writeRaw(socket, response);
      return;
    }
    const protocol = response.headers.find(([k]) => k.toLowerCase() === 'sec-websocket-protocol');
    if (protocol) chosen.set(req, protocol[1]);
    const extra = response.headers.filter(([k]) => !HANDSHAKE_HEADERS.has(k.toLowerCase()));
    const addHeaders = (headers: string[], r: IncomingMessage): void => {
      if (r !== req) return;
      for (const [k, v] of extra) headers.push(`${k}: ${v}`);
    };
    wss.on('headers', addHeaders);
    await new Promise<void>((resolve) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.off('headers', addHeaders);
        relay(ws, peer);
        resolve();
      });
    });
  };
}

/**
 * Bytes of a worker's messages waiting for the client's socket past which the router stops
 * crediting the worker (an ASGI app's `websocket.send` then waits), and the level at which it
 * credits again.
 */
export const HOLD_WEBSOCKET_ABOVE_BYTES = 1024 * 1024;
const RESUME_WEBSOCKET_BELOW_BYTES = 256 * 1024;

/** Frames both ways; a close on either side closes the other with the same code. */
function relay(ws: WebSocket, peer: WebSocketPeer): void {
  // A client that reads slowly: what waits for its socket stays near a window, and a worker
  // that ignores its window (sends in a loop without yielding) meets the bound above.
  let holding = false;
  const written = (): void => {
    if (holding && ws.bufferedAmount <= RESUME_WEBSOCKET_BELOW_BYTES) {
      holding = false;
      peer.resume?.();
    }
  };
  peer.onmessage = (data) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_WEBSOCKET_BUFFERED_BYTES) {
      peer.close(
        1006,
        `the client is not reading: over ${MAX_WEBSOCKET_BUFFERED_BYTES} bytes of messages are waiting for it`,
      );
      ws.terminate();
      return;
    }
    ws.send(data, { binary: typeof data !== 'string' }, written);
    if (!holding && ws.bufferedAmount > HOLD_WEBSOCKET_ABOVE_BYTES) {
      holding = true;
      peer.pause?.();
    }
  };
  peer.onclose = (code, reason) => {
    if (ws.readyState !== ws.OPEN) return;
    if (code === 1006) ws.terminate();
    else if (UNSENDABLE.has(code)) ws.close();
    else {
      try {
        ws.close(code, reason);
      } catch {
        // A code a client may not receive (out of range): close as an internal error.
        ws.close(1011);
      }
    }
  };
  // A worker that reads slowly: its window fills, and the client's next messages wait in the
  // client's own socket (ws stops reading it) until the worker credits what it took.
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (peer.send(isBinary ? new Uint8Array(data) : data.toString('utf8')) === false) ws.pause();
  });
  peer.ondrain = () => ws.resume();
  ws.on('close', (code: number, reason: Buffer) => peer.close(code, reason.toString('utf8')));
  ws.on('error', (err: Error) => {
    // The connection failed (a protocol error, a message over the limit): 1006 with the error.
    peer.close(1006, err.message);
    ws.terminate();
  });
}

/** A non-101 answer to an upgrade request, written straight to the socket. */
async function writeRaw(socket: Duplex, response: IsolateStreamingResponse): Promise<void> {
  const body = await readWhole(response.body);
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`];
  for (const [k, v] of response.headers) {
    const lower = k.toLowerCase();
    if (lower !== 'content-length' && lower !== 'transfer-encoding' && lower !== 'connection')
      lines.push(`${k}: ${v}`);
  }
  lines.push(`content-length: ${body.byteLength}`, 'connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}

/** A small answer of the router itself to an upgrade request (404, 502, ...). */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = Buffer.from(text);
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: ${body.byteLength}\r\nconnection: close\r\n\r\n`,
      ),
      body,
    ]),
  );
}
