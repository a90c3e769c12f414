import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ADMIN_COOKIE, ADMIN_PREFIX, adminAccess, normalizeAdminPath } from './access.js';

/** What the admin paths need from the router. */
export interface AdminDeps {
  /** Required on every admin request when set; else admin paths answer loopback only. */
  token: string | undefined;
  status(): Promise<unknown>;
  metrics(): Promise<{ body: string; contentType: string }>;
}

// The page's files ship in the package's assets/ (no build step, no CDN): found from src/admin/
// (source-first runs) and from dist/ (published), which sit at different depths.
const assetDirs = ['../../assets/', '../assets/'].map((rel) => new URL(rel, import.meta.url));

function assetDir(): URL {
  const dir = assetDirs.find((u) => existsSync(fileURLToPath(new URL('status.html', u))));
  if (!dir) throw new Error('@pyworkers/router is missing assets/status.html; reinstall it');
  return dir;
}

const require = createRequire(import.meta.url);
const ASSETS: Record<string, { file: () => string; type: string }> = {
  'status.js': {
    file: () => fileURLToPath(new URL('status.js', assetDir())),
    type: 'text/javascript; charset=utf-8',
  },
  'status.css': {
    file: () => fileURLToPath(new URL('status.css', assetDir())),
    type: 'text/css; charset=utf-8',
  },
  'uPlot.iife.min.js': {
    file: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uPlot.min.css': {
    file: () => require.resolve('uplot/dist/uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};
const cache = new Map<string, Buffer>();

function asset(name: string): Buffer {
  let bytes = cache.get(name);
  if (!bytes) {
    const a = ASSETS[name];
    bytes = a ? readFileSync(a.file()) : readFileSync(fileURLToPath(new URL(name, assetDir())));
    cache.set(name, bytes);
  }
  return bytes;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Answers a request under `/__pyworkers/`: the status page (`/__pyworkers/`), its files
 * (`assets/`), the JSON it polls (`status`) and Prometheus metrics (`metrics`). Access is
 * checked first (see {@link adminAccess}); anything else there is a 404, never a worker.
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
): Promise<void> {
  const access = adminAccess(req, deps.token);
  if (access === 'hidden') {
    send(res, 404, 'text/plain; charset=utf-8', `no worker is routed at ${req.url ?? '/'}\n`);
    return;
  }
  if (access === 'unauthorized') {
    send(
      res,
      401,
      'text/plain; charset=utf-8',
      'the admin paths need the admin token: Authorization: Bearer <token>, or ?token=<token> once in a browser\n',
      { 'www-authenticate': 'Bearer realm="pyworkers admin"' },
    );
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', 'admin paths answer GET and HEAD only\n', {
      allow: 'GET, HEAD',
    });
    return;
  }
  const folded = normalizeAdminPath(req.url ?? '/');
  // `..` and `.` segments are refused rather than resolved: no detours inside or out.
  if (!folded.startsWith(ADMIN_PREFIX) || /\/\.\.?(\/|$)/.test(folded)) {
    send(res, 404, 'text/plain; charset=utf-8', `no admin path ${req.url}\n`);
    return;
  }
  const path = folded.slice(ADMIN_PREFIX.length);
  if (path === '' || path === '/') {
    if (path === '') {
      send(res, 308, 'text/plain; charset=utf-8', '', { location: `${ADMIN_PREFIX}/` });
      return;
    }
    const extra: Record<string, string> = {};
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    // Keep the token for the page's own polling, in a cookie only admin paths get.
    if (deps.token && query)
      extra['set-cookie'] =
        `${ADMIN_COOKIE}=${encodeURIComponent(query)}; Path=${ADMIN_PREFIX}/; HttpOnly; SameSite=Strict`;
    send(res, 200, 'text/html; charset=utf-8', asset('status.html'), extra);
    return;
  }
  if (path === '/status') {
    send(res, 200, 'application/json', JSON.stringify(await deps.status()));
    return;
  }
  if (path === '/metrics') {
    const m = await deps.metrics();
    send(res, 200, m.contentType, m.body);
    return;
  }
  const name = /^\/assets\/([\w.-]+)$/.exec(path)?.[1];
  const known = name ? Object.keys(ASSETS).find((k) => k.toLowerCase() === name) : undefined;
  if (known) {
    send(res, 200, ASSETS[known]!.type, asset(known));
    return;
  }
  send(res, 404, 'text/plain; charset=utf-8', `no admin path ${req.url}\n`);
}
