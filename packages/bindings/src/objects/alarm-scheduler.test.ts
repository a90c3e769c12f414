import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir } from '../internal/testing/temp.js';
import { openStore } from '../store.js';
import { AlarmScheduler } from './alarm-scheduler.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('pyw-do-alarm-');
});
afterEach(() => tmp.cleanup());

async function until(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('an alarm set before a restart fires after it, once, and is cleared', async () => {
  const before = openStore({ stateDir: tmp.dir });
  const ns0 = before.durableObjects('app', 'Room');
  const id = ns0.idFromName('room-1');
  await ns0.storage(id).setAlarm(Date.now() + 300);
  await before.close();

  const runs: string[] = [];
  const sched = new AlarmScheduler({ run: async (i) => void runs.push(i) });
  const store = openStore({ stateDir: tmp.dir });
  const ns = store.durableObjects('app', 'Room', { onAlarmChange: sched.notify });
  await sched.start(ns);
  await until(() => runs.length === 1);
  // Settled after the run: the alarm is cleared in the object's file, and it does not fire again.
  await until(async () => (await ns.storage(id).getAlarm()) === null);
  await new Promise((r) => setTimeout(r, 300));
  expect(runs).toEqual([id]);
  sched.close();
  await store.close();
}, 60_000);

it('a failing alarm is retried with isRetry and its retry count, never two runs at once', async () => {
  const infos: { retryCount: number; isRetry: boolean }[] = [];
  let active = 0;
  let overlapped = false;
  const store = openStore({ stateDir: tmp.dir });
  const sched = new AlarmScheduler({
    run: async (_id, info) => {
      active++;
      if (active > 1) overlapped = true;
      infos.push(info);
      await new Promise((r) => setTimeout(r, 50));
      active--;
      if (info.retryCount === 0) throw new Error('first run fails');
    },
  });
  const ns = store.durableObjects('app', 'Retry', { onAlarmChange: sched.notify });
  await sched.start(ns);
  const id = ns.idFromName('x');
  await ns.storage(id).setAlarm(Date.now());
  await until(() => infos.length >= 2);
  expect(infos.slice(0, 2)).toEqual([
    { retryCount: 0, isRetry: false },
    { retryCount: 1, isRetry: true },
  ]);
  await until(() => active === 0);
  expect(overlapped).toBe(false);
  sched.close();
  await store.close();
}, 60_000);
