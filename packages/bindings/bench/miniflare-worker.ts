// The JS worker Miniflare runs for the side-by-side rows: it times each binding operation inside
// workerd (performance.now() advances on I/O, and every operation here is I/O) and returns
// the per-operation times (at most 500 per request: workerd caps a request at 1000 subrequests), so both sides measure the same thing: one call from worker code.

/** Source of the module worker. */
export const MINIFLARE_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n') ?? '1000');
    const keys = Number(url.searchParams.get('keys') ?? '1000');
    if (op === 'setup-kv') {
      const from = Number(url.searchParams.get('from') ?? '0');
      for (let i = from; i < Math.min(keys, from + 500); i++) await env.KV.put('key-' + i, 'value-' + i + '-' + 'x'.repeat(100));
      return Response.json({ ok: true });
    }
    if (op === 'setup-d1') {
      await env.DB.exec('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)');
      const stmts = [];
      for (let i = 0; i < keys; i++) stmts.push(env.DB.prepare('INSERT OR REPLACE INTO users VALUES (?, ?, ?)').bind(i, 'user ' + i, 'u' + i + '@example.com'));
      await env.DB.batch(stmts);
      return Response.json({ ok: true });
    }
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      const k = (i * 7919) % keys;
      if (op === 'kv-get') await env.KV.get('key-' + k);
      else if (op === 'kv-put') await env.KV.put('put-' + (i % 100), 'value-' + i);
      else if (op === 'd1-select') await env.DB.prepare('SELECT * FROM users WHERE id = ?').bind(k).first();
      else if (op === 'd1-insert') await env.DB.prepare('INSERT OR REPLACE INTO users VALUES (?, ?, ?)').bind(10000 + (i % 100), 'n', 'e').run();
      else return new Response('unknown op', { status: 400 });
    }
    return Response.json({ n, ms: Date.now() - started });
  },
};
`;
