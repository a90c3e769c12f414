// Bindings through the whole router: Python in a real isolate calls KV and D1, a host (in a
// child process, as `serve` runs them, and in-process) answers with @pyworkers/bindings on real
// SQLite files in a temp state directory, and the state outlives the router.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';

const entry = `
import json
from workers import BindingError, Response, WorkerEntrypoint
from workers._bindings import call

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        env = self.env
        if path.startswith("put/"):
            _, key, value = path.split("/")
            await env.KV.put(key, value, metadata={"by": "test"})
            return Response("stored")
        if path.startswith("get/"):
            got = await env.KV.get_with_metadata(path[4:])
            return Response.json(got)
        if path == "d1":
            await env.DB.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
            run = await env.DB.prepare("INSERT INTO notes (body) VALUES (?)").bind("hello").run()
            rows = await env.DB.prepare("SELECT id, body FROM notes ORDER BY id").all()
            first = await env.DB.prepare("SELECT count(*) AS n FROM notes").first("n")
            return Response.json({
                "last_row_id": run.meta.last_row_id,
                "bodies": [r.body for r in rows.results],
                "count": first,
                "success": rows.success,
            })
        if path == "bad-sql":
            try:
                await env.DB.prepare("SELEC nope").all()
            except BindingError as e:
                return Response.json({"binding": e.binding, "code": e.code, "message": str(e)})
        if path == "undeclared":
            try:
                await call("SOMEONE_ELSES_KV", "get", "k", {})
            except BindingError as e:
                return Response.json({"code": e.code, "message": str(e)})
        return Response("?", status=404)
`;

let bundle: Bundle;
const routers: Router[] = [];
beforeAll(async () => {
  const bytes = await buildBundle({
    name: 'notes',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
    vars: {},
    bindings: {
      bindings: [
        { type: 'kv', name: 'KV', id: 'notes-kv' },
        { type: 'd1', name: 'DB', databaseName: 'notes' },
      ],
    },
  });
  bundle = decodeBundle(bytes);
});
afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
});

async function start(stateDir: string, hostKind: 'process' | 'local'): Promise<string> {
  const router = createRouter({
    hostKind,
    hosts: 1,
    workers: [
      {
        name: 'notes',
        routes: [{ pathPrefix: '/' }],
        bundle: async () => bundle,
        state: { stateDir, projectDir: stateDir },
      },
    ],
  });
  routers.push(router);
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${port}`;
}

const text = async (url: string): Promise<string> => (await fetch(url)).text();

describe.each(['process', 'local'] as const)('bindings on a %s host', (hostKind) => {
  const stateDir = mkdtempSync(join(tmpdir(), `pyw-state-${hostKind}-`));
  let base: string;
  beforeAll(async () => {
    base = await start(stateDir, hostKind);
  });

  it('KV: a value put by one request is read by the next, with its metadata', async () => {
    expect(await text(`${base}/put/greeting/hi`)).toBe('stored');
    expect(JSON.parse(await text(`${base}/get/greeting`))).toEqual({
      value: 'hi',
      metadata: { by: 'test' },
      cacheStatus: null,
    });
    expect(JSON.parse(await text(`${base}/get/missing`))).toEqual({
      value: null,
      metadata: null,
      cacheStatus: null,
    });
  });

  it('D1: exec, run, all and first on the database file', async () => {
    expect(JSON.parse(await text(`${base}/d1`))).toEqual({
      last_row_id: 1,
      bodies: ['hello'],
      count: 1,
      success: true,
    });
  });

  it('keeps the state when the router is closed and another starts on the same directory', async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
    base = await start(stateDir, hostKind);
    expect(JSON.parse(await text(`${base}/get/greeting`)).value).toBe('hi');
    expect(JSON.parse(await text(`${base}/d1`)).bodies).toEqual(['hello', 'hello']);
  });

  it('raises a failing statement as BindingError naming the binding', async () => {
    const got = JSON.parse(await text(`${base}/bad-sql`));
    expect(got.binding).toBe('DB');
    expect(got.code).toMatch(/^ERR_D1_/);
    expect(got.message).toMatch(/^DB\.all\(\): .*syntax error/);
  });

  it('refuses, from inside the isolate, a binding the worker did not declare', async () => {
    const got = JSON.parse(await text(`${base}/undeclared`));
    expect(got.code).toBe('ERR_BINDING_UNDECLARED');
    expect(got.message).toMatch(/SOMEONE_ELSES_KV/);
  });
});
