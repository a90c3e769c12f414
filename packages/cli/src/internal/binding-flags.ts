// Flags (and env vars) for the binding keys, so that every config key can be set from the
// command line as well (flag > env > config file). Kept apart from command.ts, which spreads
// them into its config flags.
import type { BindingsOverride } from '../config/bindings.js';
import { CliError } from '../errors.js';

type Option = {
  configKey: string;
  type: 'string';
  multiple?: boolean;
  default: undefined;
  description: string;
  env: string[];
  valueName: string;
};

const opt = (
  configKey: string,
  env: string,
  valueName: string,
  description: string,
  multiple = false,
): Option => ({
  configKey,
  type: 'string',
  ...(multiple ? { multiple: true } : {}),
  default: undefined,
  description,
  env: [env],
  valueName,
});

/** The binding flags of build, serve and dev. */
export const bindingOptions = {
  kv: opt(
    'kv_namespaces',
    'PYWORKERS_KV',
    'BINDING[=ID]',
    'declare a KV namespace, repeatable, replaces kv_namespaces',
    true,
  ),
  d1: opt(
    'd1_databases',
    'PYWORKERS_DATABASES',
    'BINDING[=DATABASE]',
    'declare a D1 database, repeatable, replaces d1_databases',
    true,
  ),
  r2: opt(
    'r2_buckets',
    'PYWORKERS_BUCKETS',
    'BINDING=BUCKET',
    'declare an R2 bucket, repeatable, replaces r2_buckets',
    true,
  ),
  'queue-producer': opt(
    'queues.producers',
    'PYWORKERS_QUEUE_PRODUCERS',
    'BINDING=QUEUE',
    'declare a queue producer, repeatable, replaces queues.producers',
    true,
  ),
  'queue-consumer': opt(
    'queues.consumers',
    'PYWORKERS_QUEUE_CONSUMERS',
    'QUEUE',
    'consume a queue (Cloudflare defaults), repeatable, replaces queues.consumers',
    true,
  ),
  assets: opt(
    'assets.directory',
    'PYWORKERS_ASSETS',
    'DIR',
    'static assets directory (assets.directory)',
  ),
  'assets-binding': opt(
    'assets.binding',
    'PYWORKERS_ASSETS_BINDING',
    'NAME',
    'name of the assets binding (assets.binding)',
  ),
  'html-handling': opt(
    'assets.html_handling',
    'PYWORKERS_HTML_HANDLING',
    'MODE',
    'assets.html_handling, e.g. auto-trailing-slash',
  ),
  'not-found-handling': opt(
    'assets.not_found_handling',
    'PYWORKERS_NOT_FOUND_HANDLING',
    'MODE',
    'assets.not_found_handling: none, 404-page or single-page-application',
  ),
  'run-worker-first': opt(
    'assets.run_worker_first',
    'PYWORKERS_RUN_WORKER_FIRST',
    'true|false|GLOBS',
    'assets.run_worker_first: true, false or comma-separated globs',
  ),
  service: opt(
    'services',
    'PYWORKERS_SERVICES',
    'BINDING=SERVICE[:ENTRYPOINT]',
    'bind another served worker, repeatable, replaces services',
    true,
  ),
  'durable-object': opt(
    'durable_objects.bindings',
    'PYWORKERS_DURABLE_OBJECTS',
    'BINDING=CLASS[@SCRIPT]',
    'bind a Durable Object class (of worker SCRIPT), repeatable, replaces durable_objects.bindings',
    true,
  ),
  migrations: opt(
    'migrations',
    'PYWORKERS_MIGRATIONS',
    'JSON',
    'Durable Object migrations as a JSON list, replaces migrations, e.g. [{"tag":"v1","new_sqlite_classes":["Room"]}]',
  ),
  cron: opt(
    'triggers.crons',
    'PYWORKERS_CRONS',
    'EXPR',
    'cron trigger, repeatable, replaces triggers.crons (env: separated by ;)',
    true,
  ),
};

/** A flag's values, else its env var split on `sep`. */
function list(flag: unknown, env: string, sep: RegExp): string[] | undefined {
  if (Array.isArray(flag) && flag.length > 0) return flag.map(String);
  const raw = process.env[env];
  return raw
    ? raw
        .split(sep)
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}

function one(flag: unknown, env: string): string | undefined {
  if (typeof flag === 'string' && flag !== '') return flag;
  const raw = process.env[env];
  return raw ? raw : undefined;
}

function pairs(items: string[], flag: string, needValue: boolean): [string, string | undefined][] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    if (!key || (needValue && !value)) {
      throw new CliError(
        'ERR_USAGE',
        `--${flag} "${item}" is not ${bindingOptions[flag as keyof typeof bindingOptions].valueName}`,
        {
          where: `--${flag}`,
          hint: `e.g. --${flag} ${bindingOptions[flag as keyof typeof bindingOptions].valueName.replace('[', '').replace(']', '')}`,
        },
      );
    }
    return [key, value];
  });
}

/** The binding keys the flags (else env vars) set, in [tool.pyworkers] shape. */
export function bindingOverrides(values: Record<string, unknown>): BindingsOverride | undefined {
  const o: BindingsOverride = {};
  const comma = /[\s,]+/;
  const kv = list(values.kv, 'PYWORKERS_KV', comma);
  if (kv)
    o.kv_namespaces = pairs(kv, 'kv', false).map(([binding, id]) => ({
      binding,
      ...(id ? { id } : {}),
    }));
  const d1 = list(values.d1, 'PYWORKERS_DATABASES', comma);
  if (d1)
    o.d1_databases = pairs(d1, 'd1', false).map(([binding, db]) => ({
      binding,
      ...(db ? { database_name: db } : {}),
    }));
  const r2 = list(values.r2, 'PYWORKERS_BUCKETS', comma);
  if (r2)
    o.r2_buckets = pairs(r2, 'r2', true).map(([binding, b]) => ({ binding, bucket_name: b! }));
  const producers = list(values['queue-producer'], 'PYWORKERS_QUEUE_PRODUCERS', comma);
  const consumers = list(values['queue-consumer'], 'PYWORKERS_QUEUE_CONSUMERS', comma);
  if (producers || consumers) {
    o.queues = {
      ...(producers
        ? {
            producers: pairs(producers, 'queue-producer', true).map(([binding, queue]) => ({
              binding,
              queue: queue!,
            })),
          }
        : {}),
      ...(consumers ? { consumers: consumers.map((queue) => ({ queue })) } : {}),
    };
  }
  const assets: NonNullable<BindingsOverride['assets']> = {};
  const directory = one(values.assets, 'PYWORKERS_ASSETS');
  if (directory) assets.directory = directory;
  const binding = one(values['assets-binding'], 'PYWORKERS_ASSETS_BINDING');
  if (binding) assets.binding = binding;
  const html = one(values['html-handling'], 'PYWORKERS_HTML_HANDLING');
  if (html) assets.html_handling = html as never;
  const notFound = one(values['not-found-handling'], 'PYWORKERS_NOT_FOUND_HANDLING');
  if (notFound) assets.not_found_handling = notFound as never;
  const first = one(values['run-worker-first'], 'PYWORKERS_RUN_WORKER_FIRST');
  if (first)
    assets.run_worker_first =
      first === 'true' ? true : first === 'false' ? false : first.split(',').map((g) => g.trim());
  if (Object.keys(assets).length > 0) o.assets = assets;
  const services = list(values.service, 'PYWORKERS_SERVICES', comma);
  if (services)
    o.services = pairs(services, 'service', true).map(([binding, target]) => {
      const [service, entrypoint] = target!.split(':');
      return { binding, service: service!, ...(entrypoint ? { entrypoint } : {}) };
    });
  const objects = list(values['durable-object'], 'PYWORKERS_DURABLE_OBJECTS', comma);
  if (objects)
    o.durable_objects = {
      bindings: pairs(objects, 'durable-object', true).map(([name, target]) => {
        const [className, scriptName] = target!.split('@');
        return { name, class_name: className!, ...(scriptName ? { script_name: scriptName } : {}) };
      }),
    };
  const migrations = one(values.migrations, 'PYWORKERS_MIGRATIONS');
  if (migrations) {
    try {
      o.migrations = JSON.parse(migrations) as NonNullable<BindingsOverride['migrations']>;
    } catch (err) {
      throw new CliError('ERR_USAGE', `--migrations is not JSON: ${(err as Error).message}`, {
        where: '--migrations',
        hint: `e.g. --migrations '[{"tag":"v1","new_sqlite_classes":["Room"]}]'`,
      });
    }
  }
  const crons = list(values.cron, 'PYWORKERS_CRONS', /[;\n]/);
  if (crons) o.triggers = { crons };
  return Object.keys(o).length > 0 ? o : undefined;
}
