import { fromErrorData, toErrorData } from '@pyworkers/common';
import { IsolateError } from '@pyworkers/isolate';
import { ResolverError } from '@pyworkers/resolver';
import { RouterError } from '@pyworkers/router';
import { SnapshotError } from '@pyworkers/snapshot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toolSchema, WRANGLER_KEYS } from './config/schema.js';
import { CliError } from './errors.js';
import { configOptions } from './internal/command.js';
import { commands, isUserError } from './main.js';

/** Leaf keys of a zod object schema, dotted: `limits.memory_mb`. */
function leafKeys(schema: z.ZodType, prefix = ''): string[] {
  let inner: z.ZodType = schema;
  // Unwrap optional/default to reach an object's shape.
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault)
    inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject)) return [prefix];
  return Object.entries(inner.shape).flatMap(([k, v]) =>
    leafKeys(v as z.ZodType, prefix ? `${prefix}.${k}` : k),
  );
}

/** wrangler keys and the [tool.pyworkers] key whose flag sets them. */
const WRANGLER_TO_TOOL: Record<string, string> = {
  name: 'name',
  main: 'main',
  vars: 'vars',
  routes: 'routes',
  route: 'routes',
  kv_namespaces: 'kv_namespaces',
  d1_databases: 'd1_databases',
  r2_buckets: 'r2_buckets',
  services: 'services',
  queues: 'queues.producers',
  assets: 'assets.directory',
  triggers: 'triggers.crons',
  durable_objects: 'durable_objects.bindings',
  migrations: 'migrations',
};
/** wrangler keys read only to warn about (no runtime effect), so nothing to override. */
const WRANGLER_CHECKED_ONLY = ['compatibility_flags', 'compatibility_date'];

describe('every config key has a flag and an env var', () => {
  const byKey = new Map(
    Object.entries(configOptions).map(([flag, o]) => [o.configKey, { flag, ...o }]),
  );

  it.each(leafKeys(toolSchema))('[tool.pyworkers] %s', (key) => {
    const option = byKey.get(key);
    expect(option, `no flag sets [tool.pyworkers].${key}: add one to configOptions`).toBeDefined();
    expect(option!.env?.length, `--${option!.flag} has no env var`).toBeGreaterThan(0);
    for (const name of option!.env!) expect(name).toMatch(/^PYWORKERS_[A-Z_]+$/);
  });

  it.each(WRANGLER_KEYS.filter((k) => !WRANGLER_CHECKED_ONLY.includes(k)))('wrangler %s', (key) => {
    const tool = WRANGLER_TO_TOOL[key];
    expect(
      tool,
      `wrangler key ${key} is read, but no [tool.pyworkers] key maps to it`,
    ).toBeDefined();
    expect(byKey.get(tool!), `no flag sets wrangler ${key}`).toBeDefined();
  });

  it('no flag claims a key the schema does not have', () => {
    const keys = leafKeys(toolSchema);
    for (const o of Object.values(configOptions)) expect(keys).toContain(o.configKey);
  });

  it.each(['build', 'serve', 'dev'])('`%s` takes every config flag', (name) => {
    const command = commands.find((c) => c.name === name)!;
    for (const flag of Object.keys(configOptions)) expect(command.options).toHaveProperty(flag);
  });

  it.each(commands.map((c) => [c.name, c] as const))(
    'every flag of `%s` has an env var, and no env var means two things',
    (_name, command) => {
      const meaning = new Map<string, string>();
      for (const [flag, o] of Object.entries(command.options)) {
        expect(o.env?.length, `--${flag} of ${command.name} has no env var`).toBeGreaterThan(0);
        for (const env of o.env ?? []) {
          expect(meaning.get(env) ?? flag, `${env} is read by two flags`).toBe(flag);
          meaning.set(env, flag);
        }
      }
    },
  );
});

describe('exit codes', () => {
  it('splits user errors (1) from bugs (2)', () => {
    expect(isUserError(new CliError('ERR_CONFIG', 'x'))).toBe(true);
    expect(isUserError(new CliError('ERR_INTERNAL', 'x'))).toBe(false);
    expect(isUserError(new TypeError('x'))).toBe(false);
  });

  it('asks each package whose fault its code is, also for an error revived from a host process', () => {
    expect(isUserError(new SnapshotError('ERR_SNAPSHOT_CORRUPT', 'x'))).toBe(true);
    expect(isUserError(new SnapshotError('ERR_SNAPSHOT_REFERENCE', 'x'))).toBe(false);
    expect(isUserError(new RouterError('ERR_ROUTER_LISTEN', 'x'))).toBe(true);
    const revived = fromErrorData(toErrorData(new ResolverError('ERR_NO_SOLUTION', 'x')));
    expect(revived).not.toBeInstanceOf(ResolverError);
    expect(isUserError(revived)).toBe(true);
    expect(isUserError(fromErrorData(toErrorData(new IsolateError('ERR_ISOLATE_BOOT', 'x'))))).toBe(
      false,
    );
  });
});
