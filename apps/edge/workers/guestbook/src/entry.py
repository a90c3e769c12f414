"""A guestbook: entries in a D1 database, a visit counter in KV.

GET  /guestbook/entries          the latest entries (JSON), newest first
POST /guestbook/entries          {"name": ..., "message": ...} adds one
GET  /guestbook/visits           counts this visit and says how many there were
"""

import json
from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint

SCHEMA = """CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)"""


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path.rstrip("/")
        if path.endswith("/entries"):
            await self.env.DB.exec(SCHEMA.replace("\n", " "))
            if request.method == "POST":
                return await self.add(request)
            rows = await self.env.DB.prepare(
                "SELECT id, name, message, created_at FROM entries ORDER BY id DESC LIMIT ?"
            ).bind(20).all()
            return Response.json({"entries": rows.results, "rows_read": rows.meta.rows_read})
        if path.endswith("/visits"):
            seen = int(await self.env.VISITS.get("count") or 0) + 1
            await self.env.VISITS.put("count", str(seen))
            return Response.json({"visits": seen})
        return Response("try /guestbook/entries or /guestbook/visits\n", status=404)

    async def add(self, request):
        try:
            data = json.loads(await request.text())
            name, message = str(data["name"]).strip(), str(data["message"]).strip()
        except (ValueError, KeyError, TypeError):
            return Response.json({"error": 'send {"name": ..., "message": ...}'}, status=400)
        if not name or not message or len(message) > 500:
            error = "name and message (at most 500 characters) are required"
            return Response.json({"error": error}, status=400)
        run = await self.env.DB.prepare(
            "INSERT INTO entries (name, message) VALUES (?, ?)"
        ).bind(name, message).run()
        entry = await self.env.DB.prepare(
            "SELECT id, name, message, created_at FROM entries WHERE id = ?"
        ).bind(run.meta.last_row_id).first()
        return Response.json(entry, status=201)
