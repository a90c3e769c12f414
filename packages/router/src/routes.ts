import { RouterError } from './errors.js';

/** Where a worker is reachable: a host name, a path prefix, or both. */
export interface Route {
  host?: string;
  pathPrefix?: string;
}

/** One entry of the route table. */
export interface RouteEntry {
  worker: string;
  route: Route;
}

function normalisePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === '/') return '/';
  const withSlash = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

/**
 * Matches requests to workers: a route with a host beats one without, a longer path prefix
 * beats a shorter one.
 */
export class RouteTable {
  private readonly entries: { worker: string; host: string | undefined; prefix: string }[];

  constructor(entries: RouteEntry[]) {
    const seen = new Map<string, string>();
    this.entries = entries.map((e) => {
      const host = e.route.host?.toLowerCase();
      const prefix = normalisePrefix(e.route.pathPrefix);
      const key = `${host ?? '*'}${prefix}`;
      const other = seen.get(key);
      if (other && other !== e.worker) {
        throw new RouterError(
          'ERR_ROUTER_CONFIG',
          `workers ${other} and ${e.worker} both claim route ${key}; give one of them another host or path prefix`,
        );
      }
      seen.set(key, e.worker);
      return { worker: e.worker, host, prefix };
    });
    this.entries.sort(
      (a, b) => Number(!!b.host) - Number(!!a.host) || b.prefix.length - a.prefix.length,
    );
  }

  /** The worker serving `host` + `path`, or undefined for none. */
  match(hostHeader: string | undefined, path: string): string | undefined {
    const host = hostHeader?.toLowerCase().replace(/:\d+$/, '');
    for (const e of this.entries) {
      if (e.host && e.host !== host) continue;
      if (
        e.prefix === '/' ||
        path === e.prefix ||
        path.startsWith(`${e.prefix}/`) ||
        path.startsWith(`${e.prefix}?`)
      ) {
        return e.worker;
      }
    }
    return undefined;
  }
}
