"""Currency conversion as an RPC service.

Other workers bind it (wrangler ``services = [{ binding = "RATES", service = "rates" }]``) and
call ``await env.RATES.convert(amount, "EUR")``; ``class Admin`` is a second entrypoint
(``entrypoint = "Admin"``).
"""

import datetime

from workers import Response, WorkerEntrypoint

# Per US dollar; fixed here (a real service would read them from KV or an upstream API).
RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.3}
AS_OF = datetime.datetime(2026, 1, 2, 9, 0)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"rates service: {', '.join(RATES)}; call it over RPC")

    async def convert(self, amount, currency):
        """``amount`` US dollars in ``currency``: a dict, or ``KeyError`` for an unknown one."""
        if currency not in RATES:
            raise KeyError(f"unknown currency {currency!r} (known: {', '.join(RATES)})")
        if not isinstance(amount, (int, float)) or amount < 0:
            raise ValueError(f"amount must be a number >= 0, got {amount!r}")
        return {
            "amount": amount,
            "currency": currency,
            "rate": RATES[currency],
            "converted": round(amount * RATES[currency], 2),
            "as_of": AS_OF,
        }


class Admin(WorkerEntrypoint):
    async def table(self):
        return {"base": "USD", "rates": RATES, "as_of": AS_OF}
