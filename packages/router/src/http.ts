import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IsolateRequest, IsolateResponse } from '@pyworkers/isolate';
import { RouterError } from './errors.js';

/**
 * Reads a request body up to `limit` bytes. The isolate interface takes the body as one
 * buffer, so it is buffered here; a declared Content-Length over the limit is refused before
 * reading a byte.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const tooLarge = (): RouterError =>
    new RouterError('ERR_ROUTER_BODY_TOO_LARGE', `request body is over ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  if (req.readableEnded) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks))),
    );
    req.on('error', reject);
    req.on('aborted', () => reject(new RouterError('ERR_ROUTER_CLOSED', 'client went away')));
  });
}

/** The request as the isolate wants it: lower-case header names, absolute URL. */
export function toIsolateRequest(req: IncomingMessage, body: Uint8Array): IsolateRequest {
  const headers: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return {
    method: req.method ?? 'GET',
    url: `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`,
    headers,
    body,
  };
}

/**
 * Writes the worker's answer as it is: status, every header in order (repeated ones such as
 * set-cookie stay separate) and the body. Only Content-Length is added when the worker gave
 * neither it nor Transfer-Encoding, so that keep-alive works without chunking.
 */
export function writeResponse(res: ServerResponse, out: IsolateResponse, close: boolean): void {
  const flat: string[] = [];
  let hasLength = false;
  for (const [k, v] of out.headers) {
    const lower = k.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') hasLength = true;
    flat.push(k, v);
  }
  if (!hasLength) flat.push('content-length', String(out.body.byteLength));
  if (close) flat.push('connection', 'close');
  res.writeHead(out.status, flat);
  res.end(out.body);
}

/** A small text answer of the router itself (404, 413, 502, ...). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
