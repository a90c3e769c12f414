import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BodyStreams } from './body-stream.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('BodyStreams', () => {
  it('holds no chunk it already forwarded while the stream is still open', async () => {
    const refs: WeakRef<Uint8Array>[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 200; i++) {
        const chunk = new Uint8Array(64 * 1024);
        refs.push(new WeakRef(chunk));
        yield chunk;
      }
      await gate;
    }
    // Two ends of one hop, wired to each other (what IPC or postMessage does, minus the copy).
    const sender: BodyStreams = new BodyStreams((msg) => receiver.onMessage(msg));
    const receiver: BodyStreams = new BodyStreams((msg) => sender.onMessage(msg));
    const body = receiver.receive(1, true);
    const sent = sender.send(1, source(), true);
    let read = 0;
    const it = body[Symbol.asyncIterator]();
    while (read < 200) {
      const r = await it.next();
      if (r.done) break;
      read++;
    }
    // The producer now waits (the stream is open): the 200 chunks were read and dropped.
    for (let i = 0; i < 3; i++) {
      await tick();
      gc();
    }
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    // A sender that raced every chunk against one pending "cancelled" promise kept them all.
    expect(alive).toBeLessThan(10);
    release();
    expect((await it.next()).done).toBe(true);
    await sent;
  });
});
