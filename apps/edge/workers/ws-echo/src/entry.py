from js import WebSocketPair
from pyodide.ffi import create_proxy
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.headers.get("upgrade", "").lower() != "websocket":
            return Response("connect with a WebSocket client (Upgrade: websocket)\n", status=426)
        client, server = WebSocketPair.new().object_values()
        server.accept()

        def on_message(event):
            if event.data == "bye":
                server.close(1000, "bye")
                return
            # Text comes back as text, binary (an ArrayBuffer) as binary.
            server.send(event.data)

        server.addEventListener("message", create_proxy(on_message))
        server.send("connected")
        return Response(None, status=101, web_socket=client)
