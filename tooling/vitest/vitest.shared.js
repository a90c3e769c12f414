// Plain JS (not TS): vitest loads configs of linked workspace packages without transpiling them.
import { defineConfig } from 'vitest/config';

/**
 * Shared vitest config: tests import sibling packages from `src/` through the `source`
 * export condition, so nobody has to build before testing.
 * @param {{ testTimeout?: number }} [options]
 */
export function vitestConfig(options = {}) {
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      // Generous: CI runs every package's suite at once on 2 cores; a test is about behaviour, not speed.
      testTimeout: options.testTimeout ?? 60_000,
      hookTimeout: options.testTimeout ?? 60_000,
    },
  });
}
