import { describe, expect, it } from 'vitest';
import { workerFirstMatcher } from './static-assets.js';

describe('run_worker_first', () => {
  it('is all or nothing as a boolean', () => {
    expect(workerFirstMatcher(true)('/x')).toBe(true);
    expect(workerFirstMatcher(false)('/x')).toBe(false);
  });

  it('matches route globs, with ! excluding paths', () => {
    const first = workerFirstMatcher(['/api/*', '!/api/docs/*', '/login']);
    expect(first('/api/users')).toBe(true);
    expect(first('/api/docs/index.html')).toBe(false);
    expect(first('/login')).toBe(true);
    expect(first('/login/x')).toBe(false);
    expect(first('/style.css')).toBe(false);
    // Dots and other regex characters are literal.
    expect(workerFirstMatcher(['/a.b'])('/aXb')).toBe(false);
  });
});
