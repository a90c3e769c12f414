import asyncio
import json
import time
from urllib.parse import parse_qs, urlsplit

from workers import Response, WorkerEntrypoint


async def ticks(count, interval):
    # Each yield is sent to the client at once; a client that stops reading holds this back.
    for i in range(count):
        yield f"id: {i}\nevent: tick\ndata: {json.dumps({'n': i, 'time': time.time()})}\n\n"
        if i + 1 < count:
            await asyncio.sleep(interval)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        query = parse_qs(urlsplit(request.url).query)
        count = min(int(query.get("count", ["5"])[0]), 1000)
        interval = min(float(query.get("interval", ["1"])[0]), 10.0)
        return Response(
            ticks(count, interval),
            headers={"content-type": "text/event-stream", "cache-control": "no-cache"},
        )
