// Differential test: our resolver and pip's (resolvelib) over the same real local index must pick
// the same versions for every satisfiable case, and both must fail the unsatisfiable ones.
//
// Fairness: pip evaluates markers for its own interpreter (CPython 3.11 on Linux here) even with
// --python-version, while we evaluate them for Pyodide. Only catalogue cases marked
// `pipComparable` take part: their markers come out the same in both environments and they
// need no platform (emscripten/native) wheels. Excluded: cases with sys_platform/
// platform_python_implementation/python_version markers whose value differs between the host
// and Pyodide, Pyodide-only native wheels, and sdist-only/native-only projects (pip's
// --only-binary and our wheel policy agree there in spirit but word the failure differently).
// Also excluded by construction: "only pre-releases satisfy the specifier" when final releases
// exist, where pip takes the pre-release and uv (and we) do not.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeName, parseRequirement } from '../src/requirement.js';
import { pyodidePlatform } from '../src/resolve/platform.js';
import { resolve } from '../src/resolve/resolver.js';
import { pyodideLockInfo, resolverSourcesFor } from './differential-sources.js';
import {
  CATALOGUE,
  CATALOGUE_CASES,
  type IndexServer,
  startIndexServer,
} from './fixtures/index.js';

const run = promisify(execFile);
const hasPip = spawnSync('python3', ['-m', 'pip', '--version']).status === 0;
const cases = CATALOGUE_CASES.filter((c) => c.pipComparable);

type Outcome = { ok: true; pins: Record<string, string> } | { ok: false; message: string };

async function pipResolve(indexUrl: string, requirements: string[], dir: string): Promise<Outcome> {
  const report = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  try {
    await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--dry-run',
        '--ignore-installed',
        '--disable-pip-version-check',
        '--no-cache-dir',
        '-q',
        '--target',
        join(dir, 'target'),
        '--python-version',
        '3.14',
        '--platform',
        'any',
        '--only-binary=:all:',
        '--report',
        report,
        '--index-url',
        indexUrl,
        ...requirements,
      ],
      { timeout: 120_000 },
    );
  } catch (e) {
    return { ok: false, message: String((e as { stderr?: string }).stderr ?? e) };
  }
  const r = JSON.parse(await readFile(report, 'utf8')) as {
    install: { metadata: { name: string; version: string } }[];
  };
  return {
    ok: true,
    pins: Object.fromEntries(
      r.install.map((i) => [normalizeName(i.metadata.name), i.metadata.version]),
    ),
  };
}

describe.skipIf(!hasPip)('differential against pip', () => {
  const formats = [['json'], ['html']] as const;
  const servers: IndexServer[] = [];
  let dir: string;
  const pip = new Map<string, Outcome>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pip-diff-'));
    for (const f of formats)
      servers.push(await startIndexServer({ projects: CATALOGUE, formats: [...f] }));
    // pip is slow to start; run the cases a few at a time against the HTML+JSON server.
    const queue = [...cases];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          pip.set(c.name, await pipResolve(servers[0]!.url, c.requirements, dir));
        }
      }),
    );
  }, 240_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  for (const [fi, format] of formats.entries()) {
    for (const c of cases) {
      it(`${c.name} (${format[0]} index): same versions as pip`, async () => {
        const expected = pip.get(c.name)!;
        const platform = pyodidePlatform(pyodideLockInfo());
        const ours: Outcome = await resolve({
          requirements: c.requirements.map(parseRequirement),
          sources: {
            sources: resolverSourcesFor(servers[fi]!.url, join(dir, `cache-${format[0]}`)),
            strategy: 'unsafe-best-match',
          },
          platform,
        }).then(
          (r) => ({
            ok: true,
            pins: Object.fromEntries(r.packages.map((p) => [p.name, p.version])),
          }),
          (e: Error) => ({ ok: false, message: e.message }),
        );
        if (!expected.ok) {
          expect(ours.ok, `pip failed (${expected.message.slice(0, 300)}) but we resolved`).toBe(
            false,
          );
          for (const word of c.unsatisfiable ?? [])
            expect((ours as { message: string }).message).toContain(word);
        } else {
          expect(ours).toEqual(expected);
        }
      });
    }
  }
});
