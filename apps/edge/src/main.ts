import { fileURLToPath } from 'node:url';
import { createCliLogger } from 'pyworkers';
import { startEdge, workerDirs } from './edge.js';

const workersDir = fileURLToPath(new URL('../workers/', import.meta.url));
const logger = createCliLogger();

const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? '127.0.0.1';
const adminToken = process.env.PYWORKERS_ADMIN_TOKEN;
const serving = await startEdge(workersDir, {
  port,
  host,
  logger,
  ...(adminToken ? { adminToken } : {}),
});
logger.info(
  { url: serving.url, workers: workerDirs(workersDir).length },
  `pyworkers edge serving on ${serving.url} (status page: ${serving.url}/__pyworkers/)`,
);

const stop = (): void => {
  void serving.router.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
