/**
 * Which file answers a path under Cloudflare's `html_handling` and `not_found_handling`
 * (behaviour as documented in Cloudflare's "HTML handling" and "Not found handling" pages).
 * A redirect is offered only when the destination would serve the very same file.
 */

/** Serve a file with a status, or redirect. */
export type AssetIntent = { path: string; status: 200 | 404 } | { redirect: string };

interface Context {
  htmlHandling: 'auto-trailing-slash' | 'force-trailing-slash' | 'drop-trailing-slash' | 'none';
  notFoundHandling: 'none' | '404-page' | 'single-page-application';
  /** The etag of the file at this decoded path, or null. */
  exists: (path: string) => string | null;
}

type Rule = { serve: string } | { redirect: string; file: string };

/** The candidate rules for one path, in order, per html_handling mode. */
function rules(p: string, mode: Context['htmlHandling']): Rule[] {
  const s = (x: string): Rule => ({ serve: x });
  const r = (file: string, to: string): Rule => ({ redirect: to, file });
  if (mode === 'none') return [s(p)];
  const stem = (n: number) => p.slice(0, -n);
  if (mode === 'auto-trailing-slash') {
    if (p.endsWith('/index'))
      return [
        s(p),
        r(`${p}.html`, stem(5)),
        r(`${stem(6)}.html`, stem(6)),
        s(`${p}.html`),
        r(`${p}/index.html`, `${p}/`),
      ];
    if (p.endsWith('/index.html')) return [r(p, stem(10)), r(`${stem(11)}.html`, stem(11)), s(p)];
    if (p.endsWith('/')) return [s(`${p}index.html`), r(`${stem(1)}.html`, stem(1)), s(p)];
    if (p.endsWith('.html'))
      return [r(p, stem(5)), r(`${stem(5)}/index.html`, `${stem(5)}/`), s(p)];
    return [s(p), s(`${p}.html`), r(`${p}/index.html`, `${p}/`)];
  }
  if (mode === 'force-trailing-slash') {
    if (p.endsWith('/index'))
      return [
        s(p),
        r(`${p}.html`, stem(5)),
        r(`${stem(6)}.html`, stem(5)),
        r(`${p}.html`, `${p}/`),
        r(`${p}/index.html`, `${p}/`),
      ];
    if (p.endsWith('/index.html')) return [r(p, stem(10)), r(`${stem(11)}.html`, stem(10)), s(p)];
    if (p.endsWith('/')) return [s(`${p}index.html`), s(`${stem(1)}.html`), s(p)];
    if (p.endsWith('.html'))
      return [r(p, `${stem(5)}/`), s(p), r(`${stem(5)}/index.html`, `${stem(5)}/`)];
    return [s(p), r(`${p}.html`, `${p}/`), r(`${p}/index.html`, `${p}/`)];
  }
  // drop-trailing-slash
  if (p === '/index' || p === '/index.html') return [s(p), r('/index.html', '/')];
  if (p === '/') return [s('/index.html')];
  if (p.endsWith('/index'))
    return [
      s(p),
      r(`${stem(6)}.html`, stem(6)),
      r(`${p}.html`, stem(6)),
      s(`${p}.html`),
      s(`${p}/index.html`),
    ];
  if (p.endsWith('/index.html')) return [r(p, stem(11)), s(p), r(`${stem(11)}.html`, stem(11))];
  if (p.endsWith('/'))
    return [r(`${stem(1)}.html`, stem(1)), r(`${stem(1)}/index.html`, stem(1)), s(p)];
  if (p.endsWith('.html')) return [r(p, stem(5)), r(`${stem(5)}/index.html`, stem(5)), s(p)];
  return [s(p), s(`${p}.html`), s(`${p}/index.html`)];
}

function htmlIntent(p: string, ctx: Context, allowRedirects: boolean): AssetIntent | null {
  for (const rule of rules(p, ctx.htmlHandling)) {
    if ('serve' in rule) {
      if (ctx.exists(rule.serve) !== null) return { path: rule.serve, status: 200 };
      continue;
    }
    if (!allowRedirects) continue;
    const etag = ctx.exists(rule.file);
    if (
      etag === null ||
      !rule.redirect.startsWith('/') ||
      rule.redirect === p ||
      ctx.exists(rule.redirect) !== null
    )
      continue;
    const there = htmlIntent(rule.redirect, ctx, false);
    if (there !== null && 'path' in there && ctx.exists(there.path) === etag)
      return { redirect: rule.redirect };
  }
  return null;
}

/** The intent for a decoded path, or null when no asset answers it. */
export function resolveIntent(p: string, ctx: Context): AssetIntent | null {
  const found = htmlIntent(p, ctx, true);
  if (found !== null) return found;
  if (ctx.notFoundHandling === 'single-page-application') {
    return ctx.exists('/index.html') !== null ? { path: '/index.html', status: 200 } : null;
  }
  if (ctx.notFoundHandling === '404-page') {
    for (let dir = p; dir !== ''; ) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      if (ctx.exists(`${dir}/404.html`) !== null) return { path: `${dir}/404.html`, status: 404 };
    }
  }
  return null;
}
