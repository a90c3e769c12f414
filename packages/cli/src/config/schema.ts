import type { Route } from '@pyworkers/router';
import { z } from 'zod';

const ROUTE_HINT =
  'a path prefix like "/api", a host like "api.example.com", or { host = "...", path = "/..." }';

/** `"/api"` is a path prefix, `"api.example.com"` a host, `"api.example.com/v1"` both. */
export function parseRouteString(s: string): Route {
  if (s.startsWith('/')) return { pathPrefix: s };
  const slash = s.indexOf('/');
  if (slash < 0) return { host: s };
  const path = s.slice(slash).replace(/\*$/, '');
  return { host: s.slice(0, slash), ...(path && path !== '/' ? { pathPrefix: path } : {}) };
}

const routeSchema = z.union(
  [
    z.string().min(1).transform(parseRouteString),
    z
      .object({
        host: z.string().min(1).optional(),
        path: z.string().startsWith('/', 'a path prefix starts with "/"').optional(),
      })
      .strict()
      .refine((r) => r.host || r.path, 'give host, path or both')
      .transform(
        (r): Route => ({
          ...(r.host ? { host: r.host } : {}),
          ...(r.path ? { pathPrefix: r.path } : {}),
        }),
      ),
  ],
  { error: `expected ${ROUTE_HINT}` },
);

const varValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error: 'a var must be a string, number or boolean',
  })
  .transform(String);

const requestTimeoutMs = z
  .number({ error: 'expected a whole number of milliseconds, e.g. 30000' })
  .int('expected a whole number of milliseconds, e.g. 30000')
  .positive('must be above 0');
const memoryMb = z
  .number({ error: 'expected a whole number of megabytes, e.g. 256' })
  .int('expected a whole number of megabytes, e.g. 256')
  .min(16, 'must be at least 16 (MB)')
  .max(4096, 'must be at most 4096 (MB): a Wasm32 heap cannot grow past 4 GiB');

/** Limits of one worker. */
export const limitsSchema = z
  .object({
    request_timeout_ms: requestTimeoutMs.default(30_000),
    memory_mb: memoryMb.default(256),
  })
  .strict();

/**
 * Limits given by flags or env vars: the same checks, but no defaults (zod 4 applies a
 * default inside `.partial()`, which made the flag's default override the file's value).
 */
export const limitsOverrideSchema = z
  .object({ request_timeout_ms: requestTimeoutMs.optional(), memory_mb: memoryMb.optional() })
  .strict();

/** Which runtime the worker asks for: `pyodide-<version>` or `python-<major.minor>`. */
export const compatibilitySchema = z
  .string()
  .regex(
    /^(pyodide|python)-\d+(\.\d+)*$/,
    'expected "pyodide-<version>" (e.g. "pyodide-314") or "python-<major.minor>" (e.g. "python-3.13")',
  );

/** `[tool.pyworkers]` in pyproject.toml. */
export const toolSchema = z
  .object({
    name: z
      .string({ error: 'expected a string' })
      .regex(
        /^[a-z0-9][a-z0-9_-]*$/i,
        'use letters, digits, - and _ (starting with a letter or digit)',
      )
      .optional(),
    main: z
      .string({ error: 'expected the path of the entry module, e.g. "src/entry.py"' })
      .regex(/\.py$/, 'the entry module must be a .py file, e.g. "src/entry.py"')
      .optional(),
    vars: z.record(z.string(), varValue, { error: 'expected a table of strings' }).optional(),
    routes: z.array(routeSchema, { error: `expected a list of routes: ${ROUTE_HINT}` }).optional(),
    limits: limitsSchema.optional(),
    compatibility: compatibilitySchema.optional(),
  })
  .strict();

/** Parsed `[tool.pyworkers]`. */
export type ToolConfig = z.output<typeof toolSchema>;

/** The keys of wrangler.toml / wrangler.jsonc that pyworkers acts on. */
export const WRANGLER_KEYS = [
  'name',
  'main',
  'vars',
  'compatibility_flags',
  'compatibility_date',
  'routes',
  'route',
] as const;

/** Keys that describe the deployment, not the worker: accepted silently. */
export const WRANGLER_IGNORED_SILENTLY = ['$schema', 'account_id', 'workers_dev', 'keep_vars'];

const wranglerRoute = z.union([
  z.string().min(1),
  z.object({ pattern: z.string().min(1) }).transform((r) => r.pattern),
]);

/** A Cloudflare Worker's wrangler config (the keys that matter here; others pass through). */
export const wranglerSchema = z
  .object({
    name: z.string().min(1).optional(),
    main: z.string().min(1).optional(),
    vars: z
      .record(
        z.string(),
        z.unknown().transform((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
      )
      .optional(),
    compatibility_flags: z.array(z.string()).optional(),
    compatibility_date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date like "2025-11-01"')
      .optional(),
    routes: z.array(wranglerRoute).optional(),
    route: wranglerRoute.optional(),
  })
  .passthrough();

/** wrangler `routes`/`route` patterns (`example.com/api/*`) as routes. */
export function routesFromWrangler(routes?: string[], route?: string): Route[] {
  return [...(routes ?? []), ...(route ? [route] : [])].map(parseRouteString);
}
