"""Cloudflare's top-level ``asgi`` module: ``import asgi; await asgi.fetch(app, request, env)``."""

from workers.asgi import fetch

__all__ = ["fetch"]
