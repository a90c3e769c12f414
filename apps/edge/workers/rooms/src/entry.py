"""Chat rooms: one Durable Object per room, its messages in the object's own SQLite database.

GET  /rooms/<room>/messages      the room's latest messages (JSON), oldest first
POST /rooms/<room>/messages      {"name": ..., "text": ...} adds one
GET  /rooms/<room>/visits        counts this visit (one at a time per room: no lost update)
GET  /rooms/<room>/live?name=N   a WebSocket: each text sent is posted; every message posted
                                 (here or over HTTP) reaches every live client as JSON

The live sockets use the hibernation API: the host holds them, so a quiet room is evicted
with its clients still connected, and their next message brings it back. "ping" is answered
"pong" by the host without waking the room.
"""

import json
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response, WorkerEntrypoint

SCHEMA = """CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)"""


class Room(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        # Runs before the room's first event; sql.exec is synchronous, as on Cloudflare.
        self.ctx.storage.sql.exec(SCHEMA)
        self.ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def post(self, name, text):
        cursor = self.ctx.storage.sql.exec(
            "INSERT INTO messages (name, text) VALUES (?, ?) RETURNING id, at", name, text
        )
        row = cursor.one()
        self.broadcast({"id": row["id"], "name": name, "text": text, "at": row["at"]})
        return row["id"]

    def broadcast(self, event):
        line = json.dumps(event)
        for ws in self.ctx.getWebSockets():
            ws.send(line)

    async def fetch(self, request):
        """A live client: ``/rooms/<room>/live?name=N`` with ``Upgrade: websocket``."""
        name = (parse_qs(urlparse(request.url).query).get("name") or [""])[0].strip()[:40]
        if not name:
            return Response("say who you are: /rooms/<room>/live?name=...\n", status=400)
        client, server = WebSocketPair.new().object_values()
        self.ctx.acceptWebSocket(server, [name])
        server.serializeAttachment({"name": name})
        self.broadcast({"joined": name, "online": len(self.ctx.getWebSockets())})
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        text = message.strip() if isinstance(message, str) else ""
        if not text or len(text) > 500:
            ws.send(json.dumps({"error": "send text of 1 to 500 characters"}))
            return
        await self.post(ws.deserializeAttachment()["name"], text)

    async def webSocketClose(self, ws, code, reason, was_clean):
        self.broadcast({"left": ws.deserializeAttachment()["name"]})

    async def messages(self, limit=20):
        rows = self.ctx.storage.sql.exec(
            "SELECT id, name, text, at FROM (SELECT * FROM messages ORDER BY id DESC LIMIT ?) "
            "ORDER BY id",
            limit,
        ).to_array()
        return {"room": self.ctx.id.name, "messages": rows}

    async def visit(self):
        seen = (await self.ctx.storage.get("visits") or 0) + 1
        await self.ctx.storage.put("visits", seen)
        return seen


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        parts = urlparse(request.url).path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "rooms" or not parts[1]:
            return Response(
                "try /rooms/<room>/messages, /rooms/<room>/visits or /rooms/<room>/live\n",
                status=404,
            )
        room = self.env.ROOMS.get_by_name(parts[1])
        if parts[2] == "live":
            if (request.headers.get("upgrade") or "").lower() != "websocket":
                return Response("connect a WebSocket here\n", status=426)
            return await room.fetch(request)
        if parts[2] == "visits":
            return Response.json({"visits": await room.visit()})
        if parts[2] != "messages":
            return Response("not found\n", status=404)
        if request.method == "POST":
            try:
                data = json.loads(await request.text())
                name, text = str(data["name"]).strip(), str(data["text"]).strip()
            except (ValueError, KeyError, TypeError):
                return Response.json({"error": 'send {"name": ..., "text": ...}'}, status=400)
            if not name or not text or len(text) > 500:
                return Response.json(
                    {"error": "name and text (at most 500 characters) are required"}, status=400
                )
            return Response.json({"id": await room.post(name, text)}, status=201)
        return Response.json(await room.messages())
