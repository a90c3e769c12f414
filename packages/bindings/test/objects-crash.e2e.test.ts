// Durable Object storage survives kill -9: every write whose promise resolved (the moment an
// object could answer its request) reads back after a restart, key-value and SQL alike, and a
// transaction is all there or not there at all.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openStore } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'pyw-do-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('loses no acknowledged Durable Object write to kill -9', async () => {
  const writer = fileURLToPath(new URL('./fixtures/do-writer.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', writer, root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last = -1;
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', () => resolve());
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line) last = Number(line);
      if (last >= 300 && !proc.killed) proc.kill('SIGKILL');
    });
  });
  expect(proc.signalCode).toBe('SIGKILL');

  const store = openStore({ stateDir: root });
  const ns = store.durableObjects('app', 'Writer');
  const s = ns.storage(ns.idFromName('crash'));
  const rows = (await s.sql.exec('SELECT i FROM log ORDER BY i')).rows.map((r) => r[0] as number);
  const logged = new Set(rows);
  const lost: number[] = [];
  for (let i = 0; i <= last; i++) {
    if (i % 3 === 0 && (await s.get(`k${i}`)) === undefined) lost.push(i);
    if (i % 3 === 1 && !logged.has(i)) lost.push(i);
    if (i % 3 === 2 && (!logged.has(i) || (await s.get(`k${i}`)) === undefined)) lost.push(i);
  }
  expect(lost).toEqual([]);
  expect(await s.get('k0')).toEqual({ i: 0, at: new Date(0) });
  // Past the last acknowledged write, a transaction is whole or absent, never half.
  const keys = new Set([...(await s.list({ prefix: 'k' })).keys()]);
  for (const i of rows) if (i % 3 === 2) expect(keys.has(`k${i}`)).toBe(true);
  for (const k of keys) {
    const i = Number(k.slice(1));
    if (i % 3 === 2) expect(logged.has(i)).toBe(true);
  }
  await store.close();
}, 120_000);
