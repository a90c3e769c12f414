import { describe, expect, it } from 'vitest';
import {
  BoundedLoadPlacement,
  type LoadView,
  type PlacementPolicy,
  RandomPlacement,
} from './placement.js';

const idle: LoadView = { load: () => 0, total: () => 0 };

function fixedLoads(loads: number[]): LoadView {
  return { load: (h) => loads[h] ?? 0, total: () => loads.reduce((a, b) => a + b, 0) };
}

/** The contract every placement policy keeps. */
function placementContract(make: (hosts: number) => PlacementPolicy): void {
  it('answers a host in range, never one that already refused, and -1 once all did', () => {
    const policy = make(7);
    for (const worker of ['a', 'b', 'shop', 'api-v2']) {
      const tried = new Set<number>();
      for (let i = 0; i < 7; i++) {
        const h = policy.pick(worker, idle, tried);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(7);
        expect(tried.has(h)).toBe(false);
        tried.add(h);
      }
      expect(tried.size).toBe(7);
      expect(policy.pick(worker, idle, tried)).toBe(-1);
    }
  });

  it('still answers a host when every host is loaded (a request is never dropped)', () => {
    const policy = make(3);
    const h = policy.pick('w', fixedLoads([1000, 1000, 1000]));
    expect([0, 1, 2]).toContain(h);
  });

  it('works with a single host', () => {
    const policy = make(1);
    expect(policy.pick('w', idle)).toBe(0);
    expect(policy.pick('w', idle, new Set([0]))).toBe(-1);
  });
}

const policies: [string, (hosts: number) => PlacementPolicy][] = [
  ['BoundedLoadPlacement eps=0.1', (n) => new BoundedLoadPlacement(n, { eps: 0.1 })],
  ['BoundedLoadPlacement eps=0.5', (n) => new BoundedLoadPlacement(n, { eps: 0.5 })],
  ['RandomPlacement', (n) => new RandomPlacement(n)],
];
for (const [name, make] of policies)
  describe(`${name} (placement contract)`, () => placementContract(make));

describe('BoundedLoadPlacement', () => {
  it('sends a worker to the same host every time while loads allow', () => {
    const a = new BoundedLoadPlacement(10);
    const b = new BoundedLoadPlacement(10);
    for (let i = 0; i < 100; i++) expect(a.pick(`w${i}`, idle)).toBe(b.pick(`w${i}`, idle));
  });

  it('spreads workers evenly and moves only about 1/n of them when a host is added', () => {
    const ten = new BoundedLoadPlacement(10);
    const eleven = new BoundedLoadPlacement(11);
    const perHost = new Array(10).fill(0);
    let moved = 0;
    for (let i = 0; i < 10_000; i++) {
      const h = ten.pick(`worker-${i}`, idle);
      perHost[h]++;
      if (eleven.pick(`worker-${i}`, idle) !== h) moved++;
    }
    expect(Math.max(...perHost)).toBeLessThan(1_300);
    expect(Math.min(...perHost)).toBeGreaterThan(700);
    expect(moved / 10_000).toBeGreaterThan(0.05);
    expect(moved / 10_000).toBeLessThan(0.14);
  });

  it('skips a host at (1 + eps) x the mean load, to the next one on the ring', () => {
    const p = new BoundedLoadPlacement(4, { eps: 0.25 });
    const home = p.pick('hot', idle);
    const loads = [0, 0, 0, 0];
    // total 8 -> a host may hold 1.25 * 9 / 4 = 2.81 after taking it: the home host at 3 is full.
    loads[home] = 3;
    const others = [0, 1, 2, 3].filter((h) => h !== home);
    loads[others[0]!] = 2;
    loads[others[1]!] = 2;
    loads[others[2]!] = 1;
    const next = p.pick('hot', fixedLoads(loads));
    expect(next).not.toBe(home);
    expect(loads[next]).toBeLessThan(3);
    // Below the bound it goes home again.
    loads[home] = 1;
    expect(p.pick('hot', fixedLoads(loads))).toBe(home);
  });

  it('never fills a host past (1 + eps) x the mean while another host has room', () => {
    const p = new BoundedLoadPlacement(5, { eps: 0.1 });
    const loads = [0, 0, 0, 0, 0];
    const view = fixedLoads(loads);
    // 1000 concurrent requests, most of them for one hot worker.
    for (let i = 0; i < 1000; i++) {
      const worker = i % 4 === 0 ? `w${i}` : 'hot';
      const bound = p.bound(view.total());
      const room = loads.some((l) => l + 1 <= bound);
      const h = p.pick(worker, view);
      loads[h]!++;
      if (room) expect(loads[h]).toBeLessThanOrEqual(bound);
    }
    const total = 1000;
    expect(Math.max(...loads)).toBeLessThanOrEqual((1.1 * total) / 5 + 1);
  });

  it('prefers a host where the worker is warm among the hosts under the bound', () => {
    const p = new BoundedLoadPlacement(8, { eps: 0.5 });
    const order: number[] = [];
    const tried = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const h = p.pick('w', idle, tried);
      order.push(h);
      tried.add(h);
    }
    expect(p.pick('w', idle, undefined, (h) => h === order[2])).toBe(order[2]);
    // Past the lookahead (4 hosts by default) the first host under the bound wins.
    expect(p.pick('w', idle, undefined, (h) => h === order[6])).toBe(order[0]);
    // A warm host over the bound is skipped.
    const loads = new Array(8).fill(1);
    loads[order[2]!] = 5;
    expect(p.pick('w', fixedLoads(loads), undefined, (h) => h === order[2])).toBe(order[0]);
  });

  it('does not leave a lightly loaded home host below minBound', () => {
    const p = new BoundedLoadPlacement(4, { eps: 0.1, minBound: 8 });
    const home = p.pick('w', idle);
    const loads = [0, 0, 0, 0];
    loads[home] = 7;
    expect(p.pick('w', fixedLoads(loads))).toBe(home);
  });
});
