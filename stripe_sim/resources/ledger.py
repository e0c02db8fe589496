"""Balance transactions and the account balance.

Every money movement (charge, refund, refund failure, dispute, payout) gets a
balance transaction with Stripe's ``fee``/``net``/``reporting_category``;
funds become available ``payout_delay_days`` after creation and daily payouts
sweep what is available.
"""

from __future__ import annotations

from typing import Any

from ..engine import DAY, RENDERERS, Sim
from ..listing import paginate
from ..params import as_str
from ..routing import Request, route


def add_txn(sim: Sim, *, amount: int, currency: str, fee: int, type_: str, category: str, source: str | None,
            description: str | None, clock: str | None, fee_type: str = "stripe_fee",
            available_now: bool = False) -> dict[str, Any]:
    now = sim.now(clock)
    available_on = now if available_now else ((now // DAY) + sim.config.payout_delay_days) * DAY
    fee_details = [] if not fee else [{"amount": fee, "application": None, "currency": currency,
                                       "description": "Stripe processing fees" if fee_type == "stripe_fee"
                                       else "Dispute fee", "type": fee_type}]
    txn = sim.new("txn", "balance_transaction", clock, {
        "amount": amount, "available_on": available_on, "balance_type": "payments", "currency": currency,
        "description": description, "exchange_rate": None, "fee": fee, "fee_details": fee_details,
        "net": amount - fee, "reporting_category": category, "source": source, "status": "pending", "type": type_,
    })
    txn.pop("metadata", None)
    txn.pop("livemode", None)
    return txn


def _render_txn(sim: Sim, obj: dict[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    out["status"] = "available" if obj["available_on"] <= sim.now(sim.clock_of(obj)) else "pending"
    return out


RENDERERS["balance_transaction"] = _render_txn


@route("GET", "/v1/balance_transactions/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "balance_transaction"))


@route("GET", "/v1/balance_transactions")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    return _history(sim, req, "/v1/balance_transactions")


@route("GET", "/v1/balance/history")
def _balance_history(sim: Sim, req: Request) -> dict[str, Any]:
    """The older name of the same list, still routed by Stripe (and by the SDK's ``balance_transactions``)."""
    return _history(sim, req, "/v1/balance/history")


def _history(sim: Sim, req: Request, url: str) -> dict[str, Any]:
    p = req.params
    payout = as_str(p, "payout")
    if payout:
        sim.store.get(payout, "payout", "payout")
    ttype = as_str(p, "type")
    source = as_str(p, "source")
    currency = as_str(p, "currency")
    return paginate(sim, p, "balance_transaction", url, [
        (lambda o: sim.store.m(o["id"]).get("payout") == payout) if payout else None,
        (lambda o: o["type"] == ttype) if ttype else None,
        (lambda o: o["source"] == source) if source else None,
        (lambda o: o["currency"] == currency) if currency else None,
    ])


@route("GET", "/v1/balance")
def _balance(sim: Sim, req: Request) -> dict[str, Any]:
    """Sum of nets not yet swept by a payout, split available/pending per currency."""
    available: dict[str, int] = {}
    pending: dict[str, int] = {}
    for txn in sim.store.all("balance_transaction"):
        if txn["type"] == "payout" or sim.store.m(txn["id"]).get("payout"):
            continue
        bucket = available if txn["available_on"] <= sim.now(sim.clock_of(txn)) else pending
        bucket[txn["currency"]] = bucket.get(txn["currency"], 0) + txn["net"]

    def fmt(d: dict[str, int]) -> list[dict[str, Any]]:
        return [{"amount": v, "currency": c, "source_types": {"card": v}} for c, v in sorted(d.items())] or \
            [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]

    return {"object": "balance", "available": fmt(available), "pending": fmt(pending), "livemode": False,
            "connect_reserved": []}
