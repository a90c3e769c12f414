import { describe, expect, it } from 'vitest';
import { LruPolicy } from './eviction.js';
import { type WarmIsolate, WarmSet } from './warm-set.js';

const iso = (worker: string, bytes = 10): WarmIsolate => ({
  worker,
  bytes,
  inflight: 0,
  ready: true,
});

describe('WarmSet', () => {
  it('answers the least busy isolate with room, none once all are at the limit', () => {
    const set = new WarmSet(100, new LruPolicy(), 2);
    const a = iso('w');
    const b = iso('w');
    set.add(a);
    set.add(b);
    a.inflight = 1;
    expect(set.acquire('w')).toBe(b);
    b.inflight = 2;
    expect(set.acquire('w')).toBe(a);
    a.inflight = 2;
    expect(set.acquire('w')).toBeUndefined();
    expect(set.acquire('other')).toBeUndefined();
  });

  it('spreads a hot worker over another isolate, up to spreadTo, before the concurrency limit', () => {
    const set = new WarmSet(100, new LruPolicy(), 16, Number.POSITIVE_INFINITY, 3, 2);
    const a = iso('w');
    set.add(a);
    a.inflight = 2;
    expect(set.acquire('w')).toBe(a);
    a.inflight = 3;
    expect(set.acquire('w')).toBeUndefined();
    const b = iso('w');
    set.add(b);
    expect(set.acquire('w')).toBe(b);
    b.inflight = 5;
    // Two isolates is the most it spreads to: past that, the concurrency limit decides.
    expect(set.acquire('w')).toBe(a);
  });

  it('evicts idle isolates, least recently used first, until the newcomer fits', () => {
    const set = new WarmSet(30, new LruPolicy(), 1);
    const [a, b, c] = [iso('a'), iso('b'), iso('c')];
    for (const i of [a, b, c]) set.add(i);
    set.acquire('a');
    expect(set.evictFor(10, 1)).toEqual([b]);
    expect(set.usedBytes).toBe(20);
    expect(set.fits(10, 1)).toBe(true);
    expect(set.isolates('b')).toEqual([]);
  });

  it('never evicts a busy or starting isolate, and says when it cannot make room', () => {
    const set = new WarmSet(20, new LruPolicy(), 1);
    const busy = iso('busy');
    busy.inflight = 1;
    const starting = { ...iso('starting'), ready: false };
    set.add(busy);
    set.add(starting);
    expect(set.evictFor(10, 1)).toEqual([]);
    expect(set.fits(10, 1)).toBe(false);
    busy.inflight = 0;
    expect(set.evictFor(10, 1)).toEqual([busy]);
  });

  it('keeps at most maxIsolates isolates whatever their size', () => {
    const set = new WarmSet(1_000, new LruPolicy(), 1, 2);
    const [a, b] = [iso('a'), iso('b')];
    set.add(a);
    set.add(b);
    expect(set.fits(10, 0)).toBe(true);
    expect(set.fits(10, 1)).toBe(false);
    set.acquire('a');
    expect(set.evictFor(10, 1)).toEqual([b]);
    expect(set.fits(10, 1)).toBe(true);
  });

  it('tracks resized isolates against the budget', () => {
    const set = new WarmSet(100, new LruPolicy(), 1);
    const a = iso('a', 10);
    set.add(a);
    set.resize(a, 60);
    expect(set.usedBytes).toBe(60);
    set.remove(a);
    expect(set.usedBytes).toBe(0);
  });
});
