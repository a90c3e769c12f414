// Messages over a byte stream (a Unix socket): a 4-byte big-endian length, then the message
// V8-serialized (structured clone, as worker_threads and the IPC channel's 'advanced'
// serialization carry it). Used by the lanes between the router and isolate threads and by
// the peer channel between host processes. A body chunk (`{ type: 'body-chunk', id, chunk }`)
// is a frame of its own, not serialized: a 0x01 byte (a V8 serialization starts with 0xFF),
// the stream id (u32 BE), then the bytes as they are; the reader hands them on as a view of
// what it read, without a copy.
import type { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';

/**
 * Calls `onMessage` with each message arriving on `socket`. A frame longer than `maxBytes`
 * destroys the socket with an error that says so (the peer is not speaking this protocol).
 */
export function readFrames(
  socket: Socket,
  onMessage: (msg: unknown) => void,
  maxBytes = 256 * 1024 * 1024,
): void {
  let parts: Buffer[] = [];
  let size = 0;
  let need = -1;
  const take = (n: number): Buffer => {
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = all.byteLength > n ? [all.subarray(n)] : [];
    size -= n;
    return all.subarray(0, n);
  };
  socket.on('data', (chunk: Buffer) => {
    parts.push(chunk);
    size += chunk.byteLength;
    for (;;) {
      if (need < 0) {
        if (size < 4) return;
        need = take(4).readUInt32BE(0);
        if (need > maxBytes) {
          socket.destroy(new Error(`frame of ${need} bytes is over the ${maxBytes} byte limit`));
          return;
        }
      }
      if (size < need) return;
      const frame = take(need);
      need = -1;
      onMessage(
        frame[0] === RAW_CHUNK
          ? { type: 'body-chunk', id: frame.readUInt32BE(1), chunk: frame.subarray(5) }
          : deserialize(frame),
      );
      if (socket.destroyed) return;
    }
  });
}

const RAW_CHUNK = 0x01;

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
