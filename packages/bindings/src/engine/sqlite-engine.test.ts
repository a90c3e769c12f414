import { spawn } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../internal/testing/temp.js';
import { openStore } from '../store.js';
import { splitStatements } from './sql-text.js';
import { createSqliteEngine } from './sqlite-engine.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('SQLite engine files', () => {
  it('keeps state under <stateDir>/v1/<kind>/ in WAL mode, and user names cannot escape it', async () => {
    const engine = createSqliteEngine({ root: tmp.dir });
    const db = await engine.database(['kv', '../../etc/passwd']);
    await db.exec('CREATE TABLE t (a)');
    const files = readdirSync(join(tmp.dir, 'kv'));
    expect(files.some((f) => f.startsWith('h-') && f.endsWith('.sqlite'))).toBe(true);
    expect(files.some((f) => f.endsWith('.sqlite-wal'))).toBe(true);
    expect(db.location.startsWith(join(tmp.dir, 'kv'))).toBe(true);
    await engine.close();
  });

  it('a truncated state file is a clear error naming the file, never an empty store', async () => {
    const store = openStore({ stateDir: tmp.dir });
    const kv = store.bindings([{ type: 'kv', name: 'KV', id: 'ns' }]);
    for (let i = 0; i < 200; i++) await kv.call('KV', 'put', [`k${i}`, 'x'.repeat(500)]);
    await store.close(); // checkpoints the WAL into the main file
    const file = join(tmp.dir, 'v1', 'kv', 'ns.sqlite');
    expect(statSync(file).size).toBeGreaterThan(8192);
    truncateSync(file, 5000);
    const again = openStore({ stateDir: tmp.dir }).bindings([{ type: 'kv', name: 'KV', id: 'ns' }]);
    const err = await again.call('KV', 'get', ['k1']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_STATE_CORRUPT' });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/truncated/);
  });

  it('a state file overwritten with garbage is a clear error naming the file', async () => {
    const dir = join(tmp.dir, 'v1', 'kv');
    const store = openStore({ stateDir: tmp.dir });
    await store.bindings([{ type: 'kv', name: 'KV', id: 'ns' }]).call('KV', 'put', ['a', 'b']);
    await store.close();
    writeFileSync(join(dir, 'ns.sqlite'), 'this is not a database, it is a text file '.repeat(10));
    const again = openStore({ stateDir: tmp.dir }).bindings([{ type: 'kv', name: 'KV', id: 'ns' }]);
    await expect(again.call('KV', 'get', ['a'])).rejects.toMatchObject({
      code: 'ERR_STATE_CORRUPT',
      message: expect.stringContaining(join(dir, 'ns.sqlite')),
    });
  });

  it('splits scripts into statements, keeping triggers and quoted semicolons whole', () => {
    const sql = `CREATE TABLE t (a); -- a comment; still comment
      INSERT INTO t VALUES ('x;y'); /* ; */
      CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 'a' END; SELECT 1; END;
      SELECT "a;b" FROM t`;
    expect(splitStatements(sql)).toHaveLength(4);
    expect(splitStatements(sql)[2]).toMatch(/CREATE TRIGGER.*SELECT 1; END;$/s);
    expect(splitStatements(' ; ;\n')).toEqual([]);
  });
});

describe('durability', () => {
  it('every put answered before kill -9 of the process is there after a restart', async () => {
    const child = fileURLToPath(new URL('../../test/fixtures/kv-writer.ts', import.meta.url));
    const proc = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', child, tmp.dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let acked = -1;
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      proc.on('error', reject);
      proc.on('exit', () => resolve());
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (/^\d+$/.test(line)) acked = Number(line);
        // Kill mid-stream, without warning, once a good number of writes were answered.
        if (acked >= 300 && proc.exitCode === null && !proc.killed) proc.kill('SIGKILL');
      });
    });
    expect(proc.signalCode).toBe('SIGKILL');
    expect(acked).toBeGreaterThanOrEqual(300);
    expect(existsSync(join(tmp.dir, 'v1', 'kv', 'ns.sqlite-wal'))).toBe(true);
    const store = openStore({ stateDir: tmp.dir });
    const kv = store.bindings([{ type: 'kv', name: 'KV', id: 'ns' }]);
    const missing: number[] = [];
    for (let i = 0; i <= acked; i++)
      if ((await kv.call('KV', 'get', [`key-${i}`])) !== `value-${i}`) missing.push(i);
    expect(missing).toEqual([]);
    await store.close();
    expect(
      readFileSync(join(tmp.dir, 'v1', 'kv', 'ns.sqlite'))
        .subarray(0, 15)
        .toString(),
    ).toBe('SQLite format 3');
  });
});
