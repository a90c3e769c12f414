// Messages over a byte stream (a Unix socket): a 4-byte big-endian length, then the message
// V8-serialized (structured clone, as worker_threads and the IPC channel's 'advanced'
// serialization carry it). Used by the lanes between the router and isolate threads and by
// the peer channel between host processes.
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
      onMessage(deserialize(frame));
      if (socket.destroyed) return;
    }
  });
}

/** Writes one message to `socket`; returns what `socket.write` did (false: wait for 'drain'). */
export function writeFrame(socket: Socket, msg: unknown): boolean {
  const body = serialize(msg);
  const frame = Buffer.allocUnsafe(4 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  body.copy(frame, 4);
  return socket.write(frame);
}
