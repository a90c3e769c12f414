import { type Bundle, buildBundle, decodeBundle, type Logger } from '@pyworkers/isolate';

// One Python worker with a route per behaviour the router tests need.
const entry = (name: string) => `
import asyncio
import os
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        if path.endswith("boom"):
            raise RuntimeError("boom")
        if path.endswith("crash"):
            os._exit(3)  # ends this isolate's thread (js.process is out of Python's reach)
        if "slow" in path:
            await asyncio.sleep(float(path.rsplit("=", 1)[1]))
        if path.endswith("secret"):
            return Response(getattr(self.env, "TOKEN", "<no secret>"))
        if path.endswith("echo"):
            return Response(await request.bytes(), status=201,
                            headers={"x-worker": "${name}", "x-method": request.method,
                                     "content-type": "application/x-echo"})
        return Response("${name} says " + request.method, headers={"x-worker": "${name}"})

    async def scheduled(self, controller):
        if controller.cron == "no-retry":
            controller.no_retry()

    async def queue(self, batch):
        for msg in batch.messages:
            if msg.body == "again":
                msg.retry(delay_seconds=2)
`;

/** Builds the test worker's bundle (a real snapshot, so this takes seconds). */
export async function bundleFor(name: string): Promise<Bundle> {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry(name))]]),
    vars: {},
  });
  return decodeBundle(bytes);
}

/** A logger that keeps what it was given, for assertions on the access log. */
export function memoryLogger(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, ...(msg ? { msg } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Polls `check` until it holds (a loaded CI box can take a while to deliver a request). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
