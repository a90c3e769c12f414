// Parsing PEP 503 HTML and PEP 691 JSON project pages into the source seam's ProjectPage.

import { issuePath } from '@pyworkers/common';
import { z } from 'zod';
import { ResolverError } from '../errors.js';
import { redactUrl } from '../internal/http.js';
import { normalizeName } from '../requirement.js';
import type { DistFile, ProjectPage } from '../source.js';
import { parseWheelFilename } from '../tags.js';

/** The version in a distribution file name (wheel or sdist), when it can be read. */
export function versionFromFilename(filename: string, project: string): string | undefined {
  const wheel = parseWheelFilename(filename);
  if (wheel) return wheel.version;
  const m = /^(.*?)\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip|tar)$/i.exec(filename);
  if (!m) return undefined;
  // sdist: `{name}-{version}`, where the name may itself hold dashes.
  const stem = m[1]!;
  const key = normalizeName(project);
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
    if (normalizeName(stem.slice(0, i)) === key) return stem.slice(i + 1) || undefined;
  }
  return undefined;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === '#') {
      const code =
        e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return Number.isFinite(code) ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  // Skip the tag name itself.
  const body = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  for (const m of body.matchAll(re)) {
    out.set(m[1]!.toLowerCase(), unescapeHtml(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/** Parses `sha256=abc` (a PEP 658 attribute value) into hashes; `true` means "offered, no hash". */
function metadataAttr(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined || value.toLowerCase() === 'false') return undefined;
  const eq = value.indexOf('=');
  if (eq <= 0) return {};
  return { [value.slice(0, eq).toLowerCase()]: value.slice(eq + 1).toLowerCase() };
}

function checkApiVersion(version: string | undefined, pageUrl: string): void {
  if (version === undefined) return;
  const major = Number(version.split('.')[0]);
  if (major !== 1) {
    throw new ResolverError(
      'ERR_INDEX_RESPONSE',
      `${redactUrl(pageUrl)} speaks simple API version ${version}; pyworkers understands 1.x`,
    );
  }
}

function fileFromUrl(
  href: string,
  pageUrl: string,
  project: string,
  source: string,
  extra: Partial<DistFile>,
): DistFile | undefined {
  let url: URL;
  try {
    url = new URL(href, pageUrl);
  } catch {
    return undefined;
  }
  const hashes: Record<string, string> = { ...(extra.hashes ?? {}) };
  const frag = /^#?([a-z0-9]+)=([0-9a-fA-F]+)$/.exec(url.hash);
  if (frag && !hashes[frag[1]!]) hashes[frag[1]!] = frag[2]!.toLowerCase();
  url.hash = '';
  const filename = extra.filename ?? decodeURIComponent(url.pathname.split('/').pop() ?? '');
  if (!filename) return undefined;
  if (/[/\\\0]/.test(filename) || filename === '.' || filename === '..') {
    throw new ResolverError(
      'ERR_INDEX_RESPONSE',
      `${redactUrl(pageUrl)} lists a file named "${filename}", which is not a plain file name`,
      { userError: false },
    );
  }
  const version = versionFromFilename(filename, project);
  return {
    filename,
    url: url.href,
    hashes,
    yanked: extra.yanked ?? false,
    source,
    ...(version ? { version } : {}),
    ...(extra.requiresPython ? { requiresPython: extra.requiresPython } : {}),
    ...(extra.metadataUrl ? { metadataUrl: extra.metadataUrl } : {}),
    ...(extra.metadataHashes ? { metadataHashes: extra.metadataHashes } : {}),
    ...(extra.size !== undefined ? { size: extra.size } : {}),
  };
}

/** Parses a PEP 503 HTML page (PEP 592 yanks, PEP 658/714 metadata, data-requires-python). */
export function parseHtmlPage(
  html: string,
  pageUrl: string,
  project: string,
  source: string,
): ProjectPage {
  const meta = /<meta\s[^>]*name=["']pypi:repository-version["'][^>]*>/i.exec(html);
  if (meta) checkApiVersion(attributes(meta[0]).get('content'), pageUrl);
  const base = /<base\s[^>]*>/i.exec(html);
  const baseHref = base ? attributes(base[0]).get('href') : undefined;
  const baseUrl = baseHref ? new URL(baseHref, pageUrl).href : pageUrl;
  const files: DistFile[] = [];
  for (const m of html.matchAll(/<a\s[^>]*>/gi)) {
    const a = attributes(m[0]);
    const href = a.get('href');
    if (!href) continue;
    const yanked = a.has('data-yanked') ? a.get('data-yanked') || true : false;
    const requiresPython = a.get('data-requires-python');
    const metaHashes = metadataAttr(
      a.get('data-core-metadata') ?? a.get('data-dist-info-metadata'),
    );
    const file = fileFromUrl(href, baseUrl, project, source, {
      yanked,
      ...(requiresPython ? { requiresPython } : {}),
    });
    if (!file) continue;
    if (metaHashes) {
      file.metadataUrl = `${file.url}.metadata`;
      if (Object.keys(metaHashes).length) file.metadataHashes = metaHashes;
    }
    files.push(file);
  }
  return { name: normalizeName(project), files, source };
}

const metadataField = z.union([z.boolean(), z.record(z.string(), z.string())]).optional();
const jsonPage = z.object({
  meta: z.object({ 'api-version': z.string() }),
  name: z.string(),
  files: z.array(
    z.object({
      filename: z.string().min(1),
      url: z.string().min(1),
      hashes: z.record(z.string(), z.string()),
      'requires-python': z.string().nullish(),
      'core-metadata': metadataField,
      'dist-info-metadata': metadataField,
      'data-dist-info-metadata': metadataField,
      yanked: z.union([z.boolean(), z.string()]).optional(),
      size: z.number().int().nonnegative().optional(),
    }),
  ),
});

/** Parses a PEP 691 JSON page, validated with zod. */
export function parseJsonPage(
  text: string,
  pageUrl: string,
  project: string,
  source: string,
): ProjectPage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ResolverError(
      'ERR_INDEX_RESPONSE',
      `${redactUrl(pageUrl)} sent invalid JSON: ${(cause as Error).message}`,
      {
        cause,
        userError: false,
      },
    );
  }
  const parsed = jsonPage.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issuePath(issue.path);
    throw new ResolverError(
      'ERR_INDEX_RESPONSE',
      `${redactUrl(pageUrl)} is not a PEP 691 project page: ${where || '(root)'}: ${issue.message}`,
      { userError: false },
    );
  }
  checkApiVersion(parsed.data.meta['api-version'], pageUrl);
  const files: DistFile[] = [];
  for (const f of parsed.data.files) {
    const metaField = f['core-metadata'] ?? f['dist-info-metadata'] ?? f['data-dist-info-metadata'];
    const hashes = Object.fromEntries(
      Object.entries(f.hashes).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]),
    );
    const file = fileFromUrl(f.url, pageUrl, project, source, {
      filename: f.filename,
      hashes,
      yanked: f.yanked === '' ? true : (f.yanked ?? false),
      ...(f['requires-python'] ? { requiresPython: f['requires-python'] } : {}),
      ...(f.size !== undefined ? { size: f.size } : {}),
    });
    if (!file) continue;
    if (metaField) {
      file.metadataUrl = `${file.url}.metadata`;
      if (typeof metaField === 'object') {
        file.metadataHashes = Object.fromEntries(
          Object.entries(metaField).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]),
        );
      }
    }
    files.push(file);
  }
  return { name: normalizeName(project), files, source };
}
