// Benchmark: `syncProject` (resolve + lock + vendor into python_modules/, warm download cache)
// against `pip install --dry-run` (resolve only, warm pip cache) for the same ~30-package tree
// on the same local index (the test catalogue served on 127.0.0.1), interleaved in one run.
// Run: npm run bench -w @pyworkers/resolver   (ITERATIONS=n to change the sample count)
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { normalizeName } from '../src/requirement.js';
import { syncProject } from '../src/sync.js';
import { pyodideLockInfo } from '../test/differential-sources.js';
import { CATALOGUE, startIndexServer } from '../test/fixtures/index.js';

const run = promisify(execFile);
const ITERATIONS = Number(process.env.ITERATIONS ?? 7);
const TREE = [
  'flask[async,dotenv]',
  'httpx[http2,socks]',
  'requests[socks]',
  'python-dateutil',
  'attrs',
  'packaging',
  'fastapi==0.92.0',
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'resolver-bench-'));
  const server = await startIndexServer({ projects: CATALOGUE });
  try {
    const projectDir = join(root, 'project');
    await mkdir(projectDir);
    await writeFile(
      join(projectDir, 'pyproject.toml'),
      `[project]\nname = "bench"\nversion = "0.1.0"\ndependencies = ${JSON.stringify(TREE)}\n`,
    );
    // Pyodide's real `info` with an empty package set: every package comes from the index
    // (the real set would offer newer builds from the CDN, which this offline machine can't reach).
    const pyodideLockFile = join(root, 'pyodide-lock.json');
    await writeFile(pyodideLockFile, JSON.stringify({ info: pyodideLockInfo(), packages: {} }));
    const cacheDir = join(root, 'cache');
    const phases = { resolve: [] as number[], install: [] as number[] };
    const ours = async () => {
      await rm(join(projectDir, 'pylock.toml'), { force: true });
      await rm(join(projectDir, 'python_modules'), { recursive: true, force: true });
      const t0 = performance.now();
      let resolveMs = 0;
      let installMs = 0;
      const r = await syncProject({
        onProgress: (e) => {
          if (e.type === 'resolve-done') resolveMs = e.ms;
          if (e.type === 'install-done') installMs = e.ms;
        },
        projectDir,
        pyodideLockFile,
        pyodidePackageBaseUrl: `${server.origin}/pyodide/`,
        indexUrl: server.url,
        cacheDir,
        env: {},
      });
      const t = performance.now() - t0;
      if (!r.resolved || !r.installed) throw new Error('bench: sync did not resolve and install');
      phases.resolve.push(resolveMs);
      phases.install.push(installMs);
      return { t, pins: Object.fromEntries(r.packages.map((p) => [p.name, p.version])) };
    };
    const pipCache = join(root, 'pip-cache');
    const pip = async () => {
      const report = join(root, 'report.json');
      const t0 = performance.now();
      await run('python3', [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--dry-run',
        '--ignore-installed',
        '-q',
        '--disable-pip-version-check',
        '--target',
        join(root, 'pip-target'),
        '--python-version',
        '3.14',
        '--platform',
        'any',
        '--only-binary=:all:',
        '--report',
        report,
        '--cache-dir',
        pipCache,
        '--index-url',
        server.url,
        ...TREE,
      ]);
      const t = performance.now() - t0;
      const r = JSON.parse(await readFile(report, 'utf8')) as {
        install: { metadata: { name: string; version: string } }[];
      };
      return {
        t,
        pins: Object.fromEntries(
          r.install.map((i) => [normalizeName(i.metadata.name), i.metadata.version]),
        ),
      };
    };

    const hasPip = spawnSync('python3', ['-m', 'pip', '--version']).status === 0;
    // Warm both caches (and check both pick the same versions).
    const a = await ours();
    const n = Object.keys(a.pins).length;
    if (hasPip) {
      const b = await pip();
      const same =
        JSON.stringify(Object.entries(a.pins).sort()) ===
        JSON.stringify(Object.entries(b.pins).sort());
      if (!same)
        throw new Error(
          `bench: pip and pyworkers disagree:\n${JSON.stringify(a.pins)}\n${JSON.stringify(b.pins)}`,
        );
    }
    phases.resolve.length = 0;
    phases.install.length = 0;
    const tOurs: number[] = [];
    const tPip: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      tOurs.push((await ours()).t);
      if (hasPip) tPip.push((await pip()).t);
    }
    const rows = [
      ['pyworkers syncProject (resolve+lock+vendor)', tOurs],
      ['  of which resolve', phases.resolve],
      ['  of which vendor into python_modules/', phases.install],
      ...(hasPip ? [['pip install --dry-run (resolve only)', tPip] as const] : []),
    ] as const;
    process.stdout.write(
      `\n@pyworkers/resolver: ${n}-package tree, warm caches, ${ITERATIONS} runs each, interleaved\n\n`,
    );
    process.stdout.write('| what | median | min | max |\n|---|---|---|---|\n');
    for (const [name, xs] of rows) {
      process.stdout.write(
        `| ${name} | ${ms(median(xs))} | ${ms(Math.min(...xs))} | ${ms(Math.max(...xs))} |\n`,
      );
    }
    if (hasPip) {
      process.stdout.write(
        `\nspeed-up (pip median / pyworkers median): ${(median(tPip) / median(tOurs)).toFixed(1)}x\n`,
      );
    } else process.stdout.write('\n(pip not found: no comparison)\n');
  } finally {
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
