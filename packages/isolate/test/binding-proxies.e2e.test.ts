// The Python binding proxies (self.env.KV, .DB, .BUCKET, .QUEUE, .ASSETS) in a real isolate:
// which host calls each method sends, and what Python gets back. The host side here is the
// test's own handler answering in the shapes of @pyworkers/bindings (which this package never
// imports); the router's e2e tests run the same proxies against the real bindings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  decodeBundle,
  type HostCall,
  type HostCallHandler,
  Isolate,
} from '../src/index.js';
import { send } from './sdk-helpers.js';

const entry = `
import datetime, json
from workers import BindingError, Request, Response, WorkerEntrypoint

def kinds(v):
    return type(v).__name__

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        env = self.env
        path = request.url.split("/", 3)[3]
        out = {}
        if path == "kv":
            await env.KV.put("k", "v", expiration_ttl=60, metadata={"a": 1})
            await env.KV.put("b", b"\\x00", {"expiration": 2000000000})
            out["text"] = await env.KV.get("k")
            out["json"] = await env.KV.get("j", "json")
            out["missing"] = await env.KV.get("nope", type="json")
            meta = await env.KV.get_with_metadata("k")
            out["meta"] = [meta.value, meta.metadata.a, meta.cacheStatus]
            listed = await env.KV.list(prefix="k", limit=10)
            out["list"] = [k.name for k in listed.keys] + [listed.list_complete]
            stream = await env.KV.get("k", type="stream")
            out["stream"] = await Response(stream).text()
            await env.KV.delete("k")
        elif path == "d1":
            rows = await env.DB.prepare("SELECT * FROM t WHERE id = ?").bind(1).all()
            out["all"] = [rows.success, rows.results[0].title, rows.meta.rows_read]
            out["first"] = await env.DB.prepare("SELECT title FROM t").first("title")
            run = await env.DB.prepare("INSERT INTO t VALUES (?, ?, ?)").bind(None, 2.5, b"\\x01").run()
            out["run"] = run.meta.last_row_id
            out["raw"] = await env.DB.prepare("SELECT 1").raw(column_names=True)
            out["batch"] = len(await env.DB.batch([env.DB.prepare("SELECT 1"), env.DB.prepare("SELECT ?").bind("x")]))
            out["exec"] = (await env.DB.exec("CREATE TABLE x (a)")).count
            try:
                env.DB.prepare("SELECT ?").bind({"no": 1})
            except TypeError as e:
                out["bad_param"] = str(e)
        elif path == "r2":
            put = await env.BUCKET.put("a.txt", "hello", http_metadata={"contentType": "text/plain"})
            out["put"] = [put.key, put.http_etag, put.uploaded.isoformat()]
            got = await env.BUCKET.get("a.txt")
            out["get"] = [await got.text(), kinds(got), got.size, got.write_http_metadata({})]
            out["missing"] = await env.BUCKET.get("nope")
            head = await env.BUCKET.head("a.txt")
            out["head"] = [kinds(head), head.httpEtag]
            listed = await env.BUCKET.list(prefix="a", delimiter="/")
            out["list"] = [[o.key for o in listed.objects], listed.truncated, listed.delimited_prefixes]
            up = await env.BUCKET.create_multipart_upload("big")
            part = await up.upload_part(1, b"abc")
            done = await up.complete([part])
            out["multipart"] = [up.upload_id, part.etag, done.key]
        elif path == "queue":
            await env.QUEUE.send({"n": 1}, content_type="json", delay_seconds=5)
            await env.QUEUE.send_batch([{"body": "a"}, {"body": b"b", "delay_seconds": 1}])
            out["sent"] = True
        elif path == "assets":
            res = await env.ASSETS.fetch(request)
            return res
        elif path == "undeclared":
            try:
                env.NOPE
            except AttributeError as e:
                out["error"] = str(e)
            out["types"] = sorted(kinds(env[n]) for n in env if n != "PLAIN")
            out["plain"] = env.PLAIN
        return Response.json(out)
`;

const calls: HostCall[] = [];
const uploaded = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
const object = { key: 'a.txt', version: 'v1', size: 5, etag: 'e', httpEtag: '"e"', uploaded };
const handler: HostCallHandler = async (call) => {
  calls.push(call);
  const { binding, method, args } = call;
  const key = `${binding}.${method}`;
  switch (key) {
    case 'KV.get': {
      const type = (args[1] as { type?: string } | undefined)?.type;
      if (args[0] === 'nope') return null;
      if (type === 'json') return { parsed: [1, null] };
      if (type === 'stream') return new TextEncoder().encode('streamed');
      return 'v';
    }
    case 'KV.getWithMetadata':
      return { value: 'v', metadata: { a: 1 }, cacheStatus: null };
    case 'KV.list':
      return { keys: [{ name: 'k' }, { name: 'k2' }], list_complete: true, cacheStatus: null };
    case 'DB.all':
      return {
        success: true,
        results: [{ id: 1, title: 'one' }],
        meta: { rows_read: 1, rows_written: 0 },
      };
    case 'DB.first':
      return args[2] === 'title' ? 'one' : { title: 'one' };
    case 'DB.run':
      return { success: true, results: [], meta: { last_row_id: 7, changes: 1 } };
    case 'DB.raw':
      return [['1'], [1]];
    case 'DB.batch':
      return (args[0] as unknown[]).map(() => ({ success: true, results: [], meta: {} }));
    case 'DB.exec':
      return { count: 1, duration: 0.1 };
    case 'BUCKET.put':
    case 'BUCKET.head':
      return object;
    case 'BUCKET.get':
      if (args[0] === 'nope') return null;
      return {
        ...object,
        httpMetadata: { contentType: 'text/plain' },
        body: new TextEncoder().encode('hello'),
      };
    case 'BUCKET.list':
      return { objects: [object], truncated: false, delimitedPrefixes: ['a/'] };
    case 'BUCKET.createMultipartUpload':
      return { key: 'big', uploadId: 'u1' };
    case 'BUCKET.uploadPart':
      return { partNumber: 1, etag: 'p1' };
    case 'BUCKET.completeMultipartUpload':
      return { ...object, key: 'big' };
    case 'ASSETS.fetch':
      return {
        status: 200,
        headers: [
          ['content-type', 'text/css; charset=utf-8'],
          ['etag', '"abc"'],
        ],
        body: new TextEncoder().encode('body{}'),
      };
    default:
      return null;
  }
};

let isolate: Isolate;
beforeAll(async () => {
  const files = new Map([['entry.py', new TextEncoder().encode(entry)]]);
  const bytes = await buildBundle({
    name: 'proxies',
    mainModule: 'entry',
    files,
    vars: { PLAIN: 'text' },
    bindings: {
      bindings: [
        { type: 'kv', name: 'KV', id: 'kv-id' },
        { type: 'd1', name: 'DB', databaseName: 'db' },
        { type: 'r2', name: 'BUCKET', bucketName: 'b' },
        { type: 'queue', name: 'QUEUE', queue: 'q' },
        { type: 'assets', name: 'ASSETS', directory: 'public' },
      ],
    },
  });
  const bundle = decodeBundle(bytes);
  expect(bundle.manifest.bindings).toHaveLength(5);
  isolate = await Isolate.start(bundle, { hostCalls: handler });
});
afterAll(async () => {
  await isolate?.close();
});

async function run(path: string): Promise<{ out: Record<string, unknown>; calls: HostCall[] }> {
  calls.length = 0;
  const res = await send(isolate, `http://127.0.0.1/${path}`);
  expect(res.status, res.text).toBe(200);
  return { out: JSON.parse(res.text), calls: [...calls] };
}

const args = (calls: HostCall[]): unknown[] => calls.map((c) => [c.method, ...c.args]);

describe('binding proxies in Python', () => {
  it('KV: sends Cloudflare method names with camelCase options and converts the results', async () => {
    const { out, calls } = await run('kv');
    expect(args(calls)).toEqual([
      ['put', 'k', 'v', { expirationTtl: 60, metadata: { a: 1 } }],
      ['put', 'b', new Uint8Array([0]), { expiration: 2000000000 }],
      ['get', 'k'],
      ['get', 'j', { type: 'json' }],
      ['get', 'nope', { type: 'json' }],
      ['getWithMetadata', 'k', {}],
      ['list', { prefix: 'k', limit: 10 }],
      ['get', 'k', { type: 'stream' }],
      ['delete', 'k'],
    ]);
    expect(out).toEqual({
      text: 'v',
      json: { parsed: [1, null] },
      missing: null,
      meta: ['v', 1, null],
      list: ['k', 'k2', true],
      stream: 'streamed',
    });
  });

  it('D1: prepare/bind live in Python; the host gets SQL and parameters', async () => {
    const { out, calls } = await run('d1');
    expect(args(calls)).toEqual([
      ['all', 'SELECT * FROM t WHERE id = ?', [1]],
      ['first', 'SELECT title FROM t', [], 'title'],
      ['run', 'INSERT INTO t VALUES (?, ?, ?)', [null, 2.5, new Uint8Array([1])]],
      ['raw', 'SELECT 1', [], { columnNames: true }],
      [
        'batch',
        [
          { sql: 'SELECT 1', params: [] },
          { sql: 'SELECT ?', params: ['x'] },
        ],
      ],
      ['exec', 'CREATE TABLE x (a)'],
    ]);
    expect(out).toMatchObject({
      all: [true, 'one', 1],
      first: 'one',
      run: 7,
      raw: [['1'], [1]],
      batch: 2,
      exec: 1,
    });
    expect(out.bad_param).toMatch(/^DB\.prepare\(\.\.\.\)\.bind\(\): parameter 1 has type dict/);
  });

  it('R2: objects with attributes, bodies read once, dates as datetimes, multipart uploads', async () => {
    const { out, calls } = await run('r2');
    expect(calls[0]).toEqual({
      binding: 'BUCKET',
      method: 'put',
      args: ['a.txt', 'hello', { httpMetadata: { contentType: 'text/plain' } }],
    });
    expect(out).toEqual({
      put: ['a.txt', '"e"', '2026-01-02T03:04:05+00:00'],
      get: ['hello', 'R2ObjectBody', 5, { 'content-type': 'text/plain' }],
      missing: null,
      head: ['R2Object', '"e"'],
      list: [['a.txt'], false, ['a/']],
      multipart: ['u1', 'p1', 'big'],
    });
    expect(calls.find((c) => c.method === 'completeMultipartUpload')?.args).toEqual([
      'big',
      'u1',
      [{ partNumber: 1, etag: 'p1' }],
    ]);
  });

  it('Queue: send and send_batch with their options', async () => {
    const { calls } = await run('queue');
    expect(args(calls)).toEqual([
      ['send', { n: 1 }, { contentType: 'json', delaySeconds: 5 }],
      ['sendBatch', [{ body: 'a' }, { body: new Uint8Array([98]), delaySeconds: 1 }], {}],
    ]);
  });

  it('ASSETS.fetch(request) returns the host answer as a Response, headers kept', async () => {
    calls.length = 0;
    const res = await send(isolate, 'http://127.0.0.1/assets', {
      headers: [['if-none-match', 'x']],
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('body{}');
    expect(res.header('content-type')).toBe('text/css; charset=utf-8');
    expect(res.header('etag')).toBe('"abc"');
    expect(calls[0]?.args[0]).toEqual({
      method: 'GET',
      url: 'http://127.0.0.1/assets',
      headers: [['if-none-match', 'x']],
    });
  });

  it('env holds exactly the declared bindings and vars', async () => {
    const { out } = await run('undeclared');
    expect(out.error).toMatch(/env has no binding 'NOPE'; declare it in wrangler\.toml/);
    expect(out.types).toEqual(['D1Database', 'Fetcher', 'KVNamespace', 'Queue', 'R2Bucket']);
    expect(out.plain).toBe('text');
  });
});
