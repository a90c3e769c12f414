"""Top-level ``wsgi`` module: ``import wsgi; await wsgi.fetch(app, request, env)``."""

from workers.wsgi import fetch

__all__ = ["fetch"]
