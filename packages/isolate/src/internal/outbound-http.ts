// Synchronous outbound HTTP for Python's blocking clients (requests, urllib3, httpx.Client,
// urllib.request): the isolate thread blocks in Atomics.wait on a host call (see
// worker/host-channel.ts) while this side, on the parent's event loop, performs the request
// with node:http(s) and answers with the whole response.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { z } from 'zod';
import type { HostCall } from '../host-call.js';

/** The host-call binding name the Python side uses; not a user binding. */
export const OUTBOUND_HTTP_BINDING = '__pyworkers_http__';

/** Largest response body a blocking client may receive (it is held whole in both heaps). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const requestSchema = z.object({
  method: z.string().min(1),
  url: z.string().url(),
  headers: z.array(z.tuple([z.string(), z.string()])),
  body: z.instanceof(Uint8Array).nullable().optional(),
  /** Connect and idle-read timeout in ms; null: none. */
  timeoutMs: z.number().positive().nullable().optional(),
  /** Verify the server's TLS certificate (default true, as the Python clients do). */
  verify: z.boolean().optional(),
  /** Undo Content-Encoding here (what urllib3's browser backend expects from XHR). */
  decode: z.boolean().optional(),
});

/** What the blocking client gets back. */
export interface OutboundResponse {
  status: number;
  reason: string;
  headers: [string, string][];
  body: Uint8Array;
  url: string;
}

/** A failed request, answered to Python as `{ code, message }`. */
class OutboundError extends Error {
  constructor(
    readonly code:
      | 'ERR_HTTP_TIMEOUT'
      | 'ERR_HTTP_CONNECT'
      | 'ERR_HTTP_TLS'
      | 'ERR_HTTP_TOO_LARGE'
      | 'ERR_HTTP_ARGS',
    message: string,
  ) {
    super(message);
  }
}

// Keep-alive, as the Python clients' connection pools would be.
const agents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
};

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
}

/** Performs one outbound request exactly as the client built it (every header, in order). */
export function performOutbound(call: HostCall): Promise<OutboundResponse> {
  const parsed = requestSchema.safeParse(call.args[0]);
  if (!parsed.success) {
    return Promise.reject(
      new OutboundError('ERR_HTTP_ARGS', `bad outbound request: ${parsed.error.message}`),
    );
  }
  const req = parsed.data;
  const url = new URL(req.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(
      new OutboundError('ERR_HTTP_ARGS', `cannot fetch ${url.protocol} URLs (${req.url})`),
    );
  }
  const tls = url.protocol === 'https:';
  // Node adds no Host to a raw (array) header list: add it first, as a client would.
  const flat: string[] = req.headers.some(([k]) => k.toLowerCase() === 'host')
    ? []
    : ['Host', url.host];
  for (const [k, v] of req.headers) flat.push(k, v);
  return new Promise((resolve, reject) => {
    const options = {
      method: req.method,
      headers: flat,
      setHost: false,
      agent: tls ? agents.https : agents.http,
      ...(tls ? { rejectUnauthorized: req.verify !== false } : {}),
    };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          res.destroy(
            new OutboundError(
              'ERR_HTTP_TOO_LARGE',
              `the response from ${req.url} is over ${MAX_RESPONSE_BYTES} bytes (a blocking client holds it whole); use async fetch to stream it`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => reject(err instanceof OutboundError ? err : toError(err, req.url)));
      res.on('end', () => {
        let body: Buffer = Buffer.concat(chunks);
        const headers: [string, string][] = [];
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
        if (req.decode) {
          try {
            body = decodeBody(body, res.headers['content-encoding']);
          } catch (err) {
            reject(toError(err as Error, req.url));
            return;
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers,
          body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
          url: req.url,
        });
      });
    };
    const out = tls
      ? httpsRequest(url, options, onResponse)
      : httpRequest(url, options, onResponse);
    if (req.timeoutMs) {
      out.setTimeout(req.timeoutMs, () => {
        out.destroy(
          new OutboundError(
            'ERR_HTTP_TIMEOUT',
            `${req.method} ${req.url} timed out after ${req.timeoutMs} ms`,
          ),
        );
      });
    }
    out.on('error', (err) => reject(err instanceof OutboundError ? err : toError(err, req.url)));
    out.end(
      req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : undefined,
    );
  });
}

// Node's TLS verification failures (self-signed, expired, wrong host, unknown CA...).
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME/;

function toError(err: Error & { code?: string }, url: string): OutboundError {
  const tls = err.code !== undefined && TLS_CODES.test(err.code);
  return new OutboundError(
    tls ? 'ERR_HTTP_TLS' : 'ERR_HTTP_CONNECT',
    `${url}: ${err.message}${err.code ? ` (${err.code})` : ''}`,
  );
}
