// Shared by the sdk-*.e2e tests: a worker built and restored for real, a logger that keeps
// what it got, and a real HTTP server on 127.0.0.1 for outbound requests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildBundle,
  decodeBundle,
  Isolate,
  type IsolateOptions,
  type IsolateResponse,
  type Logger,
} from '../src/index.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

/** A logger that records every entry, for assertions. */
export function memoryLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: object, msg?: string): void => {
      entries.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Builds a bundle from Python sources (snapshotted) and restores an isolate from it. */
export async function startWorker(
  name: string,
  sources: Record<string, string>,
  options: { vars?: Record<string, string> } & IsolateOptions = {},
): Promise<{ bundle: Uint8Array; isolate: Isolate }> {
  const files = new Map(
    Object.entries(sources).map(([path, text]) => [path, new TextEncoder().encode(text)]),
  );
  const bundle = await buildBundle({ name, mainModule: 'entry', files, vars: options.vars ?? {} });
  const isolate = await Isolate.start(decodeBundle(bundle), options);
  return { bundle, isolate };
}

/** A decoded answer: status, headers, body as text, and a case-insensitive header lookup. */
export interface Answer extends IsolateResponse {
  text: string;
  header(name: string): string | undefined;
  all(name: string): string[];
}

export async function send(
  isolate: Isolate,
  url: string,
  init: { method?: string; headers?: [string, string][]; body?: string | Uint8Array } = {},
): Promise<Answer> {
  const body =
    typeof init.body === 'string' ? new TextEncoder().encode(init.body) : (init.body ?? null);
  const res = await isolate.fetch({
    method: init.method ?? 'GET',
    url,
    headers: init.headers ?? [],
    body: body ?? new Uint8Array(),
  });
  const all = (name: string): string[] =>
    res.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
  return {
    ...res,
    text: new TextDecoder().decode(res.body),
    header: (name) => all(name)[0],
    all,
  };
}

export interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1 that records each request and lets a route answer it. */
export async function startServer(answer: (hit: Hit, res: ServerResponse) => void): Promise<{
  origin: string;
  hits: Hit[];
  nextHit(path: string): Promise<Hit>;
  close(): Promise<void>;
}> {
  const hits: Hit[] = [];
  const waiters: { path: string; resolve: (hit: Hit) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      hits.push(hit);
      for (const w of waiters.filter((w) => hit.url.startsWith(w.path))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
      answer(hit, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    nextHit: (path) => new Promise((resolve) => waiters.push({ path, resolve })),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
