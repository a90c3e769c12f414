import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isRouterError } from '../errors.js';
import { READ_JOIN_BYTES, ServiceStreams } from './response-streams.js';

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

/** A body whose chunks the test hands out, recording whether its reader left. */
function body() {
  const queue: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const state = { returned: false };
  const iterable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        for (;;) {
          const chunk = queue.shift();
          if (chunk) return { value: chunk, done: false };
          if (ended || state.returned) return { value: undefined, done: true };
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      },
      async return() {
        state.returned = true;
        wake?.();
        return { value: undefined, done: true };
      },
    }),
  };
  return {
    iterable,
    state,
    push(chunk: Uint8Array) {
      queue.push(chunk);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

describe('ServiceStreams', () => {
  it('returns a body that ended at once whole, without an id', async () => {
    const streams = new ServiceStreams('t');
    const b = body();
    b.push(bytes(3));
    b.push(bytes(2));
    b.end();
    const opened = await streams.open(b.iterable, 'caller', 'S.fetch()');
    expect(opened.id).toBeUndefined();
    expect(opened.body.byteLength).toBe(5);
    expect(streams.size).toBe(0);
  });

  it('keeps the rest of a body that goes on, and reads it joined up to 1 MiB', async () => {
    const streams = new ServiceStreams('t');
    const b = body();
    b.push(bytes(10));
    const opened = await streams.open(b.iterable, 'caller', 'S.fetch()');
    expect(opened.body.byteLength).toBe(10);
    expect(opened.id).toMatch(/^t\d+$/);
    const id = opened.id!;
    expect(streams.owns(id)).toBe(true);
    // A read waits for a chunk...
    const read = streams.read(id, 'caller');
    await sleep(20);
    b.push(bytes(7));
    expect((await read)?.byteLength).toBe(7);
    // ...and joins what is ready, up to the limit.
    for (let i = 0; i < 6; i++) b.push(bytes(READ_JOIN_BYTES / 4));
    expect((await streams.read(id, 'caller'))?.byteLength).toBe(READ_JOIN_BYTES);
    b.end();
    expect((await streams.read(id, 'caller'))?.byteLength).toBe(READ_JOIN_BYTES / 2);
    expect(await streams.read(id, 'caller')).toBeNull();
    expect(streams.size).toBe(0);
  });

  it('refuses another worker, an unknown id and a read after the end, saying which', async () => {
    const streams = new ServiceStreams('t');
    const b = body();
    const { id } = await streams.open(b.iterable, 'caller', 'S.fetch()');
    const refused = await streams.read(id!, 'someone-else').catch((e: unknown) => e);
    expect(isRouterError(refused) && refused.code).toBe('ERR_SERVICE_STREAM_GONE');
    await expect(streams.read('t999', 'caller')).rejects.toThrow(/no open service response body/);
    streams.cancel(id!, 'caller');
    expect(b.state.returned).toBe(true);
    await expect(streams.read(id!, 'caller')).rejects.toThrow(
      /stream t\d+\) is gone: its reader cancelled it/,
    );
  });

  it('cancels a body nobody reads within the idle time', async () => {
    const streams = new ServiceStreams('t', 50);
    const b = body();
    const { id } = await streams.open(b.iterable, 'caller', 'S.fetch()');
    await sleep(120);
    expect(b.state.returned).toBe(true);
    expect(streams.size).toBe(0);
    await expect(streams.read(id!, 'caller')).rejects.toThrow(/nobody read it for 0.05 s/);
  });

  it('does not time out a read that waits for its chunk', async () => {
    const streams = new ServiceStreams('t', 50);
    const b = body();
    const { id } = await streams.open(b.iterable, 'caller', 'S.fetch()');
    const read = streams.read(id!, 'caller');
    await sleep(120);
    b.push(bytes(1));
    expect((await read)?.byteLength).toBe(1);
    expect(b.state.returned).toBe(false);
    streams.close();
    expect(b.state.returned).toBe(true);
  });

  it('answers reads asked for at once in order, and a read after a cancel as gone', async () => {
    const streams = new ServiceStreams('t');
    const b = body();
    const { id } = await streams.open(b.iterable, 'caller', 'S.fetch()');
    const first = streams.read(id!, 'caller');
    const second = streams.read(id!, 'caller');
    b.push(bytes(1, 1));
    expect(await first).toEqual(bytes(1, 1));
    b.push(bytes(2, 2));
    expect(await second).toEqual(bytes(2, 2));
    const third = streams.read(id!, 'caller');
    const fourth = streams.read(id!, 'caller');
    await sleep(5); // the third waits for a chunk now
    streams.cancel(id!, 'caller');
    expect(await third).toBeNull();
    await expect(fourth).rejects.toThrow(/is gone: its reader cancelled it/);
    expect(streams.size).toBe(0);
  });

  it('reports a failing body to its reader', async () => {
    const streams = new ServiceStreams('t');
    let calls = 0;
    const failing: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        async next() {
          calls++;
          if (calls === 1) return { value: bytes(1), done: false };
          await sleep(10);
          throw new Error('the target crashed');
        },
      }),
    };
    const { id } = await streams.open(failing, 'caller', 'S.fetch()');
    await expect(streams.read(id!, 'caller')).rejects.toThrow(
      /S\.fetch\(\): the response body failed: the target crashed/,
    );
    expect(streams.size).toBe(0);
  });
});
