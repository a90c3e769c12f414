// Benchmark: installWheels (RECORD-checked vendoring into a fresh python_modules/) against pip's
// own installer (`pip install --no-deps --no-index --target`) on the same 32 local wheels,
// interleaved in one run. pip does not check RECORD hashes; we do.
// Run: npx tsx bench/vendor-vs-pip.ts   (ITERATIONS=n to change the sample count)
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installWheels } from '../src/vendor.js';
import { CATALOGUE } from '../test/fixtures/catalogue.js';
import { buildWheel } from '../test/fixtures/wheel.js';

const run = promisify(execFile);
const ITERATIONS = Number(process.env.ITERATIONS ?? 7);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  if (spawnSync('python3', ['-m', 'pip', '--version']).status !== 0) {
    console.log('pip is not available: nothing to compare against');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'vendor-bench-'));
  try {
    // The newest pure-Python release of each catalogue project, 32 of them.
    const wheels = CATALOGUE.flatMap((p) => {
      const r = [...p.releases]
        .reverse()
        .find(
          (x) =>
            !x.yanked &&
            (x.tags ?? ['py3-none-any']).some((t) => t.endsWith('-none-any')) &&
            !/[a-z]/.test(x.version.replace(/post/, '')),
        );
      if (!r) return [];
      const tag = (r.tags ?? ['py3-none-any']).find((t) => t.endsWith('-none-any'))!;
      const w = buildWheel({ name: p.name, version: r.version, tag, dir: join(root, 'wheels') });
      return [
        { name: p.name, version: r.version, filename: w.filename, path: w.path!, sha256: w.sha256 },
      ];
    }).slice(0, 32);
    const ours: number[] = [];
    const pip: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const a = join(root, `ours-${i}`, 'python_modules');
      let t0 = performance.now();
      await installWheels({ target: a, wheels });
      ours.push(performance.now() - t0);
      const b = join(root, `pip-${i}`);
      t0 = performance.now();
      await run('python3', [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--no-deps',
        '--no-index',
        '--no-compile',
        '-q',
        '--disable-pip-version-check',
        '--target',
        b,
        ...wheels.map((w) => w.path),
      ]);
      pip.push(performance.now() - t0);
    }
    const row = (what: string, xs: number[]) =>
      `| ${what} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`;
    console.log(
      `\n@pyworkers/resolver: vendor ${wheels.length} wheels into a fresh dir, ${ITERATIONS} runs each, interleaved\n`,
    );
    console.log('| what | median | min | max |\n|---|---|---|---|');
    console.log(row('installWheels (RECORD-checked)', ours));
    console.log(row('pip install --no-deps --no-index --target', pip));
    console.log(
      `\nspeed-up (pip median / ours median): ${(median(pip) / median(ours)).toFixed(1)}x`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
