import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ResolverError } from '../errors.js';
import { httpGet, redactUrl } from './http.js';

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('httpGet', () => {
  it('sends URL credentials as Basic auth and keeps them out of messages', async () => {
    const seen: (string | undefined)[] = [];
    const host = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(req.url === '/ok' ? 200 : 403).end('x');
    });
    const ok = await httpGet(`http://alice:s%40cret@${host}/ok`);
    expect(await ok.text()).toBe('x');
    expect(seen[0]).toBe(`Basic ${Buffer.from('alice:s@cret').toString('base64')}`);
    const err = await httpGet(`http://alice:s%40cret@${host}/denied`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolverError);
    expect((err as Error).message).toContain(`http://***@${host}/denied answered 403`);
    expect((err as Error).message).not.toContain('cret');
  });

  it('retries transient failures, then succeeds', async () => {
    let n = 0;
    const host = await serve((_req, res) => {
      n++;
      res.writeHead(n < 3 ? 503 : 200).end('fine');
    });
    expect(await (await httpGet(`http://${host}/`)).text()).toBe('fine');
    expect(n).toBe(3);
  });

  it('redacts only what needs it', () => {
    expect(redactUrl('https://u:p@x.test/simple/')).toBe('https://***@x.test/simple/');
    expect(redactUrl('https://x.test/simple/')).toBe('https://x.test/simple/');
  });
});
