import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { posix } from 'node:path';

/** Every admin path (status page, status JSON, metrics) lives under this prefix. */
export const ADMIN_PREFIX = '/__pyworkers';

/** The cookie the status page keeps the token in after `?token=` (so polling needs no header). */
export const ADMIN_COOKIE = 'pyworkers_admin';

/**
 * A request path as the admin namespace sees it: no query, percent-decoded, backslashes and
 * repeated slashes folded, lower case. Dot segments are left in (the admin paths refuse them).
 */
export function normalizeAdminPath(url: string): string {
  let path = url.split(/[?#]/, 1)[0] ?? '/';
  try {
    path = decodeURIComponent(path);
  } catch {
    // A malformed escape stays as written.
  }
  return `/${path}`.replace(/[\\/]+/g, '/').toLowerCase();
}

const inAdmin = (p: string): boolean => p === ADMIN_PREFIX || p.startsWith(`${ADMIN_PREFIX}/`);

/**
 * Whether `url` is in the admin namespace: those requests never go to a worker. Decided on the
 * folded path both before and after resolving dot segments, so that no spelling of
 * `/__pyworkers/...` reaches a worker, and none reaches the admin paths by a detour.
 */
export function isAdminPath(url: string): boolean {
  // Most requests: nothing escaped and no `__pyworkers` in any case, so no folding can make
  // one (folding joins no two characters into one, and lowers case as this does).
  if (!url.includes('%') && !url.toLowerCase().includes('__pyworkers')) return false;
  const folded = normalizeAdminPath(url);
  return inAdmin(folded) || inAdmin(posix.normalize(folded));
}

/** Whether a socket address is this machine (127.0.0.0/8, ::1, or IPv4-mapped 127.x). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-pyworkers-admin-token'];
  if (typeof header === 'string') return header;
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  if (query) return query;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === ADMIN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** What the admin paths answer a request: serve it, pretend nothing is there, or ask for the token. */
export type AdminAccess = 'ok' | 'hidden' | 'unauthorized';

/**
 * Without a token, admin paths answer only requests from this machine that did not come
 * through a proxy (a `Forwarded`/`X-Forwarded-For` header means someone else sent it); others
 * get a 404 as if nothing were there. With a token, every request must carry it (bearer header,
 * `x-pyworkers-admin-token`, `?token=` or the page's cookie), compared in constant time.
 */
export function adminAccess(req: IncomingMessage, token: string | undefined): AdminAccess {
  if (token) {
    const given = tokenOf(req);
    return given !== undefined && timingSafeEqual(digest(given), digest(token))
      ? 'ok'
      : 'unauthorized';
  }
  const proxied =
    req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined;
  return isLoopback(req.socket.remoteAddress) && !proxied ? 'ok' : 'hidden';
}
