import json

from workers import WorkerEntrypoint, asgi

# A tiny ASGI app (the shape FastAPI and Starlette produce), written out so the example needs
# no packages. Module state lives in the memory snapshot; each isolate then has its own copy.
NOTES = ["pyworkers runs Cloudflare Python Workers projects unchanged"]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"].rstrip("/")
    if scope["method"] == "POST" and path.endswith("/notes"):
        NOTES.append(body.decode("utf-8"))
        status, payload = 201, {"count": len(NOTES)}
    elif path.endswith("/notes"):
        status, payload = 200, {"title": scope["app_title"], "notes": NOTES}
    elif path.endswith("/config"):
        # Secrets (from .dev.vars locally) sit in env beside vars; never echo their values.
        payload = {"title": scope["app_title"], "has_api_token": scope["has_api_token"]}
        status = 200
    else:
        status, payload = 404, {"error": f"no route for {scope['path']}"}
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        async def with_title(scope, receive, send):
            extra = {"app_title": self.env.TITLE, "has_api_token": hasattr(self.env, "API_TOKEN")}
            await app({**scope, **extra}, receive, send)

        return await asgi.fetch(with_title, request, self.env)
