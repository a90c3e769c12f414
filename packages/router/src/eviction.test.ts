import { describe, expect, it } from 'vitest';
import { type EvictionPolicy, FrequencyPolicy, LruPolicy } from './eviction.js';

const all = (): boolean => true;

/** The contract every eviction policy keeps. */
function evictionContract(make: () => EvictionPolicy): void {
  it('answers undefined when nothing is resident or nothing is evictable', () => {
    const p = make();
    expect(p.victim(all)).toBeUndefined();
    p.admit('a');
    expect(p.victim(() => false)).toBeUndefined();
  });

  it('only names resident keys that the caller accepts', () => {
    const p = make();
    for (const k of ['a', 'b', 'c']) {
      p.touch(k);
      p.admit(k);
    }
    p.touch('never-admitted');
    p.forget('b');
    for (let i = 0; i < 20; i++) {
      const v = p.victim((k) => k !== 'a');
      expect(v).toBe('c');
    }
  });

  it('evicts the key that is both least recent and least frequent first', () => {
    const p = make();
    p.touch('cold');
    p.admit('cold');
    for (const k of ['warm', 'hot']) {
      p.touch(k);
      p.admit(k);
    }
    for (let i = 0; i < 5; i++) {
      p.touch('warm');
      p.touch('hot');
    }
    expect(p.victim(all)).toBe('cold');
    p.forget('cold');
    p.touch('hot');
    expect(p.victim(all)).toBe('warm');
  });

  it('never evicts the key that is both most recent and most frequent while another exists', () => {
    const p = make();
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (const k of keys) {
      p.touch(k);
      p.admit(k);
    }
    for (let round = 0; round < 200; round++) {
      p.touch('k7');
      const v = p.victim(all)!;
      expect(v).not.toBe('k7');
      p.forget(v);
      const fresh = `n${round}`;
      p.touch(fresh);
      p.admit(fresh);
      p.touch('k7');
    }
  });
}

for (const [name, make] of [
  ['LruPolicy', () => new LruPolicy()],
  ['FrequencyPolicy', () => new FrequencyPolicy()],
] as const)
  describe(`${name} (eviction contract)`, () => evictionContract(make));

describe('LruPolicy', () => {
  it('evicts in order of last use', () => {
    const p = new LruPolicy();
    for (const k of ['a', 'b', 'c']) p.admit(k);
    p.touch('a');
    expect(p.victim(all)).toBe('b');
  });
});

describe('FrequencyPolicy', () => {
  it('keeps a steadily used worker over a one-off that came later', () => {
    const p = new FrequencyPolicy();
    for (let i = 0; i < 10; i++) p.touch('steady');
    p.admit('steady');
    p.touch('one-off');
    p.admit('one-off');
    expect(p.victim(all)).toBe('one-off');
  });

  it('ages counts so that a formerly hot worker loses to a currently hot one', () => {
    const p = new FrequencyPolicy({ windowPerResident: 4 });
    for (let i = 0; i < 100; i++) p.touch('old');
    p.admit('old');
    p.admit('new');
    for (let i = 0; i < 2000; i++) p.touch('new');
    expect(p.victim(all)).toBe('old');
  });
});
