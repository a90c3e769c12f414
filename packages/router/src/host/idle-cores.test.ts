import { describe, expect, it } from 'vitest';
import { IdleCoreGate } from './idle-cores.js';

/** A gate over a fake clock and a fake idle counter (ms of idle time summed over cores). */
function gate() {
  const t = { now: 0, idle: 0 };
  return {
    t,
    g: new IdleCoreGate(
      500,
      0.75,
      () => t.now,
      () => t.idle,
    ),
  };
}

describe('IdleCoreGate', () => {
  it('lets a worker spread once it stayed hot for a window with a core idle', () => {
    const { t, g } = gate();
    expect(g.maySpread('w')).toBe(false); // starts watching
    t.now = 250;
    t.idle = 250;
    expect(g.maySpread('w')).toBe(false); // within the window
    t.now = 500;
    t.idle = 500; // one core idle the whole time
    expect(g.maySpread('w')).toBe(true);
  });

  it('does not spread a worker while the cores were busy', () => {
    const { t, g } = gate();
    g.maySpread('w');
    t.now = 400;
    g.maySpread('w');
    t.now = 600;
    t.idle = 120; // 0.2 cores idle on average
    expect(g.maySpread('w')).toBe(false);
    // The next decision takes a window of its own.
    t.now = 700;
    t.idle = 220;
    expect(g.maySpread('w')).toBe(false);
  });

  it('starts over when the worker was not hot for two windows', () => {
    const { t, g } = gate();
    g.maySpread('w');
    t.now = 2_000;
    t.idle = 2_000;
    expect(g.maySpread('w')).toBe(false); // a new watch, not the stale one
    t.now = 2_500;
    t.idle = 2_500;
    expect(g.maySpread('w')).toBe(true);
  });

  it('watches each worker on its own', () => {
    const { t, g } = gate();
    g.maySpread('a');
    t.now = 500;
    t.idle = 500;
    expect(g.maySpread('b')).toBe(false);
    expect(g.maySpread('a')).toBe(true);
  });
});
