// The rest of Cloudflare's request/response surface: FormData, Blob, File, form_data(),
// blob(), multipart uploads, Response bodies of those types, redirects, import_from_javascript
// and the GET/HEAD body rule. One restored isolate on real Pyodide.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isolate } from '../src/index.js';
import { send, startWorker } from './sdk-helpers.js';

const entry = `
import json
from urllib.parse import urlsplit, parse_qs

from workers import (
    Blob, File, FormData, Request, Response, WorkerEntrypoint, fetch, import_from_javascript,
)


def outcome(make):
    try:
        return repr(make())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


async def describe_form(form):
    out = {"keys": list(form), "len": len(form), "has_name": "name" in form}
    for key, value in form.items():
        if isinstance(value, File):
            out[key] = {
                "file": value.name,
                "type": value.content_type,
                "size": value.size,
                "text": await value.text(),
            }
        else:
            out.setdefault(key, []).append(value)
    return out


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        if path == "/form":
            return Response.json(await describe_form(await request.form_data()))
        if path == "/not-a-form":
            try:
                await request.form_data()
            except TypeError as exc:
                return Response(f"TypeError: {exc}", status=400)
            return Response("parsed?")
        if path == "/blob":
            blob = await request.blob()
            return Response.json({"size": blob.size, "type": blob.content_type, "text": await blob.text()})
        if path == "/make-form":
            form = FormData({"name": "Ada"})
            form.append("tag", "a")
            form.append("tag", "b")
            form.append("doc", File([b"hello ", "file"], "doc.txt", content_type="text/plain"))
            return Response(form)
        if path == "/make-blob":
            return Response(Blob([b"ab", "cd"], content_type="text/x-custom"), headers={"x-k": "v"})
        if path == "/redirect":
            status = int(query.get("status", "302"))
            try:
                return Response.redirect("http://127.0.0.1/target", status)
            except ValueError as exc:
                return Response(str(exc), status=400)
        if path == "/checks":
            return Response.json(await checks(query.get("origin", "")))
        return Response("not found", status=404)


async def checks(origin):
    out = {}
    out["get_body"] = outcome(lambda: Request("http://127.0.0.1/", body="x"))
    out["head_body"] = outcome(lambda: Request("http://127.0.0.1/", method="HEAD", body="x"))
    try:
        await fetch(origin + "/x", method="GET", body="x")
        out["fetch_get_body"] = "sent"
    except TypeError as exc:
        out["fetch_get_body"] = f"TypeError: {exc}"
    built = Request("http://127.0.0.1/p", method="POST", headers={"X-A": "1"}, body=b"bytes body")
    out["request"] = [str(built.method), built.url, built.headers.get("x-a"), await built.text()]
    with_form = Request("http://127.0.0.1/p", method="POST", body=FormData({"k": "v"}))
    out["request_form_ct"] = with_form.headers.get("content-type").split(";")[0]
    out["request_form_back"] = (await with_form.form_data())["k"]
    blob = Blob(["héllo"], content_type="text/plain")
    out["blob"] = [blob.size, blob.content_type, await blob.bytes() == "héllo".encode(), await blob.slice(1, 3).text()]
    out["blob_inherits_type"] = Blob(blob).content_type
    f = File(blob, "h.txt", last_modified=1234)
    out["file"] = [f.name, f.last_modified, f.content_type, isinstance(f, Blob)]
    form = FormData()
    form["a"] = "1"
    form["a"] = "2"
    form.append("b", "x")
    form.append("b", "y")
    del form["a"]
    out["form_ops"] = [list(form), form["b"], form.get_all("b"), "a" in form, form.get("a")]
    out["form_bad_value"] = outcome(lambda: FormData({"n": 5}))
    out["bad_blob_part"] = outcome(lambda: Blob([1.5]))
    cf = import_from_javascript("cloudflare:workers")
    out["cf_env"] = cf.env.WHO
    out["sockets"] = outcome(lambda: import_from_javascript("cloudflare:sockets"))
    out["other"] = outcome(lambda: import_from_javascript("node:fs"))
    out["response_form"] = [
        (await Response(FormData({"z": "1"})).form_data())["z"],
        await (await Response(Blob([b"q"])).blob()).text(),
    ]
    return out
`;

let isolate: Isolate;

beforeAll(async () => {
  ({ isolate } = await startWorker('sdk-forms', { 'entry.py': entry }, { vars: { WHO: 'forms' } }));
});

afterAll(async () => {
  await isolate?.close();
});

/** A body and content type exactly as a browser or `curl -F` sends them. */
async function encoded(body: FormData | URLSearchParams): Promise<[Uint8Array, string]> {
  const req = new Request('http://127.0.0.1/', { method: 'POST', body });
  return [new Uint8Array(await req.arrayBuffer()), req.headers.get('content-type')!];
}

describe('request bodies', () => {
  it('parses a multipart upload into fields and File objects', async () => {
    const fd = new FormData();
    fd.append('name', 'Ada');
    fd.append('name', 'Grace');
    fd.append('upload', new File(['line 1\nline 2'], 'notes.txt', { type: 'text/plain' }));
    const [body, type] = await encoded(fd);
    const res = await send(isolate, 'http://127.0.0.1/form', {
      method: 'POST',
      headers: [['content-type', type]],
      body,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      keys: ['name', 'upload'],
      len: 2,
      has_name: true,
      name: ['Ada', 'Grace'],
      upload: { file: 'notes.txt', type: 'text/plain', size: 13, text: 'line 1\nline 2' },
    });
  });

  it('parses an urlencoded form', async () => {
    const [body, type] = await encoded(new URLSearchParams({ name: 'Ada Lovelace', x: 'é' }));
    const res = await send(isolate, 'http://127.0.0.1/form', {
      method: 'POST',
      headers: [['content-type', type]],
      body,
    });
    expect(JSON.parse(res.text)).toMatchObject({ name: ['Ada Lovelace'], x: ['é'] });
  });

  it('raises TypeError for a body that is not a form', async () => {
    const res = await send(isolate, 'http://127.0.0.1/not-a-form', {
      method: 'POST',
      headers: [['content-type', 'application/json']],
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^TypeError: form_data\(\): /);
  });

  it('reads a body as a Blob with its content type', async () => {
    const res = await send(isolate, 'http://127.0.0.1/blob', {
      method: 'POST',
      headers: [['content-type', 'text/csv']],
      body: 'a,b\n1,2',
    });
    expect(JSON.parse(res.text)).toEqual({ size: 7, type: 'text/csv', text: 'a,b\n1,2' });
  });
});

describe('response bodies', () => {
  it('sends a FormData body as multipart that a client parses back', async () => {
    const res = await send(isolate, 'http://127.0.0.1/make-form');
    const type = res.header('content-type')!;
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(res.body, { headers: { 'content-type': type } }).formData();
    expect(form.get('name')).toBe('Ada');
    expect(form.getAll('tag')).toEqual(['a', 'b']);
    const doc = form.get('doc') as File;
    expect([doc.name, doc.type, await doc.text()]).toEqual(['doc.txt', 'text/plain', 'hello file']);
  });

  it("sends a Blob body with the Blob's content type", async () => {
    const res = await send(isolate, 'http://127.0.0.1/make-blob');
    expect(res.text).toBe('abcd');
    expect(res.header('content-type')).toBe('text/x-custom');
    expect(res.header('x-k')).toBe('v');
  });

  it.each([301, 302, 303, 307, 308])('redirects with status %i', async (status) => {
    const res = await send(isolate, `http://127.0.0.1/redirect?status=${status}`);
    expect(res.status).toBe(status);
    expect(res.header('location')).toBe('http://127.0.0.1/target');
  });

  it('refuses a redirect status that is not one', async () => {
    const res = await send(isolate, 'http://127.0.0.1/redirect?status=200');
    expect(res.status).toBe(400);
    expect(res.text).toBe('redirect status must be one of 301, 302, 303, 307, 308, got 200');
  });
});

describe('the rest of the SDK surface', () => {
  it('builds Requests, Blobs, Files and FormData as Cloudflare does; GET bodies refused', async () => {
    const res = await send(isolate, 'http://127.0.0.1/checks?origin=http://127.0.0.1:9');
    expect(res.status).toBe(200);
    const out = JSON.parse(res.text);
    expect(out.get_body).toBe(
      "TypeError: a GET request cannot have a body; use method='POST' (or PUT, PATCH) to send one, or put the data in the URL's query string",
    );
    expect(out.head_body).toMatch(/^TypeError: a HEAD request cannot have a body/);
    expect(out.fetch_get_body).toMatch(/^TypeError: a GET request cannot have a body/);
    expect(out.request).toEqual(['POST', 'http://127.0.0.1/p', '1', 'bytes body']);
    expect(out.request_form_ct).toBe('multipart/form-data');
    expect(out.request_form_back).toBe('v');
    // Sizes and slices count bytes (é is two).
    expect(out.blob).toEqual([6, 'text/plain', true, 'é']);
    expect(out.blob_inherits_type).toBe('text/plain');
    expect(out.file).toEqual(['h.txt', 1234, 'text/plain', true]);
    expect(out.form_ops).toEqual([['b'], 'x', ['x', 'y'], false, null]);
    expect(out.form_bad_value).toBe('TypeError: FormData values are str, File or Blob, got int');
    expect(out.bad_blob_part).toMatch(/^TypeError: Don't know how to handle float for Blob\(\)/);
    expect(out.cf_env).toBe('forms');
    expect(out.sockets).toMatch(/^ImportError: Failed to import 'cloudflare:sockets'/);
    expect(out.other).toBe(
      "ImportError: Failed to import 'node:fs': pyworkers provides only 'cloudflare:workers' to import_from_javascript",
    );
    expect(out.response_form).toEqual(['1', 'q']);
  });
});
