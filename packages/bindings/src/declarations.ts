import { z } from 'zod';
import { BindingError } from './errors.js';

const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a binding name is a Python/JS identifier such as MY_KV');

/** How static assets answer: Cloudflare's `assets.html_handling` values. */
export const htmlHandlingSchema = z.enum([
  'auto-trailing-slash',
  'force-trailing-slash',
  'drop-trailing-slash',
  'none',
]);
/** Cloudflare's `assets.not_found_handling` values. */
export const notFoundHandlingSchema = z.enum(['none', '404-page', 'single-page-application']);

/** One binding a worker declares (parsed from wrangler config or `[tool.pyworkers]` by the caller). */
export const bindingDeclarationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('kv'), name, id: z.string().min(1) }),
  z.object({
    type: z.literal('d1'),
    name,
    databaseName: z.string().min(1),
    databaseId: z.string().min(1).optional(),
    migrationsDir: z.string().min(1).optional(),
    migrationsTable: z.string().min(1).optional(),
  }),
  z.object({ type: z.literal('r2'), name, bucketName: z.string().min(1) }),
  z.object({
    type: z.literal('queue'),
    name,
    queue: z.string().min(1),
    deliveryDelay: z.number().int().min(0).max(43_200).optional(),
  }),
  z.object({
    type: z.literal('assets'),
    name,
    directory: z.string().min(1),
    htmlHandling: htmlHandlingSchema.optional(),
    notFoundHandling: notFoundHandlingSchema.optional(),
  }),
  z.object({
    type: z.literal('durable_object_namespace'),
    name,
    className: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a class name is a Python identifier'),
    /** The worker that defines the class; the config parser fills in the declaring worker's own name. */
    scriptName: z.string().min(1),
  }),
]);

/** One binding a worker declares. */
export type BindingDeclaration = z.infer<typeof bindingDeclarationSchema>;

/** Parses declarations, turning a bad one into a {@link BindingError} naming where it is. */
export function parseDeclarations(value: unknown): BindingDeclaration[] {
  const parsed = z.array(bindingDeclarationSchema).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue
      ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
      : '';
    throw new BindingError(
      'ERR_BINDING_CONFIG',
      `binding declarations${where}: ${issue?.message ?? 'invalid'}`,
      {
        hint: 'check the bindings in wrangler.toml / [tool.pyworkers]',
      },
    );
  }
  const seen = new Set<string>();
  for (const d of parsed.data) {
    if (seen.has(d.name)) {
      throw new BindingError('ERR_BINDING_CONFIG', `binding '${d.name}' is declared twice`, {
        hint: 'give each binding its own name',
      });
    }
    seen.add(d.name);
  }
  return parsed.data;
}
