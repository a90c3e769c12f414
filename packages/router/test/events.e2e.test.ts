// Cron triggers, the dev scheduled endpoints, static assets and queue consumers through a real
// router, real isolates and real SQLite state.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { memoryLogger, waitFor } from './fixtures.js';

const entry = `
from urllib.parse import unquote
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = unquote(request.url.split("/", 3)[3])
        if path.startswith("send/"):
            await self.env.JOBS.send(path[5:])
            return Response("sent")
        if path.startswith("kv/"):
            return Response(await self.env.KV.get(path[3:]) or "")
        if path.startswith("from-assets/"):
            return await self.env.ASSETS.fetch("http://x/" + path[12:])
        return Response("worker answered " + path)

    async def scheduled(self, controller, env, ctx):
        print(f"scheduled {controller.cron} at {int(controller.scheduled_time)}")
        await env.KV.put("cron:" + controller.cron, str(int(controller.scheduled_time)))
        if controller.cron == "0 0 1 1 *":
            raise ValueError("new year")

    async def queue(self, batch, env, ctx):
        for msg in batch.messages:
            if batch.queue == "jobs-dlq":
                await env.KV.put("dead:" + msg.body, str(msg.attempts))
            elif msg.body.startswith("fail"):
                msg.retry()
            else:
                await env.KV.put("got:" + msg.body, str(msg.attempts))
                msg.ack()
`;

let bundle: Bundle;
let router: Router;
let base: string;
const logger = memoryLogger();
const root = mkdtempSync(join(tmpdir(), 'pyw-events-'));

beforeAll(async () => {
  const assets = join(root, 'public');
  mkdirSync(join(assets, 'docs'), { recursive: true });
  writeFileSync(join(assets, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(assets, 'style.css'), 'h1 { color: red }');
  writeFileSync(join(assets, 'docs', 'a.txt'), 'doc a');
  writeFileSync(join(root, 'secret.txt'), 'outside the assets directory');
  const bytes = await buildBundle({
    name: 'events',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
    vars: {},
    bindings: {
      bindings: [
        { type: 'kv', name: 'KV', id: 'events' },
        { type: 'queue', name: 'JOBS', queue: 'jobs' },
        { type: 'assets', name: 'ASSETS', directory: 'public' },
      ],
    },
  });
  bundle = decodeBundle(bytes);
  router = createRouter({
    hostKind: 'process',
    hosts: 1,
    logger,
    testScheduled: true,
    workers: [
      {
        name: 'events',
        routes: [{ pathPrefix: '/' }],
        bundle: async () => bundle,
        state: { stateDir: join(root, 'state'), projectDir: root },
        crons: ['* * * * *'],
        queueConsumers: [
          {
            queue: 'jobs',
            maxBatchSize: 10,
            maxBatchTimeout: 0.2,
            maxRetries: 1,
            deadLetterQueue: 'jobs-dlq',
          },
          { queue: 'jobs-dlq', maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 0 },
        ],
        assets: {
          directory: join(root, 'public'),
          htmlHandling: 'auto-trailing-slash',
          notFoundHandling: 'none',
          runWorkerFirst: ['/api/*', '/send/*', '/kv/*', '/from-assets/*'],
        },
      },
    ],
  });
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await router?.close();
});

const text = async (path: string): Promise<string> => (await fetch(`${base}${path}`)).text();

describe('static assets', () => {
  it('are answered by the router with Cloudflare content types, without a cold start', async () => {
    // The worker's `* * * * *` cron may cold-start it at a minute boundary while the suite starts
    // on a slow box: count only what the asset requests themselves cause.
    const before = (await router.stats())[0]!.coldStarts;
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe('<h1>home</h1>');
    const css = await fetch(`${base}/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const etag = css.headers.get('etag')!;
    expect((await fetch(`${base}/style.css`, { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    const stats = await router.stats();
    expect(stats[0]!.coldStarts - before).toBe(0);
  });

  it('never answer a path outside the directory', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/docs/..%2f..%2fsecret.txt',
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(await res.text(), path).not.toContain('outside the assets directory');
    }
  });

  it('let the worker run for other paths and for run_worker_first globs', async () => {
    expect(await text('/no-such-file')).toBe('worker answered no-such-file');
    expect(await text('/api/x')).toBe('worker answered api/x');
  });

  it('are reachable from Python through env.ASSETS.fetch', async () => {
    const res = await fetch(`${base}/from-assets/docs/a.txt`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('doc a');
    expect((await fetch(`${base}/from-assets/nothing-here`)).status).toBe(404);
  });
});

describe('scheduled events', () => {
  it('run through the dev endpoints with the given cron, as wrangler dev --test-scheduled', async () => {
    const res = await fetch(`${base}/__scheduled?cron=*/5+*+*+*+*`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Ran scheduled event');
    expect(await text('/kv/cron:*/5 * * * *')).toMatch(/^\d{13}$/);
    const at = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=1+2+3+4+5&time=1700000000000`);
    expect(await at.text()).toBe('ok');
    expect(await text('/kv/cron:1 2 3 4 5')).toBe('1700000000000');
    const raised = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=0+0+1+1+*`);
    expect(raised.status).toBe(500);
    expect(await raised.text()).toBe('exception');
    expect(logger.lines.some((l) => /ValueError: new year/.test(l.msg ?? ''))).toBe(true);
  });

  it('fire on time from triggers.crons, with the minute as scheduled_time', async () => {
    let got = '';
    await waitFor(async () => {
      got = await text('/kv/cron:* * * * *');
      return got !== '';
    }, 75_000);
    expect(Number(got) % 60_000).toBe(0);
    expect(logger.lines.some((l) => l.msg === `scheduled * * * * * at ${got}`)).toBe(true);
  }, 90_000);
});

describe('queues', () => {
  it('deliver a sent message to the queue handler and drop it once acked', async () => {
    expect(await text('/send/one')).toBe('sent');
    await waitFor(async () => (await text('/kv/got:one')) !== '');
    expect(await text('/kv/got:one')).toBe('1');
  });

  it('retry a message up to max_retries, then move it to the dead-letter queue', async () => {
    expect(await text('/send/fail-1')).toBe('sent');
    await waitFor(async () => (await text('/kv/dead:fail-1')) !== '');
    expect(await text('/kv/dead:fail-1')).toBe('1');
    expect(await text('/kv/got:fail-1')).toBe('');
  });
});
