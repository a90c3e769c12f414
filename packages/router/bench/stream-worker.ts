// The Python worker of the streaming benches: a response of `total` bytes, yielded in `chunk`-byte
// pieces by an async generator, built into a bundle once per bench run.
import { buildBundle, decodeBundle } from '@pyworkers/isolate';

export async function streamWorkerBundle(name: string, total: number, chunk: number) {
  const entry = `
from workers import Response, WorkerEntrypoint

CHUNK = b"x" * ${chunk}


async def chunks():
    for _ in range(${total / chunk}):
        yield CHUNK


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(chunks(), headers={"content-type": "application/octet-stream"})
`;
  return decodeBundle(
    await buildBundle({
      name,
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
    }),
  );
}
