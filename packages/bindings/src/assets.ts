import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import mime from 'mime';
import type { z } from 'zod';
import { htmlHandlingSchema, notFoundHandlingSchema } from './declarations.js';
import { BindingError } from './errors.js';
import { type AssetIntent, resolveIntent } from './internal/assets-intent.js';
import { type Logger, silentLogger } from './logger.js';

/** Cloudflare's `assets.html_handling`. */
export type HtmlHandling = z.infer<typeof htmlHandlingSchema>;
/** Cloudflare's `assets.not_found_handling`. */
export type NotFoundHandling = z.infer<typeof notFoundHandlingSchema>;

/** Options of {@link createAssetsResponder}. */
export interface AssetsOptions {
  directory: string;
  htmlHandling?: HtmlHandling;
  notFoundHandling?: NotFoundHandling;
  logger?: Logger;
}

/** The request fields the responder reads. */
export interface AssetRequest {
  method: string;
  url: string;
  headers: Headers | Record<string, string> | [string, string][];
}

/** A response as plain data (the router writes it; the ASSETS binding returns it). */
export interface AssetResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array | null;
}

/** Serves one assets directory the way Cloudflare's asset worker answers. */
export interface AssetsResponder {
  readonly directory: string;
  /** The asset response, or null when no asset matched (the worker should answer). */
  respond(request: AssetRequest): Promise<AssetResponse | null>;
  /** `env.ASSETS.fetch(request)`: like respond, but a miss is a plain 404. */
  fetch(request: AssetRequest): Promise<AssetResponse>;
}

const CACHE_CONTROL = 'public, max-age=0, must-revalidate';
/** Files the asset directory may hold that are configuration, never served. */
const NOT_SERVED = new Set(['/.assetsignore', '/_headers', '/_redirects', '/_worker.js']);

/** Content type as Cloudflare sends it: the `mime` package's type, `; charset=utf-8` on text/*. */
export function assetContentType(path: string): string {
  const type = mime.getType(path);
  if (!type) return 'application/octet-stream';
  return type.startsWith('text/') && !type.includes('charset') ? `${type}; charset=utf-8` : type;
}

function header(headers: AssetRequest['headers'], name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const lower = name.toLowerCase();
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [k, v] of entries) if (k.toLowerCase() === lower) return v;
  return null;
}

/** Decodes each segment and collapses repeated slashes; null for a path that tries to escape. */
function decodePath(pathname: string): string | null {
  const parts = pathname.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  for (const p of parts) {
    if (p === '..' || p === '.' || p.includes('\\') || p.includes('\0') || p.includes('/'))
      return null;
  }
  return parts.join('/').replace(/\/+/g, '/');
}

function encodePath(pathname: string): string {
  return pathname
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** Creates the responder; the directory must exist. */
export function createAssetsResponder(options: AssetsOptions): AssetsResponder {
  const htmlHandling = htmlHandlingSchema.parse(options.htmlHandling ?? 'auto-trailing-slash');
  const notFoundHandling = notFoundHandlingSchema.parse(options.notFoundHandling ?? 'none');
  const logger = options.logger ?? silentLogger;
  let root: string;
  try {
    root = realpathSync(options.directory);
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new BindingError(
      'ERR_ASSETS_CONFIG',
      `assets directory ${options.directory} does not exist or is not a directory`,
      {
        cause,
        hint: 'set assets.directory to a folder of the project (e.g. "./public")',
      },
    );
  }
  const etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();

  /** The real file for a decoded URL path when it is a file inside root, else null. */
  const fileFor = (path: string): string | null => {
    if (NOT_SERVED.has(path)) return null;
    let real: string;
    try {
      real = realpathSync(join(root, path));
    } catch {
      return null;
    }
    if (!real.startsWith(root + sep)) return null; // a symlink out of the directory
    try {
      return statSync(real).isFile() ? real : null;
    } catch {
      return null;
    }
  };

  const etagOf = (file: string): string => {
    const st = statSync(file);
    const known = etags.get(file);
    if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) return known.etag;
    const etag = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 32);
    etags.set(file, { mtimeMs: st.mtimeMs, size: st.size, etag });
    return etag;
  };

  const exists = (path: string): string | null => {
    const file = fileFor(path);
    return file === null ? null : etagOf(file);
  };

  const serve = (
    request: AssetRequest,
    intent: Extract<AssetIntent, { path: string }>,
  ): AssetResponse => {
    const file = fileFor(intent.path);
    if (file === null) return { status: 404, headers: [], body: null };
    const etag = `"${etagOf(file)}"`;
    const headers: [string, string][] = [
      ['ETag', etag],
      ['Content-Type', assetContentType(file)],
    ];
    if (header(request.headers, 'authorization') === null)
      headers.push(['Cache-Control', CACHE_CONTROL]);
    const ifNoneMatch = header(request.headers, 'if-none-match');
    const tags = ifNoneMatch?.split(',').map((t) => t.trim()) ?? [];
    if (tags.some((t) => t === etag || t === `W/${etag}` || t === '*')) {
      return { status: 304, headers, body: null };
    }
    const head = request.method.toUpperCase() === 'HEAD';
    const body = readFileSync(file);
    const range = intent.status === 200 ? header(request.headers, 'range') : null;
    if (range !== null) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== '' || m[2] !== '')) {
        const size = body.byteLength;
        let start: number;
        let end: number;
        if (m[1] === '') {
          start = Math.max(0, size - Number(m[2]));
          end = size - 1;
        } else {
          start = Number(m[1]);
          end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
        }
        if (start >= size || start > end) {
          return {
            status: 416,
            headers: [...headers, ['Content-Range', `bytes */${size}`]],
            body: null,
          };
        }
        headers.push(['Content-Range', `bytes ${start}-${end}/${size}`]);
        return {
          status: 206,
          headers,
          body: head ? null : new Uint8Array(body.subarray(start, end + 1)),
        };
      }
    }
    return {
      status: intent.status,
      headers,
      body: head ? null : new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    };
  };

  const respond = async (request: AssetRequest): Promise<AssetResponse | null> => {
    let url: URL;
    try {
      url = new URL(request.url, 'http://localhost');
    } catch {
      return null;
    }
    const decoded = decodePath(url.pathname);
    if (decoded === null) {
      logger.debug({ path: url.pathname }, 'assets: refused a path that leaves the directory');
      return null;
    }
    const intent = resolveIntent(decoded, { htmlHandling, notFoundHandling, exists });
    if (intent === null) return null;
    if (!['GET', 'HEAD'].includes(request.method.toUpperCase())) {
      return { status: 405, headers: [['Allow', 'GET, HEAD']], body: null };
    }
    const destination = 'redirect' in intent ? intent.redirect : decoded;
    const encoded = encodePath(destination);
    if ('redirect' in intent || encoded !== url.pathname) {
      return { status: 307, headers: [['Location', encoded + url.search]], body: null };
    }
    return serve(request, intent);
  };

  return {
    directory: root,
    respond,
    async fetch(request) {
      return (await respond(request)) ?? { status: 404, headers: [], body: null };
    },
  };
}
