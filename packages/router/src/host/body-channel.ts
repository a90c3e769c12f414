// Body bytes between the router and a host process travel on a socket of their own (a
// socketpair the router creates as one more stdio slot of the host process), not on Node's
// IPC channel. IPC with 'advanced' serialization serializes each chunk into a buffer, writes
// it, collects it back on the other side and deserializes it into a fresh copy: three copies
// and an ArrayBuffer per chunk per side. Here a chunk is one frame written straight from its
// buffer (writev), and the receiver hands on the pieces of what it read as they are (views of
// the read buffer, no copy). Head messages (request, response, results) stay on IPC.
//
// Frame: u32 LE payload length | u8 kind | u32 LE stream id | payload.
//   chunk  payload = body bytes (the receiver may hand them on in several pieces)
//   end    payload = empty, or the UTF-8 error message of a body that failed
//   credit payload = u32 LE bytes the receiver consumed
//   cancel payload = empty
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type BodyMessage, type BufferPool, isSmall, releaseChunk } from '@pyworkers/isolate';

/** The host process's fd of its end of the body channel (one more stdio slot of fork). */
export const BODY_FD = 4;

const HEADER_BYTES = 9;
const CHUNK = 1;
const END = 2;
const END_ERROR = 3;
const CREDIT = 4;
const CANCEL = 5;
/** Frames other than chunks carry a few bytes (a credit, an error message): at most this. */
const MAX_SMALL_BYTES = 64 * 1024;

/** One side of a body channel. */
export interface BodyChannel {
  /**
   * Sends one body message; writes made in one tick go out as one writev. `false` after a
   * chunk: more than {@link QUEUE_LIMIT_BYTES} wait to be written; the socket's `drain` says
   * when there is room (BodyStreams.drained).
   */
  post(msg: BodyMessage): boolean;
  /** Parses bytes read from the socket (for a socket opened with {@link openBodySocket}). */
  read(data: Buffer): void;
  /** Stops reading and writing (the process went away). */
  close(): void;
}

/**
 * Bytes that may wait in a channel's socket before senders are held back. Credits bound what a
 * peer that reads may be sent; this bounds what one that credits without reading costs.
 */
export const QUEUE_LIMIT_BYTES = 4 * 1024 * 1024;

/** What a socket read into at once (the kernel's socket buffer holds ~200 KiB). */
const READ_BYTES = 256 * 1024;

/**
 * The host process's end of the channel: `fd`, read into one reused buffer (no allocation per
 * read), each read handed to `onRead` before the next (so it must copy what it keeps).
 */
export function openBodySocket(fd: number, onRead: (data: Buffer) => void): Socket {
  // node:net takes `onread` here too (its types list it only for connect()).
  return new Socket({
    fd,
    readable: true,
    writable: true,
    onread: {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (bytes: number, buf: Uint8Array) => {
        onRead(Buffer.from(buf.buffer, buf.byteOffset, bytes));
        return true;
      },
    },
  } as ConstructorParameters<typeof Socket>[0]);
}

/**
 * Frames body messages onto `socket` and parses the frames it reads into messages for
 * `onMessage`. A `body-chunk` may arrive split into several: views of a read buffer, or with
 * `pool` copies into its buffers (a socket from {@link openBodySocket}, whose reads go to
 * {@link BodyChannel.read}). A frame that breaks the format (the other side is broken or
 * hostile) stops the channel and goes to `broken`.
 */
export function bodyChannel(
  socket: Duplex,
  onMessage: (msg: BodyMessage) => void,
  broken: (err: Error) => void,
  pool?: BufferPool,
): BodyChannel {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  const frame = (kind: number, id: number, payloadBytes: number): Buffer => {
    const head = Buffer.allocUnsafe(HEADER_BYTES);
    head.writeUInt32LE(payloadBytes, 0);
    head[4] = kind;
    head.writeUInt32LE(id, 5);
    return head;
  };
  const post = (msg: BodyMessage): boolean => {
    if (socket.destroyed || !socket.writable) return true;
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    switch (msg.type) {
      case 'body-chunk': {
        socket.write(frame(CHUNK, msg.id, msg.chunk.byteLength));
        const chunk = msg.chunk;
        // Written: a pooled buffer can go back to its isolate thread.
        socket.write(chunk, () => releaseChunk(chunk));
        return socket.writableLength <= QUEUE_LIMIT_BYTES;
      }
      case 'body-end': {
        if (msg.error === undefined) {
          socket.write(frame(END, msg.id, 0));
          return true;
        }
        const text = Buffer.from(msg.error, 'utf8');
        socket.write(frame(END_ERROR, msg.id, text.byteLength));
        socket.write(text);
        return true;
      }
      case 'body-credit': {
        const head = frame(CREDIT, msg.id, 4);
        socket.write(head);
        const bytes = Buffer.allocUnsafe(4);
        bytes.writeUInt32LE(msg.bytes, 0);
        socket.write(bytes);
        return true;
      }
      case 'body-cancel':
        socket.write(frame(CANCEL, msg.id, 0));
        return true;
    }
  };

  const onData = frameReader(
    onMessage,
    (err) => {
      socket.off('data', onData);
      socket.destroy();
      broken(err);
    },
    pool,
  );
  if (!pool) socket.on('data', onData);
  // Errors end with the process: its exit fails every stream (ChildHost / host-process).
  socket.on('error', () => {});
  return {
    post,
    read: onData,
    close() {
      socket.off('data', onData);
      socket.destroy();
    },
  };
}

/**
 * The parser of a body channel's byte stream: feed it what the socket reads, in any pieces;
 * it calls `onMessage` per frame (a chunk's bytes as views of `data`, possibly several; with
 * `pool`, copied into pooled buffers, one message per buffer, each the only view of it).
 */
export function frameReader(
  onMessage: (msg: BodyMessage) => void,
  broken: (err: Error) => void,
  pool?: BufferPool,
): (data: Buffer) => void {
  // Parser state: the header being collected, then the payload still to come.
  const head = Buffer.alloc(HEADER_BYTES);
  let headHave = 0;
  let kind = 0;
  let id = 0;
  let remaining = 0;
  // A non-chunk payload (credit, error text), collected whole.
  let small: Buffer | undefined;
  let smallHave = 0;
  // With a pool: the buffer the chunk being read is copied into.
  let fill: Uint8Array | undefined;
  let fillAt = 0;
  const flush = (): void => {
    if (!fill) return;
    if (isSmall(fillAt, fill.byteLength)) {
      // A few bytes: a buffer of their own (see isSmall); the pooled one fills the next chunk.
      onMessage({ type: 'body-chunk', id, chunk: fill.slice(0, fillAt) });
      fillAt = 0;
      return;
    }
    onMessage({ type: 'body-chunk', id, chunk: new Uint8Array(fill.buffer, 0, fillAt) });
    fill = undefined;
    fillAt = 0;
  };
  const copyChunk = (data: Buffer, from: number, bytes: number): void => {
    while (bytes > 0) {
      fill ??= new Uint8Array(pool!.take());
      const n = Math.min(bytes, fill.byteLength - fillAt);
      fill.set(data.subarray(from, from + n), fillAt);
      fillAt += n;
      from += n;
      bytes -= n;
      if (fillAt === fill.byteLength) flush();
    }
  };

  const finish = (): void => {
    switch (kind) {
      case END:
        onMessage({ type: 'body-end', id });
        break;
      case END_ERROR:
        onMessage({ type: 'body-end', id, error: small!.toString('utf8') });
        break;
      case CREDIT:
        onMessage({ type: 'body-credit', id, bytes: small!.readUInt32LE(0) });
        break;
      case CANCEL:
        onMessage({ type: 'body-cancel', id });
        break;
      case CHUNK:
        flush();
        break;
    }
    small = undefined;
    headHave = 0;
  };
  let failed = false;

  return (data: Buffer): void => {
    if (failed) return;
    let at = 0;
    const end = data.byteLength;
    while (at < end) {
      if (headHave < HEADER_BYTES) {
        const take = Math.min(HEADER_BYTES - headHave, end - at);
        data.copy(head, headHave, at, at + take);
        headHave += take;
        at += take;
        if (headHave < HEADER_BYTES) return;
        remaining = head.readUInt32LE(0);
        kind = head[4]!;
        id = head.readUInt32LE(5);
        const bad =
          kind < CHUNK || kind > CANCEL
            ? `unknown frame kind ${kind}`
            : kind !== CHUNK && remaining > MAX_SMALL_BYTES
              ? `a frame of kind ${kind} with ${remaining} bytes`
              : kind === CREDIT && remaining !== 4
                ? `a credit frame of ${remaining} bytes`
                : undefined;
        if (bad) {
          failed = true;
          broken(new Error(`body channel: ${bad}`));
          return;
        }
        if (kind !== CHUNK && remaining > 0) {
          small = Buffer.allocUnsafe(remaining);
          smallHave = 0;
        }
        if (remaining === 0) {
          finish();
          continue;
        }
      }
      const take = Math.min(remaining, end - at);
      if (kind === CHUNK && pool) copyChunk(data, at, take);
      else if (kind === CHUNK) {
        onMessage({ type: 'body-chunk', id, chunk: data.subarray(at, at + take) });
      } else {
        data.copy(small!, smallHave, at, at + take);
        smallHave += take;
      }
      at += take;
      remaining -= take;
      if (remaining === 0) finish();
    }
  };
}
