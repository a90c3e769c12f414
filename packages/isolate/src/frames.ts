// Messages over a byte stream (a Unix socket): a 4-byte big-endian length, then the message
// V8-serialized (structured clone, as worker_threads and the IPC channel's 'advanced'
// serialization carry it). Used by the lanes between the router and isolate threads and by
// the peer channel between host processes. Three messages of a lane's every request have
// frames of their own, not serialized (a V8 serialization starts with 0xFF), and the reader
// hands their bytes on as a view of what it read, without a copy:
// - a body chunk (`{ type: 'body-chunk', id, chunk }`): 0x01, the stream id (u32 BE), the bytes;
// - a request with its whole body (`{ type: 'request', ... }`, RequestMessage) and a response
//   with its whole body (`{ type: 'response', ... }`, ResponseMessage): 0x02 or 0x03, the
//   length of a JSON array of the head (u32 BE), that JSON, then the body's bytes.
// V8's serializer cost a hello request ~17 us at each end of a lane; these frames cost ~5.
// Any other message that JSON carries without loss (internal/host-calls.ts jsonSafe: no
// undefined, -0, NaN, bigint, typed arrays or class instances) goes as JSON text, which starts
// with `{` or `[`: a Durable Object call and its answer on the peer channel cost ~8 and ~4 us
// to serialize and read back that way, ~15 and ~23 us with V8's serializer (measured, load ~5).
import type { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { lendChunk } from './body-stream.js';
import { type BufferPool, isSmall } from './buffer-pool.js';
import { jsonSafe } from './internal/host-calls.js';
import type { RequestMessage, ResponseMessage } from './internal/protocol.js';

/**
 * Calls `onMessage` with each message arriving on `socket`. A frame longer than `maxBytes`
 * destroys the socket with an error that says so (the peer is not speaking this protocol).
 * A body chunk's bytes are handed on as they arrive, as views of what the socket read: a
 * chunk frame that spans several reads comes as several `body-chunk` messages of the same id
 * (a body is a byte stream; its credits count bytes), never copied into one buffer.
 */
export function readFrames(
  socket: Socket,
  onMessage: (msg: unknown) => void,
  maxBytes = 256 * 1024 * 1024,
): void {
  socket.on(
    'data',
    frameParser(
      onMessage,
      (err) => socket.destroy(err),
      maxBytes,
      undefined,
      () => socket.destroyed,
    ),
  );
}

/**
 * The parser of {@link readFrames}: feed it what a socket read, in any pieces; it calls
 * `onMessage` per message, and `broken` (once, then nothing more) for a frame over `maxBytes`
 * or when `onMessage` closed the stream (`broken` undefined: it stops quietly).
 *
 * With `pool`, the bytes it is fed are a read buffer that is reused once it returns (a socket
 * opened with `onread`): it keeps and hands on only copies. A body chunk's bytes are copied into
 * the pool's buffers, one message per buffer (each the only view of it, given back to the pool
 * by {@link releaseChunk} once its consumer wrote it): a read then allocates nothing, where
 * Node's own reads allocate a buffer each, which V8 counts against the old generation's limit.
 */
export function frameParser(
  onMessage: (msg: unknown) => void,
  broken: (err: Error) => void,
  maxBytes = 256 * 1024 * 1024,
  pool?: BufferPool,
  stopped: () => boolean = () => false,
): (data: Buffer) => void {
  // What was read and not parsed yet, in the order read (copies, with a pool).
  const parts: Buffer[] = [];
  let size = 0;
  // The length of the frame whose head is being read (-1: its length is not read yet).
  let need = -1;
  // A body chunk being handed on: its stream id and the bytes of it still to come.
  let chunkId = 0;
  let chunkLeft = 0;
  // With a pool: the buffer the chunk being read is copied into, and how full it is.
  let fill: Uint8Array | undefined;
  let fillAt = 0;
  let failed = false;
  /** The next `n` bytes read, as one buffer: a view, copied when they span reads (or a pool's). */
  const take = (n: number): Buffer => {
    size -= n;
    const first = parts[0]!;
    if (first.byteLength >= n && !pool) {
      if (first.byteLength === n) parts.shift();
      else parts[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let at = 0; at < n; ) {
      const part = parts[0]!;
      const k = Math.min(part.byteLength, n - at);
      part.copy(out, at, 0, k);
      at += k;
      if (k === part.byteLength) parts.shift();
      else parts[0] = part.subarray(k);
    }
    return out;
  };
  /** With a pool: the chunk's bytes copied so far leave, in a buffer that is theirs. */
  const flush = (): void => {
    if (!fill || fillAt === 0) return;
    if (isSmall(fillAt, fill.byteLength)) {
      // A few bytes: a buffer of their own (see isSmall); the pooled one fills the next chunk.
      onMessage({ type: 'body-chunk', id: chunkId, chunk: fill.slice(0, fillAt) });
    } else {
      onMessage({
        type: 'body-chunk',
        id: chunkId,
        chunk: lendChunk(fill.subarray(0, fillAt), pool!),
      });
      fill = undefined;
    }
    fillAt = 0;
  };
  /** Hands on the chunk's bytes that were read: one view per read, or copied into the pool's buffers. */
  const passChunk = (): void => {
    while (chunkLeft > 0 && size > 0 && !stopped()) {
      const n = Math.min(chunkLeft, parts[0]!.byteLength);
      chunkLeft -= n;
      if (!pool) {
        onMessage({ type: 'body-chunk', id: chunkId, chunk: take(n) });
        continue;
      }
      const part = parts[0]!;
      for (let at = 0; at < n; ) {
        fill ??= new Uint8Array(pool.take());
        const k = Math.min(n - at, fill.byteLength - fillAt);
        fill.set(part.subarray(at, at + k), fillAt);
        fillAt += k;
        at += k;
        if (fillAt === fill.byteLength) flush();
      }
      if (n === part.byteLength) parts.shift();
      else parts[0] = part.subarray(n);
      size -= n;
      if (chunkLeft === 0) flush();
    }
  };
  const parse = (): void => {
    for (;;) {
      if (chunkLeft > 0) {
        passChunk();
        if (chunkLeft > 0 || stopped()) return;
      }
      if (need < 0) {
        if (size < 4) return;
        need = take(4).readUInt32BE(0);
        if (need > maxBytes) {
          failed = true;
          broken(new Error(`frame of ${need} bytes is over the ${maxBytes} byte limit`));
          return;
        }
      }
      if (size > 0 && need > CHUNK_HEAD_BYTES && parts[0]![0] === RAW_CHUNK) {
        // A body chunk: its head now, its bytes as they come (above).
        if (size < CHUNK_HEAD_BYTES) return;
        chunkId = take(CHUNK_HEAD_BYTES).readUInt32BE(1);
        chunkLeft = need - CHUNK_HEAD_BYTES;
        need = -1;
        continue;
      }
      if (size < need) return;
      const frame = take(need);
      need = -1;
      onMessage(decode(frame));
      if (stopped()) return;
    }
  };
  return (data: Buffer): void => {
    if (failed || stopped()) return;
    parts.push(data);
    size += data.byteLength;
    parse();
    // A reused read buffer: what is left of it for the next read is kept as a copy.
    if (pool)
      for (let i = 0; i < parts.length; i++)
        if (parts[i]!.buffer === data.buffer) parts[i] = Buffer.from(parts[i]!);
  };
}

const RAW_CHUNK = 0x01;
/** A body chunk frame's tag and stream id, before its bytes. */
const CHUNK_HEAD_BYTES = 5;
const REQUEST = 0x02;
const RESPONSE = 0x03;
const JSON_OBJECT = 0x7b; // '{'
const JSON_ARRAY = 0x5b; // '['

function decode(frame: Buffer): unknown {
  const tag = frame[0];
  if (tag === JSON_OBJECT || tag === JSON_ARRAY) return JSON.parse(frame.toString('utf8'));
  if (tag === RAW_CHUNK) {
    return { type: 'body-chunk', id: frame.readUInt32BE(1), chunk: frame.subarray(5) };
  }
  if (tag !== REQUEST && tag !== RESPONSE) return deserialize(frame);
  const end = 5 + frame.readUInt32BE(1);
  const head = JSON.parse(frame.toString('utf8', 5, end)) as unknown[];
  const body = frame.subarray(end);
  if (tag === RESPONSE) {
    const [id, status, headers] = head;
    return { type: 'response', id, status, headers, body };
  }
  const [id, method, url, headers, streamed] = head;
  return streamed
    ? { type: 'request', id, method, url, headers, body, streamed: true }
    : { type: 'request', id, method, url, headers, body };
}

type Plain = RequestMessage | ResponseMessage;

/** Writes a request or response as its own frame: the head as JSON, the body as it is. */
function writePlain(socket: Socket, msg: Plain): boolean {
  const head = JSON.stringify(
    msg.type === 'request'
      ? [msg.id, msg.method, msg.url, msg.headers, msg.streamed ? 1 : 0]
      : [msg.id, msg.status, msg.headers],
  );
  const size = Buffer.byteLength(head);
  const start = Buffer.allocUnsafe(9 + size);
  start.writeUInt32BE(5 + size + msg.body.byteLength, 0);
  start[4] = msg.type === 'request' ? REQUEST : RESPONSE;
  start.writeUInt32BE(size, 5);
  start.write(head, 9, size, 'utf8');
  if (msg.body.byteLength === 0) return socket.write(start);
  socket.cork();
  socket.write(start);
  const room = socket.write(msg.body);
  socket.uncork();
  return room;
}

const corked = new WeakSet<Socket>();

/**
 * Holds `socket`'s writes until this event-loop turn's check phase, then sends them in one
 * writev: the frames of every request (or answer) of one turn wake the other end once.
 */
export function corkTurn(socket: Socket): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

/**
 * Writes one message to `socket`; returns what `socket.write` did (false: wait for 'drain').
 * A body chunk's bytes are written as they are: `written` is called once they were (its
 * buffer may be reused then), at once for any other message.
 */
export function writeFrame(socket: Socket, msg: unknown, written?: () => void): boolean {
  const chunk = msg as { type?: string; id?: number; chunk?: Uint8Array };
  if (chunk.type === 'body-chunk' && chunk.chunk instanceof Uint8Array) {
    const head = Buffer.allocUnsafe(9);
    head.writeUInt32BE(5 + chunk.chunk.byteLength, 0);
    head[4] = RAW_CHUNK;
    head.writeUInt32BE(chunk.id!, 5);
    socket.cork();
    socket.write(head);
    const room = socket.write(chunk.chunk, written && (() => written()));
    socket.uncork();
    return room;
  }
  written?.();
  const plain = msg as Plain;
  if ((plain.type === 'request' || plain.type === 'response') && plain.body instanceof Uint8Array) {
    return writePlain(socket, plain);
  }
  if (jsonSafe(msg)) {
    const text = JSON.stringify(msg);
    const size = Buffer.byteLength(text);
    const frame = Buffer.allocUnsafe(4 + size);
    frame.writeUInt32BE(size, 0);
    frame.write(text, 4, size, 'utf8');
    return socket.write(frame);
  }
  const body = serialize(msg);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.byteLength, 0);
  // One writev, and the serialized bytes are not copied again.
  socket.cork();
  socket.write(head);
  const room = socket.write(body);
  socket.uncork();
  return room;
}
