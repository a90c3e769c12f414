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
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeName, parseRequirement } from '../src/requirement.js';
import { pyodidePlatform } from '../src/resolve/platform.js';
import { resolve } from '../src/resolve/resolver.js';
import { pyodideLockInfo, resolverSourcesFor } from './differential-sources.js';
import {
  CATALOGUE,
  CATALOGUE_CASES,
  type CatalogueCase,
  type FixtureProject,
  type IndexServer,
  startIndexServer,
} from './fixtures/index.js';
import { referencePython } from './reference-python.js';

const hasPip = referencePython('import pip');

// Extra projects that make a resolver backtrack, follow extras into a dead end, or read PEP 440
// corners (post-releases, ~=, ==X.*). Markers-free and pure-Python, so fair to compare.
const BACKTRACK: FixtureProject[] = [
  {
    name: 'bt-app',
    releases: [
      { version: '3.0', requiresDist: ['bt-lib<2'] },
      { version: '2.0', requiresDist: ['bt-lib>=2,<3'] },
    ],
  },
  { name: 'bt-lib', releases: ['1.0', '2.0', '2.5', '3.0'].map((version) => ({ version })) },
  {
    name: 'bt-x',
    releases: [
      { version: '2.0', requiresDist: ['bt-z==1.0'] },
      { version: '1.0', requiresDist: ['bt-z==2.0'] },
    ],
  },
  { name: 'bt-y', releases: [{ version: '1.0', requiresDist: ['bt-z>=2'] }] },
  { name: 'bt-z', releases: [{ version: '1.0' }, { version: '2.0' }] },
  {
    name: 'bt-p',
    releases: [
      { version: '2.0', extras: ['fast'], requiresDist: ["bt-q>=3; extra == 'fast'"] },
      { version: '1.0', extras: ['fast'], requiresDist: ["bt-q<3; extra == 'fast'"] },
    ],
  },
  { name: 'bt-q', releases: [{ version: '1.0' }, { version: '2.0' }] },
  { name: 'bt-r', releases: [{ version: '1.0', requiresDist: ['bt-s>=1.0b1'] }] },
  { name: 'bt-s', releases: [{ version: '0.9' }, { version: '1.0b2' }] },
  { name: 'bt-v', releases: ['1.0', '1.0.post1', '1.1.dev0'].map((version) => ({ version })) },
  { name: 'bt-w', releases: ['1.4.0', '1.4.9', '1.5.0', '2.0.0'].map((version) => ({ version })) },
];
const BACKTRACK_CASES: CatalogueCase[] = [
  { name: 'backtrack: newest app needs an old lib', requirements: ['bt-app', 'bt-lib>=2'] },
  { name: 'backtrack: exact pins in a chain', requirements: ['bt-x', 'bt-y'] },
  { name: 'backtrack: an extra leads into a dead end', requirements: ['bt-p[fast]'] },
  { name: 'transitive explicit pre-release', requirements: ['bt-r'] },
  { name: 'post-release counts for >=', requirements: ['bt-v>=1.0'] },
  { name: 'compatible release ~=', requirements: ['bt-w~=1.4.0'] },
  { name: 'wildcard ==1.*', requirements: ['bt-w==1.*'] },
  { name: 'backtrack: no solution', requirements: ['bt-app', 'bt-lib>=3'] },
].map((c) => ({ ...c, pipComparable: true }));
const cases = [...CATALOGUE_CASES.filter((c) => c.pipComparable), ...BACKTRACK_CASES];

type Outcome = { ok: true; pins: Record<string, string> } | { ok: false; message: string };

const PIP_BATCH = fileURLToPath(new URL('./pip-batch.py', import.meta.url));

function pipArgs(indexUrl: string, requirements: string[], dir: string, report: string): string[] {
  return [
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
  ];
}

/** Resolves every case with pip, in a few interpreters that each run a share of the cases. */
async function pipResolveAll(
  indexUrl: string,
  all: CatalogueCase[],
  dir: string,
  processes = 3,
): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  const shares = Array.from({ length: processes }, (_, i) =>
    all.filter((_, j) => j % processes === i),
  );
  await Promise.all(
    shares.map(async (share, s) => {
      const reports = share.map((_, i) => join(dir, `report-${s}-${i}.json`));
      const child = execFile('python3', [PIP_BATCH], { timeout: 180_000, maxBuffer: 1 << 24 });
      child.stdin!.end(
        JSON.stringify(share.map((c, i) => pipArgs(indexUrl, c.requirements, dir, reports[i]!))),
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((done) => child.on('close', done));
      if (code !== 0) throw new Error(`pip batch failed (${code}): ${stderr.slice(-2000)}`);
      const codes = JSON.parse(stdout.trim().split('\n').at(-1)!) as number[];
      for (const [i, c] of share.entries()) {
        if (codes[i] !== 0) {
          out.set(c.name, { ok: false, message: `pip exited ${codes[i]}` });
          continue;
        }
        const r = JSON.parse(await readFile(reports[i]!, 'utf8')) as {
          install: { metadata: { name: string; version: string } }[];
        };
        out.set(c.name, {
          ok: true,
          pins: Object.fromEntries(
            r.install.map((x) => [normalizeName(x.metadata.name), x.metadata.version]),
          ),
        });
      }
    }),
  );
  return out;
}

describe.skipIf(!hasPip)('differential against pip', () => {
  const formats = [['json'], ['html']] as const;
  const servers: IndexServer[] = [];
  let dir: string;
  let pip = new Map<string, Outcome>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pip-diff-'));
    for (const f of formats)
      servers.push(
        await startIndexServer({ projects: [...CATALOGUE, ...BACKTRACK], formats: [...f] }),
      );
    // pip is slow to start: a few interpreters each resolve a share of the cases.
    pip = await pipResolveAll(servers[0]!.url, cases, dir);
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
