// `pyworkers d1|kv|r2 ...` on local state, through the real binary, on real SQLite files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pyworkers-state-cli-'));
  mkdirSync(join(dir, 'migrations'));
  writeFileSync(
    join(dir, 'init.sql'),
    `CREATE TABLE IF NOT EXISTS quotes (id INTEGER PRIMARY KEY AUTOINCREMENT, quote TEXT, author TEXT);
INSERT INTO quotes (quote, author) SELECT * FROM (VALUES ("Ship it", "Ana"), ("It's fine", "Bo")) WHERE NOT EXISTS (SELECT 1 FROM quotes);`,
  );
  writeFileSync(
    join(dir, 'migrations', '0001_tags.sql'),
    'CREATE TABLE tags (name TEXT PRIMARY KEY);',
  );
  writeFileSync(join(dir, 'migrations', '0002_seed.sql'), "INSERT INTO tags VALUES ('a'), ('b');");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir });
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as unknown;
};

describe('pyworkers d1', () => {
  it('executes a file (double-quoted strings as on D1) and a command, into <dir>/.pyworkers/state', async () => {
    expect((await cli('d1', 'execute', 'quotes', '--local', '--file', 'init.sql')).code).toBe(0);
    const out = (await json(
      'd1',
      'execute',
      'quotes',
      '--command',
      'SELECT author FROM quotes ORDER BY id',
    )) as { results: unknown[] }[];
    expect(out[0]?.results).toEqual([{ author: 'Ana' }, { author: 'Bo' }]);
    const human = await cli(
      'd1',
      'execute',
      'quotes',
      '--command',
      'SELECT count(*) AS n FROM quotes',
    );
    expect(human.stdout).toMatch(/n\s*\n-+\n2/);
    expect(
      readFileSync(join(dir, '.pyworkers', 'state', 'v1', 'd1', 'quotes.sqlite'))
        .subarray(0, 15)
        .toString(),
    ).toBe('SQLite format 3');
    const bad = await cli('d1', 'execute', 'quotes', '--command', 'SELECT * FROM nowhere');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: D1 binding 'quotes': D1_ERROR: no such table: nowhere/);
  });

  it('lists and applies migrations', async () => {
    const before = (await json('d1', 'migrations', 'list', 'app')) as {
      migrations: { name: string; applied: boolean }[];
    };
    expect(before.migrations.map((m) => [m.name, m.applied])).toEqual([
      ['0001_tags.sql', false],
      ['0002_seed.sql', false],
    ]);
    expect(await json('d1', 'migrations', 'apply', 'app')).toMatchObject({
      applied: ['0001_tags.sql', '0002_seed.sql'],
    });
    expect(await json('d1', 'migrations', 'apply', 'app')).toMatchObject({ applied: [] });
    const rows = (await json('d1', 'execute', 'app', '--command', 'SELECT name FROM tags')) as {
      results: unknown[];
    }[];
    expect(rows[0]?.results).toEqual([{ name: 'a' }, { name: 'b' }]);
  });
});

describe('pyworkers kv and r2', () => {
  it('puts, gets, lists and deletes KV keys', async () => {
    expect(
      (
        await cli(
          'kv',
          'key',
          'put',
          'greeting',
          'hello',
          '--namespace-id',
          'ns1',
          '--metadata',
          '{"by":"cli"}',
        )
      ).code,
    ).toBe(0);
    const got = await cli('kv', 'key', 'get', 'greeting', '--namespace-id', 'ns1');
    expect(got.stdout).toBe('hello');
    expect(await json('kv', 'key', 'get', 'greeting', '--namespace-id', 'ns1')).toEqual({
      key: 'greeting',
      value: 'hello',
      metadata: { by: 'cli' },
    });
    expect(await json('kv', 'key', 'list', '--namespace-id', 'ns1')).toEqual([
      { name: 'greeting', metadata: { by: 'cli' } },
    ]);
    expect((await cli('kv', 'key', 'delete', 'greeting', '--namespace-id', 'ns1')).code).toBe(0);
    const gone = await cli('kv', 'key', 'get', 'greeting', '--namespace-id', 'ns1');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/key "greeting" is not in ns1/);
    const ttl = await cli('kv', 'key', 'put', 'k', 'v', '--namespace-id', 'ns1', '--ttl', '5');
    expect(ttl.stderr).toMatch(/Expiration TTL must be at least 60/);
  });

  it('puts, gets and deletes R2 objects', async () => {
    writeFileSync(join(dir, 'cat.txt'), 'meow');
    const put = (await json(
      'r2',
      'object',
      'put',
      'media/pets/cat.txt',
      '--file',
      'cat.txt',
      '--content-type',
      'text/plain',
    )) as Record<string, unknown>;
    expect(put).toMatchObject({
      key: 'pets/cat.txt',
      size: 4,
      httpMetadata: { contentType: 'text/plain' },
    });
    expect((await cli('r2', 'object', 'get', 'media/pets/cat.txt')).stdout).toBe('meow');
    expect((await cli('r2', 'object', 'get', 'media/pets/cat.txt', '--file', 'out.txt')).code).toBe(
      0,
    );
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('meow');
    expect((await cli('r2', 'object', 'delete', 'media/pets/cat.txt')).code).toBe(0);
    expect((await cli('r2', 'object', 'get', 'media/pets/cat.txt')).code).toBe(1);
    expect((await cli('r2', 'object', 'get', 'nobucketkey')).stderr).toMatch(/takes BUCKET\/KEY/);
  });
});
