// What a bundle declares about its bindings and events: names, types and ids (never secrets).
// The host turns these into live bindings (`@pyworkers/bindings`); the isolate only needs each
// binding's name and type to build its Python proxy.
import { z } from 'zod';

const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a binding name is a Python identifier, e.g. "MY_KV"');

const className = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a class name is a Python identifier, e.g. "Counter"');

/** One binding of a worker, as `@pyworkers/bindings` takes it. */
export const bindingDeclarationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('kv'), name, id: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('d1'),
      name,
      databaseName: z.string().min(1),
      databaseId: z.string().min(1).optional(),
      /** Relative to the project directory. */
      migrationsDir: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ type: z.literal('r2'), name, bucketName: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('queue'),
      name,
      queue: z.string().min(1),
      /** Seconds every message waits before delivery. */
      deliveryDelay: z.number().int().nonnegative().optional(),
    })
    .strict(),
  z
    .object({
      /** Another worker served beside this one (wrangler `services[]`): fetch and RPC to it. */
      type: z.literal('service'),
      name,
      /** The target worker's name, as this server serves it. */
      service: z.string().min(1),
      /** A class of the target's main module (default: its `Default`). */
      entrypoint: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      /** A Durable Object class (wrangler `durable_objects.bindings[]`): ids and stubs. */
      type: z.literal('durable_object_namespace'),
      name,
      className,
      /** The worker that defines the class; omitted: this worker. */
      scriptName: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('assets'),
      name,
      /** Relative to the project directory. */
      directory: z.string().min(1),
    })
    .strict(),
]);

/** One binding of a worker: `{ type: 'kv', name: 'MY_KV', id: '...' }`, ... */
export type BindingDeclaration = z.infer<typeof bindingDeclarationSchema>;

/** A queue this worker consumes (wrangler `queues.consumers[]`), with Cloudflare's defaults. */
export const queueConsumerSchema = z
  .object({
    queue: z.string().min(1),
    maxBatchSize: z.number().int().min(1).max(100).default(10),
    /** Seconds to wait for a batch to fill. */
    maxBatchTimeout: z.number().min(0).max(60).default(5),
    maxRetries: z.number().int().min(0).max(100).default(3),
    deadLetterQueue: z.string().min(1).optional(),
    /** Seconds before a retried message is delivered again. */
    retryDelay: z.number().int().nonnegative().optional(),
    maxConcurrency: z.number().int().positive().optional(),
  })
  .strict();

/** A queue consumer as the router runs it. */
export type QueueConsumer = z.infer<typeof queueConsumerSchema>;

/** Static assets the router serves for this worker (wrangler `assets`). */
export const assetsConfigSchema = z
  .object({
    /** Relative to the project directory. */
    directory: z.string().min(1),
    binding: name.optional(),
    htmlHandling: z
      .enum(['auto-trailing-slash', 'force-trailing-slash', 'drop-trailing-slash', 'none'])
      .default('auto-trailing-slash'),
    notFoundHandling: z.enum(['none', '404-page', 'single-page-application']).default('none'),
    /** true: every request runs the worker first; globs: those paths do (`!` excludes). */
    runWorkerFirst: z.union([z.boolean(), z.array(z.string().min(1))]).default(false),
  })
  .strict();

/** A worker's static assets. */
export type AssetsConfig = z.infer<typeof assetsConfigSchema>;

/** One wrangler `[[migrations]]` entry, Cloudflare's key names. */
export const durableObjectMigrationSchema = z
  .object({
    tag: z.string().min(1),
    new_classes: z.array(className).optional(),
    new_sqlite_classes: z.array(className).optional(),
    renamed_classes: z.array(z.object({ from: className, to: className }).strict()).optional(),
    deleted_classes: z.array(className).optional(),
  })
  .strict();

/** The Durable Object classes a worker defines, and the migrations of their state. */
export const durableObjectsConfigSchema = z
  .object({
    /** Classes of this worker's main module that are Durable Objects (checked at build). */
    classes: z.array(className).default([]),
    migrations: z.array(durableObjectMigrationSchema).default([]),
  })
  .strict();

/** A worker's Durable Object classes and migrations. */
export type DurableObjectsConfig = z.infer<typeof durableObjectsConfigSchema>;

/** Bindings and event sources of one worker, as its bundle carries them. */
export const workerBindingsSchema = z
  .object({
    bindings: z.array(bindingDeclarationSchema).default([]),
    /** Cron expressions (wrangler `triggers.crons`). */
    crons: z.array(z.string().min(1)).default([]),
    queueConsumers: z.array(queueConsumerSchema).default([]),
    assets: assetsConfigSchema.optional(),
    durableObjects: durableObjectsConfigSchema.optional(),
  })
  .strict();

/** Bindings and event sources of one worker. */
export type WorkerBindings = z.infer<typeof workerBindingsSchema>;
