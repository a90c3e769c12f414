import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ELSEWHERE, PeerClient, type PeerObjectCall, servePeers } from './peer-channel.js';

const call = (method: string, args: unknown[] = []): PeerObjectCall => ({
  worker: 'app',
  target: { className: 'Counter', id: 'ab'.repeat(32), name: 'x' },
  input: { method, args },
  from: 'caller',
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function paths(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'pyw-peer-test-'));
  dirs.push(dir);
  return [join(dir, 'h0.sock'), join(dir, 'h1.sock')];
}

describe('the peer channel between host processes', () => {
  it('carries calls and their structured-clone results both ways, many at once', async () => {
    const p = paths();
    const server = servePeers(p[1]!, async (c) => ({
      echo: (c as PeerObjectCall).input.args,
      at: new Date(5),
      bytes: new Uint8Array([1, 2]),
      big: 'x'.repeat(200_000),
    }));
    const client = new PeerClient(p);
    const results = (await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.call(1, call('ping', [i, { deep: [i] }]))),
    )) as { echo: unknown[]; at: Date; bytes: Uint8Array; big: string }[];
    expect(results.map((r) => r.echo)).toEqual(
      Array.from({ length: 50 }, (_, i) => [i, { deep: [i] }]),
    );
    expect(results[0]!.at).toEqual(new Date(5));
    expect([...results[0]!.bytes]).toEqual([1, 2]);
    expect(results[0]!.big.length).toBe(200_000);
    client.close();
    server.close();
  });

  it('says ELSEWHERE for a call the peer did not take, and when no peer listens', async () => {
    const p = paths();
    const server = servePeers(p[1]!, async () => {
      throw ELSEWHERE;
    });
    const client = new PeerClient(p);
    await expect(client.call(1, call('ping'))).rejects.toBe(ELSEWHERE);
    await expect(client.call(0, call('ping'))).rejects.toBe(ELSEWHERE); // nothing at h0.sock
    client.close();
    server.close();
  });

  it('reports a path it cannot listen at, and calls to it go elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyw-peer-test-'));
    dirs.push(dir);
    const gone = join(dir, 'no-such-dir', 'h1.sock');
    const failed = await new Promise<Error>((resolve) => {
      servePeers(gone, async () => 'never', resolve);
    });
    expect(['ENOENT', 'EACCES']).toContain((failed as Error & { code?: string }).code);
    const client = new PeerClient([gone, gone]);
    await expect(client.call(1, call('ping'))).rejects.toBe(ELSEWHERE);
    client.close();
  }, 10_000);

  it("passes the peer's refusal on with its code", async () => {
    const p = paths();
    const server = servePeers(p[1]!, async () => {
      throw Object.assign(new Error('no such class'), { code: 'ERR_DO_CLASS' });
    });
    const client = new PeerClient(p);
    await expect(client.call(1, call('ping'))).rejects.toMatchObject({
      code: 'ERR_DO_CLASS',
      message: 'no such class',
    });
    client.close();
    server.close();
  });

  it('fails the calls in flight when the peer goes away, and reconnects to its successor', async () => {
    const p = paths();
    let answer: (() => void) | undefined;
    const server = servePeers(
      p[1]!,
      () =>
        new Promise((resolve) => {
          answer = () => resolve('late');
        }),
    );
    const accepted: Socket[] = [];
    server.on('connection', (s: Socket) => accepted.push(s));
    const client = new PeerClient(p);
    const pending = client.call(1, call('slow'));
    await new Promise((r) => setTimeout(r, 50));
    // The peer process dies: its listener and its connections go.
    server.close();
    for (const s of accepted) s.destroy();
    answer?.();
    const outcome = await pending.then(
      (v) => ({ v }),
      (e: { code?: string }) => ({ code: e.code }),
    );
    expect(outcome).toEqual({ code: 'ERR_ROUTER_HOST_CRASHED' });
    // A new process listens at the same path: the next call reaches it.
    const next = servePeers(p[1]!, async () => 'again');
    expect(await client.call(1, call('ping'))).toBe('again');
    client.close();
    next.close();
  });
});
