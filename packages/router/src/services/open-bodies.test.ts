import type { HostCall } from '@pyworkers/isolate';
import { describe, expect, it } from 'vitest';
import { OpenBodies } from './open-bodies.js';
import { STREAM_CANCEL_METHOD, STREAM_READ_METHOD } from './response-streams.js';

/** A host-call handler answering fetches with streamed bodies `s1`, `s2`, ... */
function handler() {
  const calls: HostCall[] = [];
  let next = 1;
  const handle = async (call: HostCall): Promise<unknown> => {
    calls.push(call);
    if (call.method === 'fetch')
      return {
        type: 'rpc',
        outcome: 'ok',
        value: { __rpc__: 'Response', bodyStream: `s${next++}` },
      };
    if (call.method === STREAM_READ_METHOD)
      return {
        type: 'rpc',
        outcome: 'ok',
        value: call.args[0] === 's1' ? null : new Uint8Array(1),
      };
    return { type: 'rpc', outcome: 'ok', value: null };
  };
  return { calls, handle };
}

describe('OpenBodies', () => {
  it('cancels what an isolate left open when it goes, not what it read or cancelled', async () => {
    const bodies = new OpenBodies();
    const { calls, handle } = handler();
    const wrapped = bodies.wrap(handle);
    for (let i = 0; i < 3; i++) await wrapped({ binding: 'S', method: 'fetch', args: [] });
    expect(bodies.size).toBe(3);
    await wrapped({ binding: 'S', method: STREAM_READ_METHOD, args: ['s1'] }); // its end
    await wrapped({ binding: 'S', method: STREAM_READ_METHOD, args: ['s2'] }); // a chunk
    await wrapped({ binding: 'S', method: STREAM_CANCEL_METHOD, args: ['s3'] });
    expect(bodies.size).toBe(1);
    calls.length = 0;
    bodies.cancelAll();
    expect(calls).toEqual([{ binding: 'S', method: STREAM_CANCEL_METHOD, args: ['s2'] }]);
    // A fetch answered after the isolate went is cancelled at once.
    await wrapped({ binding: 'S', method: 'fetch', args: [] });
    expect(calls.at(-1)).toEqual({ binding: 'S', method: STREAM_CANCEL_METHOD, args: ['s4'] });
    expect(bodies.size).toBe(0);
  });
});
