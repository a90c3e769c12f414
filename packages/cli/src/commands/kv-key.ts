import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../errors.js';
import type { Command, CommandContext, CommandOption } from '../internal/command.js';
import {
  envValues,
  positional,
  projectDeclarations,
  stateOptions,
  withStore,
} from '../internal/local-state.js';

const nsOptions = {
  ...stateOptions,
  binding: {
    type: 'string',
    default: undefined,
    description: 'the KV binding name from the config',
    env: ['PYWORKERS_KV_BINDING'],
    valueName: 'NAME',
  },
  'namespace-id': {
    type: 'string',
    default: undefined,
    description: 'the namespace id (instead of --binding)',
    env: ['PYWORKERS_KV_NAMESPACE_ID'],
    valueName: 'ID',
  },
} satisfies Record<string, CommandOption>;

/** The namespace id for `--binding` or `--namespace-id`. */
export function resolveNamespace(
  ctx: CommandContext,
  values: Record<string, unknown>,
): { id: string; label: string } {
  const id = values['namespace-id'] as string | undefined;
  const binding = values.binding as string | undefined;
  if ((id === undefined) === (binding === undefined)) {
    throw new CliError('ERR_USAGE', 'give exactly one of --binding and --namespace-id', {
      hint: 'e.g. --binding MY_KV (a kv_namespaces entry of the config) or --namespace-id <id>',
    });
  }
  if (id !== undefined) return { id, label: id };
  const kv = projectDeclarations(ctx).filter((d) => d.type === 'kv');
  const hit = kv.find((d) => d.name === binding);
  if (!hit) {
    throw new CliError('ERR_USAGE', `no KV binding named ${binding} in the config of ${ctx.cwd}`, {
      hint: `declared KV bindings: ${kv.map((d) => d.name).join(', ') || 'none'}; or pass --namespace-id`,
    });
  }
  return { id: hit.id, label: binding as string };
}

/** `pyworkers kv key put KEY [VALUE] (--binding B | --namespace-id ID)` */
export const kvKeyPutCommand = {
  name: 'kv key put',
  summary: 'write a key to a local KV namespace',
  usage:
    'pyworkers kv key put <key> [value] (--binding NAME | --namespace-id ID) [--path FILE] [--ttl S] [--expiration T] [--metadata JSON]',
  options: {
    ...nsOptions,
    path: {
      type: 'string',
      default: undefined,
      description: 'read the value from this file',
      env: ['PYWORKERS_KV_PATH'],
      valueName: 'FILE',
    },
    ttl: {
      type: 'string',
      default: undefined,
      description: 'seconds until the key expires (at least 60)',
      env: ['PYWORKERS_KV_TTL'],
      valueName: 'S',
    },
    expiration: {
      type: 'string',
      default: undefined,
      description: 'when the key expires, seconds since the epoch',
      env: ['PYWORKERS_KV_EXPIRATION'],
      valueName: 'T',
    },
    metadata: {
      type: 'string',
      default: undefined,
      description: 'JSON metadata to store with the key',
      env: ['PYWORKERS_KV_METADATA'],
      valueName: 'JSON',
    },
  },
  async run(ctx, flags, positionals) {
    const values = envValues(kvKeyPutCommand.options, flags);
    const key = positional(
      'kv key put',
      positionals,
      0,
      'a key',
      'pyworkers kv key put greeting hello --binding KV',
    );
    const path = values.path as string | undefined;
    const given = positionals[1];
    if ((given === undefined) === (path === undefined)) {
      throw new CliError('ERR_USAGE', 'kv key put needs a value or --path, not both', {
        hint: 'e.g. kv key put k "some text" or kv key put k --path value.bin',
      });
    }
    const value =
      path === undefined ? (given as string) : new Uint8Array(readFileSync(resolve(ctx.cwd, path)));
    let metadata: unknown;
    if (values.metadata !== undefined) {
      try {
        metadata = JSON.parse(values.metadata as string);
      } catch (cause) {
        throw new CliError('ERR_USAGE', '--metadata is not valid JSON', {
          hint: `e.g. --metadata '{"owner":"ana"}'`,
          cause,
        });
      }
    }
    const options = {
      ...(values.ttl !== undefined ? { expirationTtl: Number(values.ttl) } : {}),
      ...(values.expiration !== undefined ? { expiration: Number(values.expiration) } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    };
    const ns = resolveNamespace(ctx, values);
    await withStore(ctx, values, async (store) =>
      (await store.kv(ns.id, ns.label)).put(key, value, options),
    );
    ctx.print({ key, namespace: ns.id, written: true }, `wrote ${key} to ${ns.label}`);
  },
} satisfies Command;

/** `pyworkers kv key get KEY (--binding B | --namespace-id ID)` */
export const kvKeyGetCommand = {
  name: 'kv key get',
  summary: 'read a key from a local KV namespace (the value goes to stdout)',
  usage: 'pyworkers kv key get <key> (--binding NAME | --namespace-id ID) [--json]',
  options: nsOptions,
  async run(ctx, flags, positionals) {
    const values = envValues(kvKeyGetCommand.options, flags);
    const key = positional(
      'kv key get',
      positionals,
      0,
      'a key',
      'pyworkers kv key get greeting --binding KV',
    );
    const ns = resolveNamespace(ctx, values);
    const got = (await withStore(ctx, values, async (store) =>
      (await store.kv(ns.id, ns.label)).getWithMetadata(key, 'arrayBuffer'),
    )) as {
      value: Uint8Array | null;
      metadata: unknown;
    };
    if (got.value === null) {
      throw new CliError('ERR_USAGE', `key ${JSON.stringify(key)} is not in ${ns.label}`, {
        hint: `list the keys with: pyworkers kv key list --binding ${ns.label}`,
      });
    }
    if (ctx.json) {
      ctx.print({ key, value: new TextDecoder().decode(got.value), metadata: got.metadata }, '');
      return;
    }
    process.stdout.write(got.value);
    if (process.stdout.isTTY) process.stdout.write('\n');
  },
} satisfies Command;

/** `pyworkers kv key list (--binding B | --namespace-id ID) [--prefix P]` */
export const kvKeyListCommand = {
  name: 'kv key list',
  summary: 'list the keys of a local KV namespace',
  usage: 'pyworkers kv key list (--binding NAME | --namespace-id ID) [--prefix P] [--json]',
  options: {
    ...nsOptions,
    prefix: {
      type: 'string',
      default: undefined,
      description: 'only keys starting with this',
      env: ['PYWORKERS_KV_PREFIX'],
      valueName: 'P',
    },
  },
  async run(ctx, flags) {
    const values = envValues(kvKeyListCommand.options, flags);
    const ns = resolveNamespace(ctx, values);
    const keys = await withStore(ctx, values, async (store) => {
      const kv = await store.kv(ns.id, ns.label);
      const all: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = await kv.list({
          ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
          ...(cursor ? { cursor } : {}),
        });
        all.push(...page.keys);
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return all;
    });
    ctx.print(keys, JSON.stringify(keys, null, 2));
  },
} satisfies Command;

/** `pyworkers kv key delete KEY (--binding B | --namespace-id ID)` */
export const kvKeyDeleteCommand = {
  name: 'kv key delete',
  summary: 'delete a key from a local KV namespace',
  usage: 'pyworkers kv key delete <key> (--binding NAME | --namespace-id ID) [--json]',
  options: nsOptions,
  async run(ctx, flags, positionals) {
    const values = envValues(kvKeyDeleteCommand.options, flags);
    const key = positional(
      'kv key delete',
      positionals,
      0,
      'a key',
      'pyworkers kv key delete greeting --binding KV',
    );
    const ns = resolveNamespace(ctx, values);
    await withStore(ctx, values, async (store) => (await store.kv(ns.id, ns.label)).delete(key));
    ctx.print({ key, namespace: ns.id, deleted: true }, `deleted ${key} from ${ns.label}`);
  },
} satisfies Command;
