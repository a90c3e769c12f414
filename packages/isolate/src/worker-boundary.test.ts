// src/worker/ runs only inside an isolate's thread: its Pyodide internals throw at import on
// another Pyodide release, and they patch globals. Main-thread code must never import it (it
// loads the thread by URL instead), and only the pinned pyodide-*.ts files touch Pyodide's
// private module (pyodide.asm.mjs).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));
const workerDir = join(src, 'worker');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs;
}

describe('worker-thread boundary', () => {
  it('no main-thread source imports src/worker/', () => {
    const offenders = sources(src)
      .filter((f) => !f.startsWith(workerDir))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => s.startsWith('.'))
          .filter((s) => resolve(dirname(f), s).startsWith(workerDir))
          .map((s) => `${relative(src, f)} imports ${s}`),
      );
    expect(offenders).toEqual([]);
  });

  it("only the pinned pyodide-*.ts files reach Pyodide's private module", () => {
    const users = sources(src)
      .filter((f) => importsOf(f).some((s) => s.startsWith('pyodide/pyodide.asm')))
      .map((f) => relative(src, f));
    expect(users.length).toBeGreaterThan(0);
    for (const f of users) expect(f).toMatch(/^worker\/pyodide-[a-z-]+\.ts$/);
  });
});
