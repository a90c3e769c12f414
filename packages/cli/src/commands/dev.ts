import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { IsolateLauncher, type Logger, SnapshotBuilder, silentLogger } from '@pyworkers/isolate';
import { createRouter, type Router } from '@pyworkers/router';
import {
  type Command,
  configOptions,
  configOverrides,
  pick,
  pickNumber,
  pickString,
  projectDir,
} from '../internal/command.js';
import { mapIsolatePaths } from '../internal/tracebacks.js';
import { type TreeWatch, watchTree } from '../internal/watch-tree.js';
import { workerDefinitions } from '../internal/worker-definitions.js';
import { loadProject, projectFiles } from '../project.js';
import { adminTokenOption, describeServing, listenOptions, type ServeOptions } from './serve.js';
import { syncFlags, syncOptions } from './sync.js';

/** Options of {@link startDev}. */
export interface DevOptions extends Omit<ServeOptions, 'maxIsolates' | 'memoryBudget'> {
  /** Wait this long after the last change before rebuilding (default 20 ms). */
  debounceMs?: number;
  /** Watch the project for changes (default true). */
  watch?: boolean;
  /**
   * More workers served beside the project (project directories or `.pwb` files), for its
   * service bindings: rebuilt on their changes too, reachable at `/<name>/`.
   */
  alongside?: string[];
}

/** A running dev server. */
export interface DevServer {
  url: string;
  address: AddressInfo;
  workers: { name: string; routes: { host?: string; pathPrefix?: string }[]; source: string }[];
  /** How many builds have been swapped in (1 after start). */
  readonly generation: number;
  /** Rebuilds now and swaps the new worker in; resolves when it serves requests. */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

interface Generation {
  id: number;
  router: Router;
  inflight: number;
  retired: boolean;
}

const IGNORED = new Set(['__pycache__', 'python_modules', 'node_modules', 'pylock.toml']);
const CONFIG = new Set([
  'pyproject.toml',
  'wrangler.toml',
  'wrangler.jsonc',
  'wrangler.json',
  'uv.lock',
]);

/** Whether a changed path (relative to the project) should trigger a rebuild. */
export function isWatched(rel: string, sourceRel: string): boolean {
  const parts = rel.split(sep);
  if (parts.some((p) => IGNORED.has(p) || p.startsWith('.'))) return false;
  if (/(~|\.swp|\.tmp|\.pyc)$/.test(rel)) return false;
  if (parts.length === 1 && CONFIG.has(rel)) return true;
  return sourceRel === '' || rel === sourceRel || rel.startsWith(`${sourceRel}${sep}`);
}

/**
 * Syncs, builds and serves a project, then rebuilds on every change to its sources or config
 * and swaps the new build in: requests already running finish on the old isolates, new ones go
 * to the new build. A failed build keeps the last good one serving.
 * @example const dev = await startDev('.', { port: 8787 });
 */
export async function startDev(dirArg: string, options: DevOptions = {}): Promise<DevServer> {
  const dir = resolve(dirArg);
  const alongside = (options.alongside ?? []).map((d) => resolve(d));
  const logger: Logger = options.logger ?? silentLogger;
  let project = loadProject(dir, options.overrides);
  let current: Generation | undefined;
  let lastError: string | undefined;
  let generation = 0;
  let workers: DevServer['workers'] = [];

  const launcher = new IsolateLauncher({ poolSize: 1, logger });
  void launcher.warm();
  // A rebuild runs the changed top level in an isolate restored and waiting for it.
  const builder = new SnapshotBuilder({ logger });
  const live = new Set<Generation>();
  const closeGeneration = (gen: Generation): Promise<void> => {
    live.delete(gen);
    return gen.router.close();
  };
  const retire = (gen: Generation): void => {
    gen.retired = true;
    if (gen.inflight === 0) void closeGeneration(gen);
  };

  const build = async (): Promise<boolean> => {
    const t0 = performance.now();
    try {
      project = loadProject(dir, options.overrides);
      // Served where it is built: skip compressing the snapshot (~1-2 s per rebuild).
      const defs = await workerDefinitions([dir, ...alongside], {
        ...options,
        encoding: 'fast',
        keepBundles: true,
        builder,
        primary: true,
      });
      // One in-process host on the session's pool: a new build's first request swaps into a
      // parked isolate instead of waiting for a host process and a boot.
      const router = createRouter({
        workers: defs.workers,
        logger,
        // As `wrangler dev --test-scheduled`: /__scheduled and /cdn-cgi/handler/scheduled run
        // the worker's scheduled handler.
        testScheduled: true,
        hostKind: 'local',
        hosts: 1,
        launcher,
        ...(options.adminToken ? { adminToken: options.adminToken } : {}),
        rewriteError: (text, worker) => {
          const map = worker ? defs.sourceMaps.get(worker) : undefined;
          return map ? mapIsolatePaths(text, map) : text;
        },
      });
      await router.ready();
      const previous = current;
      current = { id: ++generation, router, inflight: 0, retired: false };
      live.add(current);
      workers = defs.workers.map((w, k) => ({
        name: w.name,
        routes: w.routes,
        source: defs.sources[k]!,
      }));
      lastError = undefined;
      if (previous) {
        retire(previous);
        logger.info(
          { worker: project.name },
          `reloaded in ${Math.round(performance.now() - t0)} ms`,
        );
      }
      return true;
    } catch (err) {
      lastError = (err as Error).message;
      logger.error(
        { worker: project.name },
        `build failed, ${current ? 'still serving the last good build' : 'fix it and save'}:\n${lastError}`,
      );
      return false;
    }
  };

  await build();

  const server = createServer((req, res) => {
    const gen = current;
    if (!gen) {
      res.writeHead(503, { 'content-type': 'text/plain;charset=UTF-8' });
      res.end(`pyworkers dev: the build failed:\n${lastError ?? ''}\n`);
      return;
    }
    gen.inflight++;
    res.once('close', () => {
      gen.inflight--;
      if (gen.retired && gen.inflight === 0) void closeGeneration(gen);
    });
    gen.router.server.emit('request', req, res);
  });
  // WebSocket upgrades go to the current build's router too (without a listener node would
  // answer them as plain requests). An open socket does not hold its build back: a rebuild's
  // old router closes once its HTTP requests are done, and its sockets with it.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const gen = current;
    if (!gen) {
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain;charset=UTF-8\r\nconnection: close\r\n\r\npyworkers dev: the build failed:\n${lastError ?? ''}\n`,
      );
      return;
    }
    gen.router.server.emit('upgrade', req, socket, head);
  });
  const address = await new Promise<AddressInfo>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () =>
      resolveListen(server.address() as AddressInfo),
    );
  });

  // One rebuild at a time; changes during a rebuild queue exactly one more.
  let running: Promise<boolean> | undefined;
  let again = false;
  const reload = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let ok = await build();
      while (again) {
        again = false;
        ok = await build();
      }
      running = undefined;
      return ok;
    })();
    return running;
  };

  const watchers: TreeWatch[] = [];
  if (options.watch !== false) {
    let timer: NodeJS.Timeout | undefined;
    const projects = [dir, ...alongside.filter((d) => !d.endsWith('.pwb'))];
    for (const root of projects) {
      const main = root === dir ? project.main : loadProject(root).main;
      const sourceRel = relative(root, dirname(join(root, main)));
      watchers.push(
        watchTree(
          root,
          (file) => {
            if (!isWatched(file, sourceRel)) return;
            logger.debug({ worker: project.name, file: join(root, file) }, 'changed');
            clearTimeout(timer);
            timer = setTimeout(() => void reload(), options.debounceMs ?? 20);
          },
          (rel) => !rel.split(sep).some((p) => IGNORED.has(p) || p.startsWith('.')),
        ),
      );
    }
  }

  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    address,
    get workers() {
      return workers;
    },
    get generation() {
      return generation;
    },
    reload,
    async close() {
      for (const w of watchers) w.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await Promise.all([...live].map(closeGeneration));
      await Promise.all([launcher.close(), builder.close()]);
    },
  };
}

/** `pyworkers dev [dir]` */
export const devCommand = {
  name: 'dev',
  summary: 'sync, build and serve one project, rebuilding and swapping it in on every change',
  usage: 'pyworkers dev [dir] [OTHER_PROJECT...] [--port 8787] [--host 127.0.0.1]',
  details:
    'Other projects (or .pwb files) given after dir are served beside it, for its service bindings: at /<name>/, rebuilt when they change.',
  options: {
    ...listenOptions,
    'persist-to': {
      type: 'string',
      default: '<project>/.pyworkers/state',
      description:
        'directory for the state of KV, D1, R2 and queues (as wrangler dev --persist-to)',
      env: ['PYWORKERS_PERSIST_TO', 'PYWORKERS_STATE'],
      valueName: 'DIR',
    },
    'no-watch': {
      type: 'boolean',
      default: false,
      description: 'build and serve once, without watching for changes',
      env: ['PYWORKERS_NO_WATCH'],
    },
    ...configOptions,
    ...syncOptions,
  },
  async run(ctx, values, positionals) {
    const dir = projectDir(ctx, positionals[0]);
    const port = pickNumber(values.port, ['PYWORKERS_PORT', 'PORT'], 'port') ?? 8787;
    const host = pick(values.host, ['PYWORKERS_HOST', 'HOST'], '127.0.0.1');
    const first = loadProject(dir, configOverrides(values));
    const sourceMap = { sourceRoot: projectFiles(first).sourceRoot, projectDir: first.dir };
    const logger = ctx.createLogger((text) => mapIsolatePaths(text, sourceMap));
    const persistTo = pickString(values['persist-to'], ['PYWORKERS_PERSIST_TO', 'PYWORKERS_STATE']);
    const dev = await startDev(dir, {
      port,
      host,
      ...(persistTo ? { stateDir: resolve(ctx.cwd, persistTo) } : {}),
      overrides: configOverrides(values),
      sync: syncFlags(values, ctx),
      logger,
      progress: ctx.progress,
      watch: !pick(values['no-watch'], ['PYWORKERS_NO_WATCH'], false),
      ...(positionals.length > 1
        ? { alongside: positionals.slice(1).map((p) => resolve(ctx.cwd, p)) }
        : {}),
      ...adminTokenOption(values),
    });
    ctx.print(
      { url: dev.url, workers: dev.workers },
      `${describeServing(dev)}\nwatching ${[dir, ...positionals.slice(1)].join(', ')} for changes`,
    );
    const stop = (): void => {
      void dev.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
} satisfies Command;
