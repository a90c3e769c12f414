import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Body,
  type BodyStream,
  INLINE_BODY_BYTES,
  type IsolateRequest,
  type IsolateStreamingResponse,
  lendChunk,
  releaseChunk,
} from '@pyworkers/isolate';
import { RouterError } from './errors.js';
import { freeOnRelease } from './internal/free-buffer.js';

const tooLarge = (limit: number): RouterError =>
  new RouterError('ERR_ROUTER_BODY_TOO_LARGE', `request body is over ${limit} bytes`);

const timedOut = (message: string): RouterError =>
  new RouterError('ERR_ROUTER_REQUEST_TIMEOUT', message);

/** Limits on reading one request body. */
export interface BodyLimits {
  /** Bytes (past them: 413). */
  maxBytes: number;
  /**
   * Milliseconds: a small body must be complete within this; a streamed one may take as long
   * as it flows, but the client may keep the worker waiting for its next bytes no longer.
   */
  timeoutMs: number;
}

/**
 * The request body as the isolate takes it: none or a small declared one (<= 64 KiB) read
 * whole, anything else a stream read from the socket only as the worker pulls it, so an upload
 * of any size holds a window of memory, not the body. Past `maxBytes` the stream fails; a
 * client that stalls for `timeoutMs` fails it with `ERR_ROUTER_REQUEST_TIMEOUT` (408).
 */
export async function requestBody(
  req: IncomingMessage,
  limits: BodyLimits,
  onError: (err: RouterError) => void = () => {},
): Promise<Body> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  // Neither header: the request has no body (RFC 9112 6.3). Most requests are such GETs; waiting
  // for their `end` cost a timer, five listeners and a promise each.
  if (!chunked && (req.headers['content-length'] === undefined || declared === 0)) {
    return new Uint8Array(0);
  }
  if (!chunked && (!Number.isFinite(declared) || declared <= INLINE_BODY_BYTES)) {
    return readBody(req, limits.maxBytes, limits.timeoutMs);
  }
  return streamBody(req, limits, onError);
}

/**
 * The pieces of `req`'s body one at a time, as node:http parsed them (each a buffer of its own,
 * freed once forwarded: see {@link freeOnRelease}), read from the socket only as they are pulled;
 * a timeout error once the client sent nothing for `ms`. Only time spent waiting for the client
 * counts: while the worker does not pull, nothing is read and no clock runs (backpressure is not
 * the client's fault). Read in flowing mode, one piece per `data` event: a paused stream's
 * `read()` (what `for await` does) joins the pieces it has into a new buffer, and the pieces
 * joined were then left to the GC (a 100 MiB upload: +12 to +16 MiB of them in the router).
 */
async function* bodyPieces(req: IncomingMessage, ms: number): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: unknown;
  let waiting = false;
  let wake: (() => void) | undefined;
  const rouse = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (piece: Buffer): void => {
    queue.push(piece);
    req.pause();
    rouse();
  };
  const onEnd = (): void => {
    ended = true;
    rouse();
  };
  const onError = (err: unknown): void => {
    failure ??= err;
    rouse();
  };
  const onClose = (): void => {
    if (!ended) onError(new Error('the request closed before its body ended'));
  };
  // One timer per body, re-armed per wait (not a timer and a race per piece).
  const timer = setTimeout(() => {
    if (waiting) onError(timedOut(`the client sent no request body bytes for ${ms} ms`));
  }, ms);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onClose);
  try {
    for (;;) {
      const piece = queue.shift();
      if (piece) {
        yield piece;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      waiting = true;
      timer.refresh();
      await new Promise<void>((resolve) => {
        wake = resolve;
        req.resume();
      });
      waiting = false;
    }
  } finally {
    clearTimeout(timer);
    // Leaving early leaves the request alone (destroying it would destroy the socket the
    // response is still being written to): paused, for closeIfUnread / node:http.
    req.pause();
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
  }
}

async function* streamBody(
  req: IncomingMessage,
  { maxBytes, timeoutMs }: BodyLimits,
  onError: (err: RouterError) => void,
): BodyStream {
  let size = 0;
  try {
    for await (const chunk of bodyPieces(req, timeoutMs)) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      const piece = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // A buffer of its own (node:http copies each piece it parses): freed once forwarded.
      yield chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
        ? lendChunk(piece, freeOnRelease)
        : piece;
    }
  } catch (err) {
    const failure =
      err instanceof RouterError
        ? err
        : new RouterError('ERR_ROUTER_CLOSED', 'client went away while sending its body', {
            cause: err,
          });
    // The worker sees the read fail; the router answers for the real reason (413, ...).
    onError(failure);
    throw failure;
  }
}

/**
 * Reads a request body up to `limit` bytes, within `timeoutMs` (then 408). The isolate
 * interface takes the body as one buffer, so it is buffered here; a declared Content-Length
 * over the limit is refused before reading a byte.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  if (req.readableEnded) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.removeAllListeners('data');
      req.pause();
      reject(timedOut(`the client did not send its request body within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        clearTimeout(timer);
        req.removeAllListeners('data');
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('close', () => clearTimeout(timer));
    req.on('end', () => {
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.on('aborted', () => reject(new RouterError('ERR_ROUTER_CLOSED', 'client went away')));
  });
}

/** The request as the isolate wants it: lower-case header names, absolute URL. */
export function toIsolateRequest(req: IncomingMessage, body: Body): IsolateRequest {
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
 * set-cookie stay separate) and the body. A whole body gets Content-Length when the worker gave
 * neither it nor Transfer-Encoding, so that keep-alive works without chunking; a streamed body
 * goes out chunk by chunk as the worker produces it, and no faster than the client reads.
 */
export async function writeResponse(
  res: ServerResponse,
  out: IsolateStreamingResponse,
  close: boolean,
): Promise<void> {
  const flat: string[] = [];
  let hasLength = false;
  for (const [k, v] of out.headers) {
    const lower = k.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') hasLength = true;
    flat.push(k, v);
  }
  const body = out.body;
  if (body instanceof Uint8Array) {
    if (!hasLength) flat.push('content-length', String(body.byteLength));
    if (close) flat.push('connection', 'close');
    res.writeHead(out.status, flat);
    res.end(body);
    return;
  }
  if (close) flat.push('connection', 'close');
  res.writeHead(out.status, flat);
  // Headers go out now, before the first chunk exists (an SSE client sees the stream open).
  res.flushHeaders();
  await pipeBody(res, body);
}

/** Writes a streamed body, waiting for `drain` when the socket is full; the client leaving stops the worker. */
async function pipeBody(res: ServerResponse, body: BodyStream): Promise<void> {
  let gone = false;
  let wake: (() => void) | undefined;
  const onGone = (): void => {
    gone = true;
    wake?.();
  };
  res.on('close', onGone);
  res.on('drain', () => wake?.());
  try {
    for await (const chunk of body) {
      if (gone) break;
      // Once written, a pooled buffer can go back to its isolate thread (local hosts).
      if (!res.write(chunk, () => releaseChunk(chunk))) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        if (gone) break;
      }
    }
  } catch (err) {
    // The worker failed mid-body: the status is sent, so cut the connection (the client sees
    // a truncated response rather than a complete-looking one).
    res.destroy();
    throw err;
  } finally {
    res.off('close', onGone);
  }
  if (!gone) res.end();
}

/** A small text answer of the router itself (404, 413, 502, ...). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * After the response: a request body the worker did not read to its end is not drained (it
 * may be huge); the connection closes once the response is out.
 */
export function closeIfUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  const close = (): void => {
    req.socket?.destroy();
  };
  if (res.writableFinished) close();
  else res.once('finish', close);
}

/**
 * A body nobody reads (an asset or admin answer, a router error page) is drained by node:http
 * after the response, so that the connection can serve its next request: it gets `timeoutMs`
 * for that (the request timeout node:http would apply, which the router turns off because it
 * would also cut a streamed upload that is still flowing), then the connection is closed.
 */
export function drainWithin(req: IncomingMessage, res: ServerResponse, timeoutMs: number): void {
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket?.destroy(), timeoutMs);
    const done = (): void => clearTimeout(timer);
    req.once('end', done);
    req.once('close', done);
  });
}
