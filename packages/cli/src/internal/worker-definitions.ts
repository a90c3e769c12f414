// Which workers a `serve` or `dev` of some projects and bundles serves: each project built (or
// found up to date), each bundle read, their state directories, secrets, bindings and source maps,
// and a check that every service binding names a worker served beside it.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type BindingDeclaration,
  type Bundle,
  decodeBundle,
  isIsolateError,
  silentLogger,
  type WorkerBindings,
} from '@pyworkers/isolate';
import type { WorkerDefinition, WorkerState } from '@pyworkers/router';
import { buildProject } from '../commands/build.js';
import type { ServeOptions } from '../commands/serve.js';
import { DEV_VARS_FILE, readDevVars } from '../config/dev-vars.js';
import { CliError } from '../errors.js';
import { loadProject, type ProjectOverrides } from '../project.js';
import type { SourceMap } from './tracebacks.js';

/** The default state directory of a project: `<project>/.pyworkers/state` (wrangler: `.wrangler/state`). */
export function defaultStateDir(projectDir: string): string {
  return join(projectDir, '.pyworkers', 'state');
}

/** Where a bundle file's relative paths (assets, migrations) and state are, when served alone. */
function bundleState(path: string, stateDir: string | undefined): WorkerState {
  const dir = dirname(path);
  // `pyworkers build` writes <project>/.pyworkers/<name>.pwb: its project is one level up.
  const projectDir = basename(dir) === '.pyworkers' ? dirname(dir) : dir;
  return { stateDir: stateDir ?? defaultStateDir(projectDir), projectDir };
}

/** True when `target` is a built bundle file rather than a project directory. */
export function isBundleFile(target: string): boolean {
  return existsSync(target) && statSync(target).isFile();
}

async function readBundle(path: string): Promise<Bundle> {
  return decodeBundleAt(new Uint8Array(await readFile(path)), path);
}

/** Decodes the bytes of the bundle file at `path`, a bad one as the user's error there. */
function decodeBundleAt(bytes: Uint8Array, path: string): Bundle {
  try {
    return decodeBundle(bytes, path);
  } catch (err) {
    if (!isIsolateError(err) || !err.userError) throw err;
    throw new CliError('ERR_PROJECT', err.message, {
      where: path,
      hint: 'pass a project directory or a .pwb made by `pyworkers build` with this pyworkers',
      cause: err,
    });
  }
}

type ServiceDeclaration = Extract<
  BindingDeclaration,
  { type: 'service' | 'durable_object_namespace' }
>;

/** The worker a declaration calls, when it calls another one (a service, another's objects). */
const calledWorker = (decl: ServiceDeclaration): string | undefined =>
  decl.type === 'service' ? decl.service : decl.scriptName;
const callsWorker = (decl: BindingDeclaration): decl is ServiceDeclaration =>
  decl.type === 'service' || (decl.type === 'durable_object_namespace' && !!decl.scriptName);

/**
 * Every service binding of the targets names a worker served beside it; else the start fails
 * before anything is built, naming the binding, the service and the fix. Reads only configs
 * (and the manifests of `.pwb` files).
 */
async function checkServices(
  targets: string[],
  overridesOf: (k: number) => ProjectOverrides | undefined,
): Promise<void> {
  const found: { worker: string; decl: ServiceDeclaration; where: string }[] = [];
  const served = new Set<string>();
  for (const [k, target] of targets.entries()) {
    const overrides = overridesOf(k);
    if (isBundleFile(target)) {
      const { manifest } = await readBundle(target);
      served.add(manifest.name);
      for (const decl of manifest.bindings ?? [])
        if (callsWorker(decl)) found.push({ worker: manifest.name, decl, where: target });
      continue;
    }
    const project = loadProject(target, overrides);
    served.add(project.name);
    for (const decl of project.bindings.bindings)
      if (callsWorker(decl))
        found.push({
          worker: project.name,
          decl,
          where: project.bindingSources.get(decl.name) ?? target,
        });
  }
  for (const { worker, decl, where } of found) {
    const target = calledWorker(decl);
    if (!target || target === worker || served.has(target)) continue;
    const what =
      decl.type === 'service'
        ? `service binding ${decl.name} calls worker "${target}"`
        : `Durable Object binding ${decl.name} names class ${decl.className} of worker "${target}" (script_name)`;
    throw new CliError(
      'ERR_CONFIG',
      `worker "${worker}": ${what}, which is not served here (serving: ${[...served].map((n) => `"${n}"`).join(', ')})`,
      {
        where,
        hint: `serve it beside this one (pyworkers serve ${targets.join(' ')} <the project of "${target}">), or set the binding's ${decl.type === 'service' ? 'service' : 'script_name'} to a served worker's name`,
      },
    );
  }
}

/**
 * Resolves each target (a project directory, built if needed, or a `.pwb` bundle) into a
 * worker definition. One worker alone is served at `/`; several without routes at `/<name>/`.
 */
export async function workerDefinitions(
  targets: string[],
  options: Omit<ServeOptions, 'port' | 'host'> = {},
): Promise<{ workers: WorkerDefinition[]; sources: string[]; sourceMaps: Map<string, SourceMap> }> {
  const logger = options.logger ?? silentLogger;
  const workers: WorkerDefinition[] = [];
  const sources: string[] = [];
  const sourceMaps = new Map<string, SourceMap>();
  // Before any build: a service binding to a worker not served here fails the start now.
  const overridesOf = (k: number): ProjectOverrides | undefined =>
    options.primary && k > 0 ? undefined : options.overrides;
  await checkServices(targets, overridesOf);
  for (const [k, target] of targets.entries()) {
    const overrides = overridesOf(k);
    let name: string;
    let routes: WorkerDefinition['routes'];
    let path: string;
    let secrets: Record<string, string> | undefined;
    let kept: Bundle | undefined;
    let state: WorkerState;
    let events: WorkerBindings;
    if (isBundleFile(target)) {
      const bundle = await readBundle(target);
      name = bundle.manifest.name;
      routes = [];
      path = target;
      state = bundleState(target, options.stateDir);
      events = {
        bindings: bundle.manifest.bindings ?? [],
        crons: bundle.manifest.crons ?? [],
        queueConsumers: bundle.manifest.queueConsumers ?? [],
        ...(bundle.manifest.assets ? { assets: bundle.manifest.assets } : {}),
      };
    } else {
      const built = await buildProject(target, {
        ...(overrides ? { overrides } : {}),
        ...(options.sync ? { sync: options.sync } : {}),
        logger,
        ...(options.progress ? { progress: options.progress } : {}),
        ...(options.encoding ? { encoding: options.encoding } : {}),
        ...(options.builder ? { builder: options.builder } : {}),
        ...(options.keepBundles ? { keepImage: true } : {}),
      });
      logger.info(
        {
          worker: built.name,
          bundle: built.bundlePath,
          built: built.built,
          ms: Math.round(built.ms),
        },
        `${built.built ? 'built' : 'bundle up to date'}: ${built.bundlePath}`,
      );
      name = built.name;
      routes = built.project.routes;
      sourceMaps.set(name, {
        sourceRoot: dirname(join(built.project.dir, built.project.main)),
        projectDir: built.project.dir,
      });
      path = built.bundlePath;
      if (options.keepBundles) kept = decodeBundleAt(built.bundleBytes, path);
      state = {
        stateDir: options.stateDir ?? defaultStateDir(built.project.dir),
        projectDir: built.project.dir,
      };
      events = built.project.bindings;

      // Local secrets, as `wrangler dev` reads them: given to isolates at start, never bundled.
      secrets = readDevVars(built.project.dir);
      if (secrets) {
        logger.info(
          { worker: name, secrets: Object.keys(secrets) },
          `secrets from ${DEV_VARS_FILE}: ${Object.keys(secrets).join(', ') || '(none)'}`,
        );
      }
    }
    if (workers.some((w) => w.name === name)) {
      throw new CliError('ERR_USAGE', `two workers are both named "${name}"`, {
        where: target,
        hint: 'give one of them another [tool.pyworkers].name',
      });
    }
    workers.push({
      name,
      routes,
      bundle: kept ? () => Promise.resolve(kept) : () => readBundle(path),
      ...(secrets ? { secrets } : {}),
      state,
      ...(events.crons.length ? { crons: events.crons } : {}),
      ...(events.queueConsumers.length ? { queueConsumers: events.queueConsumers } : {}),
      ...(events.assets
        ? {
            assets: {
              ...events.assets,
              directory: resolve(state.projectDir, events.assets.directory),
            },
          }
        : {}),
    });
    sources.push(path);
  }
  for (const [k, w] of workers.entries()) {
    if (w.routes.length === 0)
      w.routes = [
        { pathPrefix: workers.length === 1 || (options.primary && k === 0) ? '/' : `/${w.name}` },
      ];
  }
  return { workers, sources, sourceMaps };
}
