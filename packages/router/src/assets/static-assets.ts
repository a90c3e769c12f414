// Static assets in front of a worker: a request for a file of its assets directory is answered
// by the router itself, without entering Python, unless `run_worker_first` says the worker goes
// first for that path (then `env.ASSETS.fetch(request)` reaches the same files from Python).
import { type AssetResponse, createAssetsResponder } from '@pyworkers/bindings';
import type { AssetsConfig, Logger } from '@pyworkers/isolate';

/** A worker's assets as the router serves them. */
export interface AssetsFront {
  /** True when the worker answers this path before the assets (`run_worker_first`). */
  workerFirst(pathname: string): boolean;
  /** The asset for this request, or null when none matched and the worker should run. */
  respond(request: {
    method: string;
    url: string;
    headers: [string, string][];
  }): Promise<AssetResponse | null>;
}

/** `/api/*` as a regular expression: `*` is any run of characters, everything else literal. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** Cloudflare's `run_worker_first`: a boolean, or route globs where `!glob` excludes paths. */
export function workerFirstMatcher(rule: boolean | string[]): (pathname: string) => boolean {
  if (typeof rule === 'boolean') return () => rule;
  const include = rule.filter((g) => !g.startsWith('!')).map(globToRegExp);
  const exclude = rule.filter((g) => g.startsWith('!')).map((g) => globToRegExp(g.slice(1)));
  return (pathname) =>
    include.some((r) => r.test(pathname)) && !exclude.some((r) => r.test(pathname));
}

/** The assets front of one worker; `config.directory` is absolute (host config). */
export function assetsFront(config: AssetsConfig, logger: Logger): AssetsFront {
  const responder = createAssetsResponder({
    directory: config.directory,
    htmlHandling: config.htmlHandling,
    notFoundHandling: config.notFoundHandling,
    logger,
  });
  return {
    workerFirst: workerFirstMatcher(config.runWorkerFirst),
    respond: (request) => responder.respond(request),
  };
}
