import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Serving, serveProjects } from 'pyworkers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let serving: Serving;

beforeAll(async () => {
  // Build into a copy so the test never reuses (or leaves) the app's own .pyworkers cache.
  const dir = mkdtempSync(join(tmpdir(), 'pyw-edge-'));
  cpSync(fileURLToPath(new URL('../workers/hello', import.meta.url)), join(dir, 'hello'), {
    recursive: true,
    filter: (src) => !src.includes('.pyworkers'),
  });
  serving = await serveProjects([join(dir, 'hello')], { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await serving?.router.close();
});

describe('the reference edge app', () => {
  it('serves the hello worker at / with text produced by Python', async () => {
    const res = await fetch(`${serving.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(await res.text()).toMatch(
      /^Hello from pyworkers! Python 3\.\d+\.\d+ on Emscripten \(emscripten\)\n$/,
    );
  });
});
