// The crash test through the whole server (#14): `pyworkers serve --state DIR` with a worker that
// writes to KV, D1 and R2 for each request, four client connections writing, `kill -9` of the
// whole process tree (router and host processes) while writes are in flight, a restart on the
// same state, and a read-back through the worker. Shared by the e2e test (one short cycle) and
// the soak in bench/ (many cycles).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { type CliProcess, startCli } from './run-cli.js';

/**
 * The worker: `/init`, `/write?k=KEY` (KV, then D1, then R2, then the storage of the writer's
 * Durable Object; 200 once all four answered), `/dump?writers=a,b` (what each holds).
 */
export const CRASH_WORKER = `import json
from workers import DurableObject, Response, WorkerEntrypoint


def value_of(key):
    return f"value of {key}"


def body_of(key):
    return (key + "|") .encode() * 40


class Log(DurableObject):
    """One object per writer connection: each write also goes to its storage."""

    async def write(self, key):
        await self.ctx.storage.put(key, value_of(key))
        return "ok"

    async def written(self):
        stored = await self.ctx.storage.list()
        return {
            "good": [k for k, v in stored.items() if v == value_of(k)],
            "bad": [k for k, v in stored.items() if v != value_of(k)],
        }


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path, _, query = request.url.split("/", 3)[3].partition("?")
        env = self.env
        if path == "init":
            await env.DB.exec("CREATE TABLE IF NOT EXISTS writes (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
            return Response("ok")
        if path == "write":
            key = query.removeprefix("k=")
            await env.KV.put(key, value_of(key))
            await env.DB.prepare("INSERT INTO writes VALUES (?, ?)").bind(key, value_of(key)).run()
            await env.BUCKET.put(key, body_of(key))
            writer = key.rsplit("-", 1)[0]
            await env.LOG.get_by_name(writer).write(key)
            return Response("ok")
        if path == "dump":
            # Every key whose stored content is what /write stored, per binding; anything else is bad.
            out = {"kv": [], "d1": [], "r2": [], "do": [], "bad": []}
            cursor = None
            while True:
                page = await (env.KV.list(cursor=cursor) if cursor else env.KV.list())
                for entry in page["keys"]:
                    name = entry["name"]
                    ok = await env.KV.get(name) == value_of(name)
                    out["kv" if ok else "bad"].append(name)
                if page["list_complete"]:
                    break
                cursor = page["cursor"]
            rows = await env.DB.prepare("SELECT k, v FROM writes").all()
            for row in rows.results:
                out["d1" if row["v"] == value_of(row["k"]) else "bad"].append(row["k"])
            cursor = None
            while True:
                listed = await (env.BUCKET.list(cursor=cursor) if cursor else env.BUCKET.list())
                for obj in listed["objects"]:
                    got = await env.BUCKET.get(obj.key)
                    ok = got is not None and await got.bytes() == body_of(obj.key)
                    out["r2" if ok else "bad"].append(obj.key)
                if not listed["truncated"]:
                    break
                cursor = listed["cursor"]
            for writer in query.removeprefix("writers=").split(","):
                if writer:
                    written = await env.LOG.get_by_name(writer).written()
                    out["do"] += written["good"]
                    out["bad"] += written["bad"]
            return Response(json.dumps(out), headers={"content-type": "application/json"})
        return Response("not found", status=404)
`;

/** Writes the project (wrangler.jsonc + src/entry.py) into `dir`. */
export function writeCrashProject(dir: string): void {
  writeFileSync(
    join(dir, 'wrangler.jsonc'),
    `{
  "name": "crash",
  "main": "src/entry.py",
  "compatibility_flags": ["python_workers"],
  "kv_namespaces": [{ "binding": "KV", "id": "crash-kv" }],
  "d1_databases": [{ "binding": "DB", "database_name": "crash", "database_id": "crash-db" }],
  "r2_buckets": [{ "binding": "BUCKET", "bucket_name": "crash" }],
  "durable_objects": { "bindings": [{ "name": "LOG", "class_name": "Log" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Log"] }]
}
`,
  );
  writeFileSync(join(dir, 'src', 'entry.py'), CRASH_WORKER);
}

/** `pyworkers serve --state DIR` on the project, ready to take requests. */
export async function serveCrash(
  projectDir: string,
  stateDir: string,
  extra: string[] = [],
): Promise<{ proc: CliProcess; url: string }> {
  const proc = startCli(
    ['serve', '--port', '0', '--json', '--state', stateDir, ...extra, projectDir],
    { cwd: projectDir },
  );
  const { url } = await proc.ready;
  return { proc, url };
}

/** The pids of `pid` and all its descendants, read from /proc (Linux). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** One HTTP request on `agent`; resolves with status and body, rejects when the connection fails. */
export function request(
  agent: http.Agent,
  url: string,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** What one writer connection did until the server died. */
export interface WriterResult {
  /** Keys whose 200 response was received in full. */
  acked: string[];
  /** Requests that got another status before the kill (should be none). */
  failed: { key: string; status: number; body: string }[];
}

/**
 * Four (by default) client connections, each sending writes one after another over its own
 * keep-alive connection, until `stop()` resolves or the connection fails (the kill). `onAck` sees
 * the total count of acknowledged writes.
 */
export function startWriters(
  url: string,
  opts: { writers?: number; prefix: string; onAck?: (total: number) => void },
): { done: Promise<WriterResult[]>; stop: () => void } {
  let stopped = false;
  let total = 0;
  const one = async (w: number): Promise<WriterResult> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const result: WriterResult = { acked: [], failed: [] };
    try {
      for (let i = 0; !stopped; i++) {
        const key = `${opts.prefix}-w${w}-${i}`;
        let res: { status: number; body: string };
        try {
          res = await request(agent, `${url}/write?k=${key}`, 'POST');
        } catch {
          break; // the server is gone: this write's answer never came, so it is not acknowledged
        }
        if (res.status === 200 && res.body === 'ok') {
          result.acked.push(key);
          opts.onAck?.(++total);
        } else {
          result.failed.push({ key, status: res.status, body: res.body });
        }
      }
    } finally {
      agent.destroy();
    }
    return result;
  };
  const done = Promise.all(Array.from({ length: opts.writers ?? 4 }, (_, w) => one(w)));
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}

/** Kills `pid` and every descendant with SIGKILL at once, then waits until none runs. */
export async function killTree(pid: number, timeoutMs = 10_000): Promise<number[]> {
  const pids = processTree(pid);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) {
      throw new Error(`still running after SIGKILL: ${pids.filter(alive).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return pids;
}

/** What `/dump` read back after the restart. */
export interface Dump {
  kv: string[];
  d1: string[];
  r2: string[];
  do: string[];
  bad: string[];
}

/** The Durable Objects `/dump` reads: one per writer connection of each prefix. */
export function dumpUrl(url: string, prefixes: string[], writers = 4): string {
  const names = prefixes.flatMap((p) => Array.from({ length: writers }, (_, w) => `${p}-w${w}`));
  return `${url}/dump?writers=${names.join(',')}`;
}

/** Every acknowledged key missing from a binding, by binding. */
export function lostWrites(acked: Iterable<string>, dump: Dump): Record<string, string[]> {
  const sets = {
    kv: new Set(dump.kv),
    d1: new Set(dump.d1),
    r2: new Set(dump.r2),
    do: new Set(dump.do),
  };
  const lost: Record<string, string[]> = { kv: [], d1: [], r2: [], do: [] };
  for (const key of acked) {
    for (const kind of ['kv', 'd1', 'r2', 'do'] as const) {
      if (!sets[kind].has(key)) lost[kind]!.push(key);
    }
  }
  return lost;
}
