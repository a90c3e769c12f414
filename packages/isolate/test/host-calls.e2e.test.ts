// The host-call channel, end to end: Python in a real isolate awaits binding calls that a
// handler passed in by the test answers, and gets Python values (or a BindingError) back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  decodeBundle,
  type HostCall,
  type HostCallHandler,
  Isolate,
  IsolateLauncher,
} from '../src/index.js';
import { send } from './sdk-helpers.js';

const entry = `
import json
from workers import BindingError, JsDict, Response, WorkerEntrypoint
from workers._bindings import call, call_store, call_sync, store

def describe(v):
    if isinstance(v, dict):
        return {"type": type(v).__name__, "items": {k: describe(x) for k, x in v.items()}}
    if isinstance(v, list):
        return {"type": "list", "items": [describe(x) for x in v]}
    if isinstance(v, bytes):
        return {"type": "bytes", "hex": v.hex()}
    if hasattr(v, "isoformat"):
        return {"type": type(v).__name__, "iso": v.isoformat()}
    return {"type": type(v).__name__, "value": v}

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        try:
            if path == "value":
                v = await call("KV", "get", "k", {"type": "json", "skip": None}, b"\\x00\\x01", None, [1, None])
                return Response(json.dumps({
                    "shape": describe(v),
                    "attr": v.nested.label,
                    "missing": v.get("nothing"),
                }))
            if path == "sync":
                v = call_sync("HTTP", "fetch", "http://127.0.0.1/")
                return Response(json.dumps(describe(v)))
            if path == "many":
                import asyncio
                got = await asyncio.gather(*(call("KV", "echo", i) for i in range(20)))
                return Response(json.dumps(got))
            if path.startswith("store/"):
                what = path[6:]
                if what == "args":
                    # flat primitives, JSON-able data, and bytes/big ints (converted by to_js)
                    call_store("KV", "echo", "k", 1, 2.5, True)
                    call_store("KV", "echo", "k", None, {"a": [1, None], "b": {"c": "d"}})
                    call_store("KV", "echo", b"\\x00\\x01", 2**60)
                    return Response("ok")
                if what == "loop":
                    # each answer is the call's own: none taken for another's (a late wake-up)
                    wrong = [i for i in range(3000) if call_store("KV", "same", i) != i]
                    return Response(json.dumps(wrong))
                if what == "hog":
                    # a handler that loops over store calls: the isolate's other requests get turns
                    for i in range(5000):
                        await store("KV", "same", i)
                    return Response("hog done")
                if what == "quick":
                    return Response("quick done")
                if what == "no-turn":
                    # the proxy's coroutine completes without a turn of the event loop
                    import asyncio
                    ran = []
                    task = asyncio.ensure_future(asyncio.sleep(0))
                    task.add_done_callback(lambda t: ran.append(1))
                    async def get():
                        return call_store("KV", "text")
                    v = await get()
                    return Response(json.dumps({"value": v, "other_ran": bool(ran)}))
                return Response(json.dumps(describe(call_store("KV", what))))
            v = await call("KV", path)
            return Response(json.dumps(describe(v)))
        except BindingError as e:
            return Response(json.dumps({"error": str(e), "binding": e.binding, "method": e.method, "code": e.code}), status=500)
`;

const calls: HostCall[] = [];
const handler: HostCallHandler = async (call) => {
  calls.push(call);
  if (call.method === 'get') {
    return {
      n: null,
      nested: { label: 'from the host', list: [1, null, 'x'] },
      bytes: new Uint8Array([0xca, 0xfe]),
      big: 2 ** 40,
      ratio: 1.5,
    };
  }
  if (call.method === 'fetch') return { status: 200, body: new Uint8Array([1]) };
  if (call.method === 'echo') {
    // Out of order: later calls answer first.
    await new Promise((r) => setTimeout(r, 20 - (call.args[0] as number)));
    return call.args[0];
  }
  if (call.method === 'nothing') return undefined;
  if (call.method === 'same') return call.args[0];
  if (call.method === 'text') return 's-prefixed text, j-not json';
  if (call.method === 'json') return { list: [1, 'two', null, { deep: true }], n: -1.5, e: '' };
  if (call.method === 'date')
    return { at: new Date(Date.UTC(2026, 0, 2)), bytes: new Uint8Array([7]) };
  if (call.method === 'unsendable') return { f: () => 1 };
  throw Object.assign(new Error('namespace is read-only here'), { code: 'ERR_KV_READ_ONLY' });
};

let bundle: ReturnType<typeof decodeBundle>;
let isolate: Isolate;
beforeAll(async () => {
  const files = new Map([['entry.py', new TextEncoder().encode(entry)]]);
  bundle = decodeBundle(await buildBundle({ name: 'calls', mainModule: 'entry', files, vars: {} }));
  isolate = await Isolate.start(bundle, { hostCalls: handler });
});
afterAll(async () => {
  await isolate?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: JSON the test's own worker wrote
const json = async (iso: Isolate, path: string): Promise<{ status: number; body: any }> => {
  const res = await send(iso, `http://127.0.0.1/${path}`);
  return { status: res.status, body: JSON.parse(res.text) };
};

describe('host calls from Python', () => {
  it('reach the handler with structured-clone arguments and come back as Python values', async () => {
    calls.length = 0;
    const { status, body } = await json(isolate, 'value');
    expect(status).toBe(200);
    expect(calls).toEqual([
      {
        binding: 'KV',
        method: 'get',
        // None -> null; an option set to None is left out; bytes -> Uint8Array.
        args: ['k', { type: 'json' }, new Uint8Array([0, 1]), null, [1, null]],
      },
    ]);
    expect(body.shape).toEqual({
      type: 'JsDict',
      items: {
        n: { type: 'NoneType', value: null },
        nested: {
          type: 'JsDict',
          items: {
            label: { type: 'str', value: 'from the host' },
            list: {
              type: 'list',
              items: [
                { type: 'int', value: 1 },
                { type: 'NoneType', value: null },
                { type: 'str', value: 'x' },
              ],
            },
          },
        },
        bytes: { type: 'bytes', hex: 'cafe' },
        big: { type: 'int', value: 2 ** 40 },
        ratio: { type: 'float', value: 1.5 },
      },
    });
    expect(body.attr).toBe('from the host');
    expect(body.missing).toBeNull();
  });

  it('turns undefined into None', async () => {
    expect((await json(isolate, 'nothing')).body).toEqual({ type: 'NoneType', value: null });
  });

  it('raises a rejected call as BindingError naming the binding, method and code', async () => {
    const { status, body } = await json(isolate, 'put');
    expect(status).toBe(500);
    expect(body).toEqual({
      error: 'KV.put(): namespace is read-only here [ERR_KV_READ_ONLY]',
      binding: 'KV',
      method: 'put',
      code: 'ERR_KV_READ_ONLY',
    });
  });

  it('refuses a result that is not structured-clone data with a clear error', async () => {
    const { body } = await json(isolate, 'unsendable');
    expect(body.code).toBe('ERR_HOST_CALL_RESULT');
    expect(body.error).toMatch(/^KV\.unsendable\(\): the result of KV\.unsendable cannot be sent/);
  });

  it('matches concurrent answers to their calls', async () => {
    const { body } = await json(isolate, 'many');
    expect(body).toEqual([...Array(20).keys()]);
  });

  it('answers the blocking variant while the isolate thread waits', async () => {
    const { body } = await json(isolate, 'sync');
    expect(body).toEqual({
      type: 'JsDict',
      items: { status: { type: 'int', value: 200 }, body: { type: 'bytes', hex: '01' } },
    });
  });

  it('raises BindingError when the isolate was started without a handler', async () => {
    const bare = await Isolate.start(bundle);
    try {
      const { body } = await json(bare, 'get');
      expect(body.code).toBe('ERR_BINDING_UNAVAILABLE');
      expect(body.binding).toBe('KV');
    } finally {
      await bare.close();
    }
  });

  it('reaches the handler given to a launcher, through a swapped-in parked isolate', async () => {
    const launcher = new IsolateLauncher({ poolSize: 1 });
    try {
      await launcher.warm();
      const swapped = await launcher.start(bundle, { hostCalls: handler });
      try {
        expect(swapped.swapped).toBe(true);
        expect((await json(swapped, 'value')).body.attr).toBe('from the host');
      } finally {
        await swapped.close();
      }
    } finally {
      await launcher.close();
    }
  });
});

describe('store calls (the isolate thread waits for the host)', () => {
  it('send flat, JSON and converted arguments as structured-clone data', async () => {
    calls.length = 0;
    expect((await send(isolate, 'http://127.0.0.1/store/args')).text).toBe('ok');
    expect(calls.map((c) => c.args)).toEqual([
      ['k', 1, 2.5, true],
      ['k', null, { a: [1, null], b: { c: 'd' } }],
      [new Uint8Array([0, 1]), 2n ** 60n],
    ]);
  });

  it('come back as Python values: str, JsDict and lists from JSON, bytes and dates converted', async () => {
    expect((await json(isolate, 'store/text')).body).toEqual({
      type: 'str',
      value: 's-prefixed text, j-not json',
    });
    expect((await json(isolate, 'store/nothing')).body).toEqual({ type: 'NoneType', value: null });
    const got = (await json(isolate, 'store/json')).body;
    expect(got.type).toBe('JsDict');
    expect(got.items.list.items[3]).toEqual({
      type: 'JsDict',
      items: { deep: { type: 'bool', value: true } },
    });
    expect(got.items.n).toEqual({ type: 'float', value: -1.5 });
    const dated = (await json(isolate, 'store/date')).body;
    expect(dated.items.at).toEqual({ type: 'datetime', iso: '2026-01-02T00:00:00+00:00' });
    expect(dated.items.bytes).toEqual({ type: 'bytes', hex: '07' });
  });

  it('raise a refusal as BindingError', async () => {
    const { body } = await json(isolate, 'store/put');
    expect(body).toMatchObject({ binding: 'KV', method: 'put', code: 'ERR_KV_READ_ONLY' });
  });

  it('match 3000 answers in a row to their own calls', async () => {
    expect((await json(isolate, 'store/loop')).body).toEqual([]);
  });

  it("let the isolate's other requests in while a handler loops over them", async () => {
    const order: string[] = [];
    const hog = send(isolate, 'http://127.0.0.1/store/hog').then((r) => order.push(r.text));
    // Once the hog runs (its first calls reached the handler), a quick request is answered
    // before the hog's 5000 calls are done.
    calls.length = 0;
    for (let i = 0; i < 2000 && calls.length < 10; i++) await new Promise((r) => setTimeout(r, 5));
    await send(isolate, 'http://127.0.0.1/store/quick').then((r) => order.push(r.text));
    await hog;
    expect(order).toEqual(['quick done', 'hog done']);
  });

  it('complete without a turn of the event loop', async () => {
    expect((await json(isolate, 'store/no-turn')).body).toEqual({
      value: 's-prefixed text, j-not json',
      other_ran: false,
    });
  });
});

describe('a binding called at the top level', () => {
  it('fails the build with a message saying to move it into a handler', async () => {
    const src = 'from workers._bindings import call_sync\ncall_sync("KV", "get", "k")\n';
    const files = new Map([['entry.py', new TextEncoder().encode(src)]]);
    await expect(
      buildBundle({ name: 'toplevel', mainModule: 'entry', files, vars: {} }),
    ).rejects.toThrow(/KV\.get\(\): bindings are reachable only while the worker handles an event/);
  });
});
