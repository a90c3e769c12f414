import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { decodeBundle, type Logger, silentLogger } from '@pyworkers/isolate';
import { createRouter, type Router, type WorkerDefinition } from '@pyworkers/router';
import { loadProject } from '../project.js';
import { buildProject } from './build.js';
import { type Command, type CommandContext, pick } from './command.js';

/** Options of {@link serveProjects}. */
export interface ServeOptions {
  port?: number;
  host?: string;
  logger?: Logger;
}

/** A running server. */
export interface Serving {
  router: Router;
  address: AddressInfo;
  url: string;
}

/**
 * Builds (if needed) and serves worker projects. One worker alone is served at `/`; several
 * workers without routes are served at `/<name>/`.
 */
export async function serveProjects(dirs: string[], options: ServeOptions = {}): Promise<Serving> {
  const logger = options.logger ?? silentLogger;
  const workers: WorkerDefinition[] = [];
  for (const dir of dirs) {
    const project = loadProject(dir);
    const built = await buildProject(dir, { logger });
    logger.info(
      {
        worker: built.name,
        bundle: built.bundlePath,
        bytes: built.bytes,
        built: built.built,
        ms: Math.round(built.ms),
      },
      'bundle ready',
    );
    const routes =
      project.routes.length > 0
        ? project.routes
        : [{ pathPrefix: dirs.length === 1 ? '/' : `/${project.name}` }];
    workers.push({
      name: project.name,
      routes,
      bundle: async () =>
        decodeBundle(new Uint8Array(await readFile(built.bundlePath)), built.bundlePath),
    });
  }
  const router = createRouter({ workers, logger });
  const address = await router.listen({
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { router, address, url: `http://${host}:${address.port}` };
}

/** `pyworkers serve [PROJECT...] [--port 8787] [--host 127.0.0.1]` */
export const serveCommand = {
  name: 'serve',
  summary: 'serve one or many workers over HTTP',
  usage: 'pyworkers serve [project...] [--port 8787] [--host 127.0.0.1]',
  options: {
    port: {
      type: 'string',
      default: '8787',
      description: 'port to listen on (env PORT or PYWORKERS_PORT)',
    },
    host: {
      type: 'string',
      default: '127.0.0.1',
      description: 'address to listen on (env HOST or PYWORKERS_HOST)',
    },
  },
  async run(
    ctx: CommandContext,
    values: Record<string, unknown>,
    positionals: string[],
  ): Promise<void> {
    const port = Number(pick(values.port, ['PYWORKERS_PORT', 'PORT'], '8787'));
    const host = pick(values.host, ['PYWORKERS_HOST', 'HOST'], '127.0.0.1');
    const serving = await serveProjects(positionals.length > 0 ? positionals : [ctx.cwd], {
      port,
      host,
      logger: ctx.logger,
    });
    ctx.print({ url: serving.url }, `serving on ${serving.url}`);
    const stop = (): void => {
      void serving.router.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
} satisfies Command;
