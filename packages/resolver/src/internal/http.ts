// GET with a timeout, retries for transient failures, and errors that name the URL (the
// hint for ERR_NETWORK says what to try).
import { ResolverError } from '../errors.js';

export interface HttpOptions {
  fetch?: typeof globalThis.fetch;
  /**
   * Per attempt, until the response headers arrive (default 30 000 ms). The body has no overall
   * limit (a large wheel on a slow link may take minutes); callers that stream it watch for stalls.
   */
  timeoutMs?: number;
  /** Extra attempts after a network error or a 5xx/429 (default 2). */
  retries?: number;
  headers?: Record<string, string>;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for "no such project"). */
  allowStatus?: number[];
}

const TRANSIENT = new Set([429, 500, 502, 503, 504]);

/** Strips credentials from a URL before it goes into a message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = '';
    }
    return u.href;
  } catch {
    return url;
  }
}

/** GETs `url`; throws `ERR_NETWORK` with the URL and a hint on failure. */
export async function httpGet(url: string, options: HttpOptions = {}): Promise<Response> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 2;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    const u = new URL(url);
    const headers: Record<string, string> = {
      'user-agent': 'pyworkers-resolver',
      ...options.headers,
    };
    if (u.username || u.password) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    let res: Response;
    const controller = new AbortController();
    const ms = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => controller.abort(new Error(`no response within ${ms} ms`)), ms);
    try {
      res = await doFetch(u.href, { headers, redirect: 'follow', signal: controller.signal });
    } catch (cause) {
      lastError = cause;
      continue;
    } finally {
      clearTimeout(timer);
    }
    if (res.ok || options.allowStatus?.includes(res.status)) return res;
    await res.body?.cancel();
    if (TRANSIENT.has(res.status) && attempt < retries) {
      lastError = new Error(`HTTP ${res.status}`);
      continue;
    }
    throw new ResolverError(
      'ERR_NETWORK',
      `GET ${redactUrl(url)} answered ${res.status} ${res.statusText}`,
      { userError: true },
    );
  }
  const why =
    lastError instanceof Error
      ? ((lastError.cause as Error | undefined)?.message ?? lastError.message)
      : String(lastError);
  throw new ResolverError('ERR_NETWORK', `GET ${redactUrl(url)} failed: ${why}`, {
    cause: lastError,
    userError: true,
  });
}
