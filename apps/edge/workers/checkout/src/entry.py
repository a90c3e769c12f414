"""A checkout that prices a basket in the buyer's currency by calling the rates worker.

GET /checkout/quote?amount=10&currency=EUR   RPC: env.RATES.convert(10, "EUR")
GET /checkout/rates                          RPC to another entrypoint: env.ADMIN.table()
GET /checkout/about                          fetch over the binding: env.RATES.fetch(...)
"""

import json
from urllib.parse import parse_qs, urlparse

from workers import Response, WorkerEntrypoint


def as_json(value, status=200):
    return Response(
        json.dumps(value, default=str), status=status, headers={"content-type": "application/json"}
    )


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlparse(request.url)
        path = url.path.rstrip("/")
        query = parse_qs(url.query)
        if path.endswith("/quote"):
            amount = float(query.get("amount", ["0"])[0])
            currency = query.get("currency", ["USD"])[0].upper()
            try:
                quote = await self.env.RATES.convert(amount, currency)
            except KeyError as exc:
                # Raised in the rates worker; its traceback is in that worker's log.
                return as_json({"error": str(exc)}, status=400)
            return as_json({"quote": quote, "as_of_type": type(quote["as_of"]).__name__})
        if path.endswith("/rates"):
            return as_json(await self.env.ADMIN.table())
        if path.endswith("/about"):
            res = await self.env.RATES.fetch("https://rates/")
            return Response(f"checkout, priced by: {await res.text()}")
        return Response("try /checkout/quote?amount=10&currency=EUR", status=404)
