import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './internal/testing/temp.js';
import { type Bindings, openStore, type Store } from './store.js';

describe('Queues contract (sqlite)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let env: Bindings;
  let clock = Date.UTC(2026, 0, 1);
  const send = (...args: unknown[]) => env.call('JOBS', 'send', args);

  beforeEach(() => {
    tmp = tempDir();
    clock = Date.UTC(2026, 0, 1);
    store = openStore({ stateDir: tmp.dir, now: () => clock });
    env = store.bindings([{ type: 'queue', name: 'JOBS', queue: 'jobs' }]);
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('delivers json, text, bytes and v8 bodies in order; acked messages are gone', async () => {
    await send({ n: 1 });
    await send('plain', { contentType: 'text' });
    await send(new Uint8Array([1, 2]), { contentType: 'bytes' });
    await send(new Map([['k', new Date(0)]]), { contentType: 'v8' });
    const q = await store.queues();
    const batch = await q.pull('jobs', { max: 10 });
    expect(batch.map((m) => m.body)).toEqual([
      { n: 1 },
      'plain',
      new Uint8Array([1, 2]),
      new Map([['k', new Date(0)]]),
    ]);
    expect(batch.every((m) => m.attempts === 1 && m.timestamp.getTime() === clock)).toBe(true);
    expect(await q.pull('jobs')).toEqual([]); // leased
    await q.settle('jobs', { acked: batch.map((m) => m.id) });
    expect(await q.depth('jobs')).toBe(0);
  });

  it('keeps unacknowledged messages across a restart and after a lease runs out', async () => {
    await send('survives', { contentType: 'text' });
    let q = await store.queues();
    expect(await q.pull('jobs', { visibilityMs: 1000 })).toHaveLength(1);
    await store.close();
    store = openStore({ stateDir: tmp.dir, now: () => clock });
    q = await store.queues();
    expect(await q.pull('jobs')).toEqual([]);
    clock += 1001;
    const again = await q.pull('jobs');
    expect(again.map((m) => [m.body, m.attempts])).toEqual([['survives', 2]]);
  });

  it('honours delaySeconds, the binding default delay, and batches', async () => {
    const delayed = store.bindings([
      { type: 'queue', name: 'LATER', queue: 'jobs', deliveryDelay: 60 },
    ]);
    await send('now', { contentType: 'text' });
    await send('in 10s', { contentType: 'text', delaySeconds: 10 });
    await delayed.call('LATER', 'send', ['in 60s', { contentType: 'text' }]);
    await env.call('JOBS', 'sendBatch', [
      [{ body: 'b1', contentType: 'text' }, { body: { b: 2 } }],
      { delaySeconds: 5 },
    ]);
    const q = await store.queues();
    const bodies = async () => {
      const batch = await q.pull('jobs', { max: 100 });
      await q.settle('jobs', { acked: batch.map((m) => m.id) });
      return batch.map((m) => m.body);
    };
    expect(await bodies()).toEqual(['now']);
    clock += 5000;
    expect(await bodies()).toEqual(['b1', { b: 2 }]);
    clock += 5000;
    expect(await bodies()).toEqual(['in 10s']);
    expect(await q.nextDelivery('jobs')).not.toBeNull();
    clock += 50_000;
    expect(await bodies()).toEqual(['in 60s']);
  });

  it('retries up to max_retries, then moves the message to the dead-letter queue', async () => {
    await send({ job: 'flaky' });
    const q = await store.queues();
    const settings = { maxRetries: 2, deadLetterQueue: 'jobs-dlq' };
    for (let delivery = 1; delivery <= 3; delivery++) {
      const [m] = await q.pull('jobs');
      expect(m?.attempts).toBe(delivery);
      const r = await q.settle(
        'jobs',
        { retried: [{ id: m?.id as string, delaySeconds: 1 }] },
        settings,
      );
      expect(r.deadLettered).toHaveLength(delivery === 3 ? 1 : 0);
      clock += 1000;
    }
    expect(await q.depth('jobs')).toBe(0);
    const [dead] = await q.pull('jobs-dlq');
    expect(dead).toMatchObject({ body: { job: 'flaky' }, attempts: 1 });
  });

  it('drops a message past its retries when there is no dead-letter queue', async () => {
    await send('x', { contentType: 'text' });
    const q = await store.queues();
    const [m] = await q.pull('jobs');
    const r = await q.settle('jobs', { retried: [{ id: m?.id as string }] }, { maxRetries: 0 });
    expect(r.dropped).toEqual([m?.id]);
    expect(await q.depth('jobs')).toBe(0);
  });

  it("enforces Cloudflare's limits naming the binding", async () => {
    await expect(send('x'.repeat(128_001), { contentType: 'text' })).rejects.toThrow(
      /Queue binding 'JOBS' send\(\): message size 128001 bytes exceeds limit of 128000/,
    );
    await expect(send(42, { contentType: 'text' })).rejects.toThrow(
      /contentType "text" needs a string/,
    );
    await expect(send('x', { delaySeconds: 50_000 })).rejects.toThrow(/delaySeconds must be/);
    const many = Array.from({ length: 101 }, () => ({ body: 1 }));
    await expect(env.call('JOBS', 'sendBatch', [many])).rejects.toThrow(
      /batch message count of 101 exceeds limit of 100/,
    );
    await expect(send('x', { contentType: 'yaml' })).rejects.toThrow(/contentType must be/);
  });
});
