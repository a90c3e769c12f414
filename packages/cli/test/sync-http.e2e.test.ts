// Blocking HTTP clients inside a worker under `pyworkers dev`: requests, urllib3, httpx.Client
// and urllib.request (and httpx.AsyncClient over fetch), resolved from a local index of real wheels, call a local server that
// sees each client's own User-Agent; timeouts are the client's; TLS is verified by default.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IndexServer, startIndex } from './helpers/index-server.js';
import { type CliProcess, startCli } from './helpers/run-cli.js';

const PROJECTS = [
  'requests',
  'urllib3',
  'httpx',
  'httpcore',
  'h11',
  'anyio',
  'sniffio',
  'idna',
  'certifi',
  'charset-normalizer',
  'typing-extensions',
];

const entry = `
import json
import urllib.request

import httpx
import requests
import urllib3
from workers import Response, WorkerEntrypoint

TARGET = "http://127.0.0.1:{port}/"
TLS = "https://127.0.0.1:{tls}/"


def outcome(call):
    try:
        return call()
    except Exception as exc:
        return f"{type(exc).__name__}"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = "/" + request.url.split("/", 3)[-1]
        if path == "/sync":
            r = requests.get(TARGET + "requests", timeout=10)
            u = urllib3.PoolManager().request("GET", TARGET + "urllib3", timeout=10.0)
            with httpx.Client() as client:
                h = client.post(TARGET + "httpx", content=b"posted", headers={"x-k": "v"})
            with urllib.request.urlopen(TARGET + "urllib", timeout=10) as f:
                lib = f.read().decode()
            async with httpx.AsyncClient() as client:
                a = await client.get(TARGET + "httpx-async")
            return Response.json([
                [r.status_code, r.text], [u.status, u.data.decode()],
                [h.status_code, h.text], [200, lib], [a.status_code, a.text],
            ])
        if path == "/timeout":
            return Response.json([
                outcome(lambda: requests.get(TARGET + "slow", timeout=0.5)),
                outcome(lambda: httpx.get(TARGET + "slow", timeout=0.5)),
            ])
        if path == "/tls":
            return Response.json([
                outcome(lambda: requests.get(TLS).status_code),
                outcome(lambda: requests.get(TLS, verify=False).status_code),
                outcome(lambda: httpx.get(TLS).status_code),
                outcome(lambda: httpx.get(TLS, verify=False).status_code),
            ])
        return Response("ok")
`;

let root: string;
let index: IndexServer | undefined;
let dev: CliProcess | undefined;
const servers: Server[] = [];
const seen = new Map<string, { ua: string | undefined; body: string; xk: string | undefined }>();
let wheelsMissing = '';

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pyw-sync-http-'));
  const wheelDir = join(root, 'wheels');
  try {
    execFileSync(
      'python3',
      [fileURLToPath(new URL('./helpers/local-wheels.py', import.meta.url)), wheelDir, ...PROJECTS],
      { stdio: 'pipe' },
    );
  } catch (err) {
    wheelsMissing = String((err as { stderr?: Buffer }).stderr ?? err);
    return;
  }
  index = await startIndex(
    readdirSync(wheelDir).map((filename) => ({
      project: filename.split('-')[0]!,
      filename,
      bytes: readFileSync(join(wheelDir, filename)),
    })),
  );
  const port = await listen(
    createHttp((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const xk = req.headers['x-k'] as string | undefined;
        seen.set(req.url ?? '', { ua: req.headers['user-agent'], body, xk });
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`Example Domain ${req.url}`);
        };
        if (req.url === '/slow') setTimeout(answer, 3_000);
        else answer();
      });
    }),
  );
  // A self-signed certificate: no client may trust it unless told not to verify.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(root, 'key.pem'),
      '-out',
      join(root, 'cert.pem'),
    ],
    { stdio: 'pipe' },
  );
  const tls = await listen(
    createHttps(
      { key: readFileSync(join(root, 'key.pem')), cert: readFileSync(join(root, 'cert.pem')) },
      (_req, res) => res.end('secure'),
    ),
  );
  const project = join(root, 'sync-http');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(
    join(project, 'pyproject.toml'),
    '[project]\nname = "sync-http"\nversion = "0.1.0"\ndependencies = ["requests", "urllib3", "httpx", "workers-runtime-sdk"]\n',
  );
  writeFileSync(
    join(project, 'src', 'entry.py'),
    entry.replace('{port}', String(port)).replace('{tls}', String(tls)),
  );
  dev = startCli(['dev', '--port', '0'], {
    cwd: project,
    env: { UV_INDEX_URL: index.url, PYWORKERS_CACHE_DIR: join(root, 'cache') },
  });
  await dev.ready;
});

afterAll(async () => {
  await dev?.stop();
  await index?.close();
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

describe('blocking HTTP clients in a worker', () => {
  it('requests, urllib3, httpx.Client and urllib.request reach a local server with their own User-Agent', async (ctx) => {
    if (wheelsMissing) ctx.skip(`no local wheels for the clients: ${wheelsMissing}`);
    const { url } = await dev!.ready;
    const res = await fetch(`${url}/sync`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual([
      [200, 'Example Domain /requests'],
      [200, 'Example Domain /urllib3'],
      [200, 'Example Domain /httpx'],
      [200, 'Example Domain /urllib'],
      [200, 'Example Domain /httpx-async'],
    ]);
    expect(seen.get('/requests')?.ua).toMatch(/^python-requests\//);
    expect(seen.get('/urllib3')?.ua).toMatch(/^python-urllib3\//);
    expect(seen.get('/httpx')).toMatchObject({ body: 'posted', xk: 'v' });
    expect(seen.get('/httpx')?.ua).toMatch(/^python-httpx\//);
    expect(seen.get('/urllib')?.ua).toMatch(/^Python-urllib\//);
    expect(seen.get('/httpx-async')?.ua).toMatch(/^python-httpx\//);
  });

  it("honours the client's timeout", async (ctx) => {
    if (wheelsMissing) ctx.skip('no local wheels');
    const { url } = await dev!.ready;
    const t0 = performance.now();
    const got = (await (await fetch(`${url}/timeout`)).json()) as string[];
    expect(got).toEqual(['ReadTimeout', 'ReadTimeout']);
    // Both gave up long before the server's 3 s answer each.
    expect(performance.now() - t0).toBeLessThan(5_500);
  });

  it('verifies TLS certificates unless the client turns it off', async (ctx) => {
    if (wheelsMissing) ctx.skip('no local wheels');
    const { url } = await dev!.ready;
    const got = (await (await fetch(`${url}/tls`)).json()) as unknown[];
    expect(got).toEqual(['SSLError', 200, 'ConnectError', 200]);
  });
});
