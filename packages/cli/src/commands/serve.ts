import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import {
  type BundleEncoding,
  type Logger,
  type SnapshotBuilder,
  silentLogger,
} from '@pyworkers/isolate';
import { createRouter, type Router, type WorkerDefinition } from '@pyworkers/router';
import { CliError } from '../errors.js';
import {
  type Command,
  type CommandOption,
  configOptions,
  configOverrides,
  pick,
  pickNumber,
  pickString,
} from '../internal/command.js';
import type { Progress } from '../internal/progress.js';
import { mapIsolatePaths, type SourceMap } from '../internal/tracebacks.js';
import { workerDefinitions } from '../internal/worker-definitions.js';
import type { ProjectOverrides } from '../project.js';
import { type SyncFlags, syncFlags, syncOptions } from './sync.js';

/** Options of {@link serveProjects}. */
export interface ServeOptions {
  port?: number;
  host?: string;
  /** Most isolates kept warm at once, across workers. */
  maxIsolates?: number;
  /** Memory budget for warm isolates, in bytes. */
  memoryBudget?: number;
  /** Parked isolates per host, ready for a cold start to swap into (default 1). */
  poolSize?: number;
  /** How far a burst of cold starts may grow each host's pool (default: from the budget). */
  maxPoolSize?: number;
  /** Required on `/__pyworkers/*` when set; without it those paths answer loopback only. */
  adminToken?: string;
  /** Settings that win over each project's config files. */
  overrides?: ProjectOverrides;
  sync?: SyncFlags;
  logger?: Logger;
  progress?: Progress;
  /**
   * Where bindings keep their state (KV, D1, R2, queues): `serve --state DIR`, `dev --persist-to
   * DIR`. Default: `<project>/.pyworkers/state` per project (next to a `.pwb`: `state/` beside it).
   */
  stateDir?: string;
  /** How the bundles built are compressed (default `compact`; dev: `fast`). */
  encoding?: BundleEncoding;
  /**
   * Holds each built worker's bundle decoded in memory instead of reading its file again for
   * every cold start (dev: saves the read and checks of a ~5 MiB `fast` bundle, 8-17 ms, on the
   * first request after each rebuild).
   */
  keepBundles?: boolean;
  /** Runs the builds' top levels in an isolate kept waiting (dev). */
  builder?: SnapshotBuilder;
  /**
   * `dev`: the first target is the project being developed: `overrides` apply to it alone,
   * and it is served at `/` (the others, there for its service bindings, at `/<name>/`).
   */
  primary?: boolean;
  /**
   * `bwrap`: each host process under bubblewrap + a seccomp filter (the router's `sandbox`);
   * the state directories are its only writable places, the projects readable.
   */
  sandbox?: 'none' | 'bwrap';
  /**
   * Where isolates run: `process` (default), in host processes the router relays each request
   * to (a crashed host is replaced); `local`, as threads of the server's own process: one hop
   * fewer per request, 15-30% less CPU per warm hello request, but cold starts 1-2 ms slower at
   * p50, as the server's main thread then also starts the isolates (router README, "HTTP":
   * session 5). `sandbox: 'bwrap'` needs `process`.
   */
  hostKind?: 'process' | 'local';
}

/** A running server. */
export interface Serving {
  router: Router;
  address: AddressInfo;
  url: string;
  /** The workers served, with their routes. */
  workers: { name: string; routes: WorkerDefinition['routes']; source: string }[];
  /** Where each project worker's files are, to map isolate paths in tracebacks back. */
  sourceMaps: Map<string, SourceMap>;
}

/**
 * Builds (if needed) and serves worker projects or bundles. One worker alone is served at `/`;
 * several workers without routes are served at `/<name>/`.
 * @example const { url } = await serveProjects(['workers/a', 'dist/b.pwb'], { port: 0 });
 */
export async function serveProjects(
  targets: string[],
  options: ServeOptions = {},
): Promise<Serving> {
  const logger = options.logger ?? silentLogger;
  const hostKind = options.hostKind ?? 'process';
  if (hostKind === 'local' && options.sandbox === 'bwrap') {
    throw new CliError(
      'ERR_USAGE',
      '--sandbox bwrap confines host processes, but --host-kind is local (isolates in this process)',
      {
        where: '--host-kind / PYWORKERS_HOST_KIND',
        hint: 'drop --host-kind, or pass --host-kind process',
      },
    );
  }
  const { workers, sources, sourceMaps } = await workerDefinitions(targets, options);
  const router = createRouter({
    workers,
    logger,
    hostKind,
    ...(options.sandbox === 'bwrap' ? sandboxPaths(workers) : {}),
    // Cold starts swap into parked isolates, which each host keeps booted.
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    ...(options.maxPoolSize !== undefined ? { maxPoolSize: options.maxPoolSize } : {}),
    ...(options.maxIsolates !== undefined ? { maxIsolates: options.maxIsolates } : {}),
    ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    // Tracebacks on the status page name the user's files, as the log does.
    rewriteError: (text, worker) => {
      const map = worker ? sourceMaps.get(worker) : undefined;
      return map ? mapIsolatePaths(text, map) : text;
    },
    ...(options.memoryBudget !== undefined ? { memoryBudgetBytes: options.memoryBudget } : {}),
  });
  const address = await router.listen({
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    router,
    address,
    url: `http://${host}:${address.port}`,
    workers: workers.map((w, k) => ({ name: w.name, routes: w.routes, source: sources[k]! })),
    sourceMaps,
  };
}

/**
 * The router's sandbox options for these workers: their state directories writable (made now:
 * bwrap binds only what exists), their project directories readable (assets, migrations).
 */
function sandboxPaths(workers: WorkerDefinition[]): {
  sandbox: 'bwrap';
  sandboxWritable: string[];
  sandboxReadable: string[];
} {
  const states = [...new Set(workers.flatMap((w) => (w.state ? [w.state.stateDir] : [])))];
  for (const dir of states) mkdirSync(dir, { recursive: true });
  const projects = [...new Set(workers.flatMap((w) => (w.state ? [w.state.projectDir] : [])))];
  return { sandbox: 'bwrap', sandboxWritable: states, sandboxReadable: projects };
}

/** `1073741824`, `512MiB`, `2G`, `1.5GB` as bytes (binary units). */
export function parseBytes(text: string | undefined, where: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  const bytes = m
    ? Math.round(Number(m[1]) * scale[m[2]!.toLowerCase() as keyof typeof scale])
    : NaN;
  if (!(bytes > 0)) {
    throw new CliError('ERR_USAGE', `${where} must be a size above 0, got "${text}"`, {
      where,
      hint: 'give bytes or a size with a unit, e.g. 536870912, 512MiB or 2GiB',
    });
  }
  return bytes;
}

/** Flags shared by serve and dev. */
export const listenOptions = {
  port: {
    type: 'string',
    default: '8787',
    description: 'port to listen on (0 picks a free one)',
    env: ['PYWORKERS_PORT', 'PORT'],
    valueName: 'N',
    short: 'p',
  },
  host: {
    type: 'string',
    default: '127.0.0.1',
    description: 'address to listen on',
    env: ['PYWORKERS_HOST', 'HOST'],
    valueName: 'ADDR',
  },
  'admin-token': {
    type: 'string',
    default: 'none: /__pyworkers/ answers this machine only',
    description:
      'require this token on the status page and /__pyworkers/* (then open to any address)',
    env: ['PYWORKERS_ADMIN_TOKEN'],
    valueName: 'TOKEN',
  },
} satisfies Record<string, CommandOption>;

/** `{ adminToken }` from `--admin-token` / `PYWORKERS_ADMIN_TOKEN`, when given. */
export function adminTokenOption(values: Record<string, unknown>): { adminToken?: string } {
  const token = pickString(values['admin-token'], ['PYWORKERS_ADMIN_TOKEN']);
  return token ? { adminToken: token } : {};
}

/** Describes where each worker is served. */
export function describeServing(serving: Pick<Serving, 'url' | 'workers'>): string {
  const lines = [`serving on ${serving.url}`];
  for (const w of serving.workers) {
    const routes = w.routes
      .map((r) => `${r.host ?? ''}${r.pathPrefix ?? (r.host ? '' : '/')}`)
      .join(', ');
    lines.push(`  ${w.name.padEnd(16)} ${routes}`);
  }
  lines.push(`status page: ${serving.url}/__pyworkers/`);
  return lines.join('\n');
}

/** `pyworkers serve [PROJECT_OR_BUNDLE...] [--port 8787] [--host 127.0.0.1]` */
export const serveCommand = {
  name: 'serve',
  summary: 'serve one or many workers (project directories or .pwb bundles) over HTTP',
  usage: 'pyworkers serve [PROJECT_OR_BUNDLE...] [--port 8787] [--host 127.0.0.1]',
  details:
    'One worker alone is served at /; several without routes at /<name>/.\nWith --max-isolates 1 and two workers, alternating requests are all cold starts.',
  options: {
    ...listenOptions,
    'max-isolates': {
      type: 'string',
      default: 'no cap',
      description: 'most isolates kept warm at once',
      env: ['PYWORKERS_MAX_ISOLATES'],
      valueName: 'N',
    },
    state: {
      type: 'string',
      default: '<project>/.pyworkers/state',
      description: 'directory for the state of KV, D1, R2 and queues',
      env: ['PYWORKERS_STATE'],
      valueName: 'DIR',
    },
    'pool-size': {
      type: 'string',
      default: '1',
      description: 'isolates each host keeps parked for cold starts to swap into (0: none)',
      env: ['PYWORKERS_POOL_SIZE'],
      valueName: 'N',
    },
    'max-pool-size': {
      type: 'string',
      default: 'from the memory budget, up to 8',
      description:
        "how far a burst of cold starts may grow each host's pool (it shrinks back after)",
      env: ['PYWORKERS_MAX_POOL_SIZE'],
      valueName: 'N',
    },
    sandbox: {
      type: 'string',
      default: 'none',
      description:
        'bwrap: run host processes under bubblewrap and a seccomp filter (own PID namespace, read-only file system, no capabilities; needs bwrap on PATH)',
      env: ['PYWORKERS_SANDBOX'],
      valueName: 'none|bwrap',
    },
    'host-kind': {
      type: 'string',
      default: 'process',
      description:
        'process: isolates run in host processes (a crashed host is replaced); local: as threads of this process (one hop fewer per request: 15-30% less CPU per warm request, cold starts 1-2 ms slower)',
      env: ['PYWORKERS_HOST_KIND'],
      valueName: 'local|process',
    },
    'memory-budget': {
      type: 'string',
      default: 'half the memory',
      description: 'memory all warm isolates may hold together (bytes, or 512MiB, 2GiB)',
      env: ['PYWORKERS_MEMORY_BUDGET'],
      valueName: 'BYTES',
    },
    ...configOptions,
    ...syncOptions,
  },
  async run(ctx, values, positionals) {
    const port = pickNumber(values.port, ['PYWORKERS_PORT', 'PORT'], 'port') ?? 8787;
    const host = pick(values.host, ['PYWORKERS_HOST', 'HOST'], '127.0.0.1');
    const maxIsolates = pickNumber(
      values['max-isolates'],
      ['PYWORKERS_MAX_ISOLATES'],
      'max-isolates',
    );
    const memoryBudget = parseBytes(
      pickString(values['memory-budget'], ['PYWORKERS_MEMORY_BUDGET']),
      values['memory-budget'] !== undefined ? '--memory-budget' : 'PYWORKERS_MEMORY_BUDGET',
    );
    const poolSize = pickNumber(values['pool-size'], ['PYWORKERS_POOL_SIZE'], 'pool-size');
    if (
      poolSize !== undefined &&
      !(Number.isInteger(poolSize) && poolSize >= 0 && poolSize <= 64)
    ) {
      throw new CliError(
        'ERR_USAGE',
        `--pool-size must be a whole number from 0 to 64, got ${poolSize}`,
        { where: '--pool-size / PYWORKERS_POOL_SIZE', hint: 'e.g. --pool-size 2' },
      );
    }
    const maxPoolSize = pickNumber(
      values['max-pool-size'],
      ['PYWORKERS_MAX_POOL_SIZE'],
      'max-pool-size',
    );
    if (
      maxPoolSize !== undefined &&
      !(Number.isInteger(maxPoolSize) && maxPoolSize >= (poolSize ?? 1) && maxPoolSize <= 64)
    ) {
      throw new CliError(
        'ERR_USAGE',
        `--max-pool-size must be a whole number from --pool-size (${poolSize ?? 1}) to 64, got ${maxPoolSize}`,
        { where: '--max-pool-size / PYWORKERS_MAX_POOL_SIZE', hint: 'e.g. --max-pool-size 4' },
      );
    }
    if (maxIsolates !== undefined && !(Number.isInteger(maxIsolates) && maxIsolates > 0)) {
      throw new CliError(
        'ERR_USAGE',
        `--max-isolates must be a whole number above 0, got ${maxIsolates}`,
        {
          where: '--max-isolates',
          hint: 'e.g. --max-isolates 4',
        },
      );
    }
    const sandbox = pick(values.sandbox, ['PYWORKERS_SANDBOX'], 'none');
    if (sandbox !== 'none' && sandbox !== 'bwrap') {
      throw new CliError('ERR_USAGE', `--sandbox must be none or bwrap, got "${sandbox}"`, {
        where: '--sandbox / PYWORKERS_SANDBOX',
        hint: 'e.g. --sandbox bwrap (apt-get install bubblewrap)',
      });
    }
    const hostKind = pickString(values['host-kind'], ['PYWORKERS_HOST_KIND']);
    if (hostKind !== undefined && hostKind !== 'local' && hostKind !== 'process') {
      throw new CliError('ERR_USAGE', `--host-kind must be local or process, got "${hostKind}"`, {
        where: '--host-kind / PYWORKERS_HOST_KIND',
        hint: 'e.g. --host-kind process',
      });
    }
    const targets = (positionals.length > 0 ? positionals : ['.']).map((p) => resolve(ctx.cwd, p));
    const stateDir = pickString(values.state, ['PYWORKERS_STATE']);
    const overrides = configOverrides(values);
    if (targets.length > 1 && overrides.name !== undefined) {
      throw new CliError('ERR_USAGE', '--name applies to one worker, but several were given', {
        where: '--name / PYWORKERS_NAME',
        hint: 'set [tool.pyworkers].name in each project instead',
      });
    }
    // Tracebacks name the user's files: the map is filled once the projects are loaded.
    let maps = new Map<string, SourceMap>();
    const logger = ctx.createLogger((text, worker) => {
      const map = worker ? maps.get(worker) : undefined;
      return map ? mapIsolatePaths(text, map) : text;
    });
    const serving = await serveProjects(targets, {
      port,
      host,
      ...(maxIsolates !== undefined ? { maxIsolates } : {}),
      ...(memoryBudget !== undefined ? { memoryBudget } : {}),
      ...(poolSize !== undefined ? { poolSize } : {}),
      ...(maxPoolSize !== undefined ? { maxPoolSize } : {}),
      ...adminTokenOption(values),
      overrides,
      sync: syncFlags(values, ctx),
      logger,
      progress: ctx.progress,
      ...(stateDir ? { stateDir: resolve(ctx.cwd, stateDir) } : {}),
      sandbox,
      ...(hostKind ? { hostKind } : {}),
    });
    maps = serving.sourceMaps;
    ctx.print({ url: serving.url, workers: serving.workers }, describeServing(serving));
    const stop = (): void => {
      void serving.router.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
} satisfies Command;
