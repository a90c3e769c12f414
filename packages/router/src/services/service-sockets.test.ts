import type { WebSocketPeer } from '@pyworkers/isolate';
import { describe, expect, it } from 'vitest';
import { ServiceSockets } from './service-sockets.js';

/** A peer that records how it was closed. */
function peer(): WebSocketPeer & { closes: [number, string][] } {
  const closes: [number, string][] = [];
  return {
    closes,
    send: () => true,
    close: (code = 1000, reason = '') => {
      closes.push([code, reason]);
    },
    onmessage: undefined,
    onclose: undefined,
  };
}

describe('ServiceSockets', () => {
  it('hands a held socket out once, by its ref', () => {
    const table = new ServiceSockets(10_000);
    const p = peer();
    const ref = table.hold(p);
    expect(ServiceSockets.owns(ref)).toBe(true);
    expect(ServiceSockets.owns('0123abcd:1')).toBe(false);
    expect(table.size).toBe(1);
    expect(table.take(ref)).toBe(p);
    expect(table.size).toBe(0);
    expect(() => table.take(ref)).toThrow(/not held here \(claimed already/);
    expect(p.closes).toEqual([]);
  });

  it('closes a socket nobody claims in time with 1011 and the reason', async () => {
    const table = new ServiceSockets(50);
    const p = peer();
    const ref = table.hold(p);
    await new Promise((r) => setTimeout(r, 150));
    expect(table.size).toBe(0);
    expect(p.closes[0]?.[0]).toBe(1011);
    expect(p.closes[0]?.[1]).toMatch(/within 50 ms/);
    expect(() => table.take(ref)).toThrow(/not claimed within 50 ms/);
  });

  it('closes what still waits when the router closes', () => {
    const table = new ServiceSockets(10_000);
    const p = peer();
    table.hold(p);
    table.close();
    expect(p.closes).toEqual([[1001, 'the router is shutting down']]);
    expect(table.size).toBe(0);
  });
});
