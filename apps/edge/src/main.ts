import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCliLogger, serveProjects } from 'pyworkers';

const workersDir = fileURLToPath(new URL('../workers/', import.meta.url));
const logger = createCliLogger();

/** Every example worker under apps/edge/workers, each built (if needed) and served. */
const dirs = readdirSync(workersDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `${workersDir}${d.name}`)
  .sort();

const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? '127.0.0.1';
const serving = await serveProjects(dirs, { port, host, logger });
logger.info({ url: serving.url, workers: dirs.length }, `pyworkers edge serving on ${serving.url}`);

const stop = (): void => {
  void serving.router.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
