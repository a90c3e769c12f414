import { silentLogger } from '@pyworkers/isolate';
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { CronScheduler, type CronTrigger } from './cron.js';

const parse = (expr: string) => {
  const cron = new Cron(expr, { paused: true });
  return { next: (after: Date) => cron.nextRun(after) };
};

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('CronScheduler', () => {
  it('fires each trigger at its times, with the scheduled time of the slot', async () => {
    const fired: [string, number][] = [];
    const s = new CronScheduler({
      triggers: [{ worker: 'w', cron: '* * * * * *' }],
      parse,
      fire: async (t: CronTrigger, at: number) => {
        fired.push([t.cron, at]);
      },
      logger: silentLogger,
    });
    s.start();
    try {
      await until(() => fired.length >= 2);
    } finally {
      s.stop();
    }
    const [a, b] = fired;
    expect(a![1] % 1000).toBe(0);
    expect(b![1] - a![1]).toBe(1000);
  });

  it('does not overlap a trigger with itself: a slow run skips the slots it missed', async () => {
    let running = 0;
    let most = 0;
    const times: number[] = [];
    const s = new CronScheduler({
      triggers: [{ worker: 'w', cron: '* * * * * *' }],
      parse,
      fire: async (_t, at) => {
        running++;
        most = Math.max(most, running);
        times.push(at);
        await new Promise((r) => setTimeout(r, 2100));
        running--;
      },
      logger: silentLogger,
    });
    s.start();
    try {
      await until(() => times.length >= 2, 15_000);
    } finally {
      s.stop();
    }
    expect(most).toBe(1);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(3000);
  });

  it('refuses a bad expression when created, not when it would fire', () => {
    expect(
      () =>
        new CronScheduler({
          triggers: [{ worker: 'w', cron: 'every minute' }],
          parse,
          fire: async () => {},
          logger: silentLogger,
        }),
    ).toThrow();
  });

  it('stops: nothing fires after stop()', async () => {
    let n = 0;
    const s = new CronScheduler({
      triggers: [{ worker: 'w', cron: '* * * * * *' }],
      parse,
      fire: async () => {
        n++;
      },
      logger: silentLogger,
    });
    s.start();
    s.stop();
    await new Promise((r) => setTimeout(r, 1200));
    expect(n).toBe(0);
  });
});
