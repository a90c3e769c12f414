// Bindings, cron triggers, queue consumers and static assets, as wrangler.toml / wrangler.jsonc
// spell them (`kv_namespaces`, `d1_databases`, ...) and the same keys under [tool.pyworkers].
import type {
  AssetsConfig,
  BindingDeclaration,
  DurableObjectsConfig,
  QueueConsumer,
  WorkerBindings,
} from '@pyworkers/isolate';
import { z } from 'zod';

const binding = z
  .string({ error: 'expected the binding name, e.g. "MY_KV"' })
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'a binding name must be a Python identifier (letters, digits, _), e.g. "MY_KV"',
  );
const className = z
  .string({ error: 'expected a class name, e.g. "Counter"' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a class name must be a Python identifier, e.g. "Counter"');
const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, `${what} is empty`);
const seconds = (max: number) =>
  z
    .number({ error: 'expected a number of seconds' })
    .min(0, 'must be 0 or more')
    .max(max, `must be at most ${max}`);
const count = (min: number, max: number) =>
  z
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/**
 * The binding keys. `strict` (for [tool.pyworkers]) refuses unknown keys so typos are caught;
 * wrangler files carry deployment-only keys (`preview_id`, `remote`, ...) that are let through.
 */
function shape(strict: boolean) {
  const obj = <T extends z.ZodRawShape>(s: T) => (strict ? z.object(s).strict() : z.object(s));
  return {
    kv_namespaces: z
      .array(obj({ binding, id: text('the namespace id').optional() }), {
        error: 'expected a list of { binding, id }',
      })
      .optional(),
    d1_databases: z
      .array(
        obj({
          binding,
          database_name: text('the database name').optional(),
          database_id: text('the database id').optional(),
          migrations_dir: text('the migrations directory').optional(),
        }),
        { error: 'expected a list of { binding, database_name, database_id }' },
      )
      .optional(),
    r2_buckets: z
      .array(obj({ binding, bucket_name: text('the bucket name') }), {
        error: 'expected a list of { binding, bucket_name }',
      })
      .optional(),
    queues: obj({
      producers: z
        .array(
          obj({
            binding,
            queue: text('the queue name'),
            delivery_delay: seconds(43_200).optional(),
          }),
        )
        .optional(),
      consumers: z
        .array(
          obj({
            queue: text('the queue name'),
            max_batch_size: count(1, 100).optional(),
            max_batch_timeout: seconds(60).optional(),
            max_retries: count(0, 100).optional(),
            dead_letter_queue: text('the dead-letter queue name').optional(),
            max_concurrency: count(1, 250).optional(),
            retry_delay: seconds(43_200).optional(),
          }),
        )
        .optional(),
    }).optional(),
    services: z
      .array(
        obj({
          binding,
          service: text('the name of the worker to call, e.g. "py-rpc-server"'),
          entrypoint: z
            .string({ error: 'expected the name of a class of that worker, e.g. "Highlighter"' })
            .regex(
              /^[A-Za-z_][A-Za-z0-9_]*$/,
              'an entrypoint is a class name of the target worker (a Python identifier)',
            )
            .optional(),
        }),
        { error: 'expected a list of { binding, service, entrypoint? }' },
      )
      .optional(),
    assets: obj({
      directory: text('the assets directory, e.g. "./public"'),
      binding: binding.optional(),
      html_handling: z
        .enum(['auto-trailing-slash', 'force-trailing-slash', 'drop-trailing-slash', 'none'])
        .optional(),
      not_found_handling: z.enum(['none', '404-page', 'single-page-application']).optional(),
      run_worker_first: z
        .union([z.boolean(), z.array(z.string().min(1))], {
          error: 'expected true, false or a list of path globs such as ["/api/*"]',
        })
        .optional(),
    }).optional(),
    triggers: obj({
      crons: z.array(text('a cron expression such as "*/5 * * * *"')).optional(),
    }).optional(),
    durable_objects: obj({
      bindings: z
        .array(
          obj({
            name: binding,
            class_name: className,
            script_name: text('the name of the worker that defines the class').optional(),
          }),
          { error: 'expected a list of { name, class_name, script_name? }' },
        )
        .optional(),
    }).optional(),
    migrations: z
      .array(
        obj({
          tag: text('the migration tag, e.g. "v1"'),
          new_classes: z.array(className).optional(),
          new_sqlite_classes: z.array(className).optional(),
          renamed_classes: z.array(obj({ from: className, to: className })).optional(),
          deleted_classes: z.array(className).optional(),
        }),
        { error: 'expected a list of { tag, new_sqlite_classes, renamed_classes, ... }' },
      )
      .optional(),
  };
}

/** The binding keys of a wrangler config (unknown inner keys let through). */
export const wranglerBindingsShape = shape(false);
/** The same keys under [tool.pyworkers] (unknown inner keys refused). */
export const toolBindingsShape = shape(true);
/** Top-level config keys this file reads. */
export const BINDING_KEYS = Object.keys(wranglerBindingsShape);

/** Parsed binding keys of one config file. */
export type BindingsConfig = {
  [K in keyof typeof wranglerBindingsShape]?: z.output<(typeof wranglerBindingsShape)[K]>;
};

/** The binding keys as flags set them: lists replace the files' lists, assets keys merge over them. */
export type BindingsOverride = Omit<BindingsConfig, 'assets'> & {
  assets?: Partial<NonNullable<BindingsConfig['assets']>>;
};

/** Validates flag-set binding keys (assets partial: a flag may set one of its keys). */
export const bindingsOverrideSchema = z
  .object({
    ...toolBindingsShape,
    assets: toolBindingsShape.assets.unwrap().partial().optional(),
  })
  .strict();

/**
 * `configs` with the keys `over` sets taken out, then `over` as the last source: key by key,
 * the later source wins ([tool.pyworkers] over wrangler, flags over both; assets: each key).
 */
export function withOverrides<
  C extends { config: BindingsConfig; file: string; prefix: (string | number)[] },
>(
  configs: C[],
  over: BindingsOverride | undefined,
  source: string,
  prefix: (string | number)[] = [],
): { config: BindingsConfig; file: string; prefix: (string | number)[] }[] {
  if (!over) return configs;
  let assets: BindingsConfig['assets'];
  const stripped = configs.map((c) => {
    const config: BindingsConfig = { ...c.config };
    for (const key of [
      'kv_namespaces',
      'd1_databases',
      'r2_buckets',
      'services',
      'triggers',
      'durable_objects',
      'migrations',
    ] as const)
      if (over[key]) delete config[key];
    if (over.queues && config.queues) {
      config.queues = { ...config.queues };
      if (over.queues.producers) delete config.queues.producers;
      if (over.queues.consumers) delete config.queues.consumers;
    }
    if (over.assets && config.assets) {
      assets = config.assets;
      delete config.assets;
    }
    return { ...c, config };
  });
  const merged = over.assets ? { ...assets, ...over.assets } : undefined;
  if (merged && !merged.directory) {
    throw new BindingConflict(
      'assets options were given without an assets directory',
      { path: [...prefix, 'assets', 'directory'], file: source },
      'pass --assets DIR (or set assets.directory in the config)',
    );
  }
  const { assets: _partial, ...rest } = over;
  return [
    ...stripped,
    {
      config: { ...rest, ...(merged ? { assets: merged as BindingsConfig['assets'] } : {}) },
      file: source,
      prefix,
    },
  ];
}

/** Where one declaration came from, to point errors at it. */
export interface DeclarationSource {
  /** e.g. ['kv_namespaces', 0] */
  path: (string | number)[];
  /** The config file that declared it (its label in messages). */
  file: string;
}

/** A worker's bindings and where each was declared. */
export interface ResolvedBindings extends WorkerBindings {
  sources: Map<string, DeclarationSource>;
}

/** Thrown for a declaration that clashes with another; the caller adds file and line. */
export class BindingConflict extends Error {
  constructor(
    message: string,
    readonly source: DeclarationSource,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** Turns the binding keys of each config (wrangler first, then [tool.pyworkers]) into declarations. */
export function resolveBindings(
  configs: { config: BindingsConfig; file: string; prefix: (string | number)[] }[],
  vars: Record<string, string>,
): ResolvedBindings {
  const bindings: BindingDeclaration[] = [];
  const sources = new Map<string, DeclarationSource>();
  const crons: string[] = [];
  const queueConsumers: QueueConsumer[] = [];
  let assets: AssetsConfig | undefined;
  const objectClasses: string[] = [];
  let migrations: DurableObjectsConfig['migrations'] = [];
  const add = (decl: BindingDeclaration, source: DeclarationSource): void => {
    const before = sources.get(decl.name);
    if (before) {
      throw new BindingConflict(
        `binding "${decl.name}" is declared twice (also at ${before.file} ${before.path.join('.')})`,
        source,
        'give each binding its own name',
      );
    }
    if (decl.name in vars) {
      throw new BindingConflict(
        `binding "${decl.name}" has the name of a var`,
        source,
        `rename the binding or the var: both would be self.env.${decl.name}`,
      );
    }
    bindings.push(decl);
    sources.set(decl.name, source);
  };
  for (const { config, file, prefix } of configs) {
    const at = (...path: (string | number)[]): DeclarationSource => ({
      path: [...prefix, ...path],
      file,
    });
    config.kv_namespaces?.forEach((kv, i) => {
      add({ type: 'kv', name: kv.binding, id: kv.id ?? kv.binding }, at('kv_namespaces', i));
    });
    config.d1_databases?.forEach((d1, i) => {
      add(
        {
          type: 'd1',
          name: d1.binding,
          databaseName: d1.database_name ?? d1.binding,
          ...(d1.database_id ? { databaseId: d1.database_id } : {}),
          ...(d1.migrations_dir ? { migrationsDir: d1.migrations_dir } : {}),
        },
        at('d1_databases', i),
      );
    });
    config.r2_buckets?.forEach((r2, i) => {
      add({ type: 'r2', name: r2.binding, bucketName: r2.bucket_name }, at('r2_buckets', i));
    });
    config.services?.forEach((svc, i) => {
      add(
        {
          type: 'service',
          name: svc.binding,
          service: svc.service,
          ...(svc.entrypoint ? { entrypoint: svc.entrypoint } : {}),
        },
        at('services', i),
      );
    });
    config.queues?.producers?.forEach((q, i) => {
      add(
        {
          type: 'queue',
          name: q.binding,
          queue: q.queue,
          ...(q.delivery_delay !== undefined ? { deliveryDelay: q.delivery_delay } : {}),
        },
        at('queues', 'producers', i),
      );
    });
    for (const c of config.queues?.consumers ?? []) {
      queueConsumers.push({
        queue: c.queue,
        maxBatchSize: c.max_batch_size ?? 10,
        maxBatchTimeout: c.max_batch_timeout ?? 5,
        maxRetries: c.max_retries ?? 3,
        ...(c.dead_letter_queue ? { deadLetterQueue: c.dead_letter_queue } : {}),
        ...(c.retry_delay !== undefined ? { retryDelay: c.retry_delay } : {}),
        ...(c.max_concurrency !== undefined ? { maxConcurrency: c.max_concurrency } : {}),
      });
    }
    if (config.assets) {
      const a = config.assets;
      assets = {
        directory: a.directory,
        ...(a.binding ? { binding: a.binding } : {}),
        htmlHandling: a.html_handling ?? 'auto-trailing-slash',
        notFoundHandling: a.not_found_handling ?? 'none',
        runWorkerFirst: a.run_worker_first ?? false,
      };
      if (a.binding) {
        // A later file's assets replace an earlier one's, binding included.
        const old = bindings.findIndex((b) => b.type === 'assets');
        if (old >= 0) sources.delete(bindings.splice(old, 1)[0]!.name);
        add({ type: 'assets', name: a.binding, directory: a.directory }, at('assets', 'binding'));
      }
    }
    for (const cron of config.triggers?.crons ?? []) if (!crons.includes(cron)) crons.push(cron);
    config.durable_objects?.bindings?.forEach((d, i) => {
      add(
        {
          type: 'durable_object_namespace',
          name: d.name,
          className: d.class_name,
          ...(d.script_name ? { scriptName: d.script_name } : {}),
        },
        at('durable_objects', 'bindings', i),
      );
      if (!d.script_name && !objectClasses.includes(d.class_name)) objectClasses.push(d.class_name);
    });
    // A later file's migrations replace an earlier one's (they are one ordered list).
    if (config.migrations)
      migrations = config.migrations.map((m) => ({
        tag: m.tag,
        ...(m.new_classes ? { new_classes: m.new_classes } : {}),
        ...(m.new_sqlite_classes ? { new_sqlite_classes: m.new_sqlite_classes } : {}),
        ...(m.renamed_classes
          ? { renamed_classes: m.renamed_classes.map((r) => ({ from: r.from, to: r.to })) }
          : {}),
        ...(m.deleted_classes ? { deleted_classes: m.deleted_classes } : {}),
      }));
  }
  const durableObjects = objectsConfig(objectClasses, migrations);
  return {
    bindings,
    crons,
    queueConsumers,
    ...(assets ? { assets } : {}),
    ...(durableObjects ? { durableObjects } : {}),
    sources,
  };
}

/**
 * The classes this worker defines: those its own bindings name, and those its migrations leave
 * (created or renamed to, not deleted since). The build checks the module defines each.
 */
function objectsConfig(
  bound: string[],
  migrations: DurableObjectsConfig['migrations'],
): DurableObjectsConfig | undefined {
  const classes = new Set<string>();
  for (const m of migrations) {
    for (const c of [...(m.new_classes ?? []), ...(m.new_sqlite_classes ?? [])]) classes.add(c);
    for (const r of m.renamed_classes ?? []) {
      classes.delete(r.from);
      classes.add(r.to);
    }
    for (const c of m.deleted_classes ?? []) classes.delete(c);
  }
  for (const c of bound) classes.add(c);
  if (classes.size === 0 && migrations.length === 0) return undefined;
  return { classes: [...classes], migrations };
}
