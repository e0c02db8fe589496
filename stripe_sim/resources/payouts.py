"""Daily automatic payouts: at each UTC midnight, sweep available funds per clock.

A test clock acts as its own account timeline here, so a test that advances a
clock 13 months also sees the payouts of those months.
"""

from __future__ import annotations

from typing import Any

from ..engine import DAY, DUE, Sim
from ..listing import paginate
from ..params import as_str, metadata
from ..periods import next_midnight
from ..routing import Request, route
from .ledger import add_txn


def _daily(sim: Sim, key: str, when: int) -> None:
    clock = key or None
    if clock and sim.store.find(clock) is None:
        return
    sums: dict[str, list[dict[str, Any]]] = {}
    for txn in sim.store.all("balance_transaction"):
        meta = sim.store.meta.get(txn["id"]) or {}
        if meta.get("payout") or txn["type"] == "payout" or meta.get("clock") != clock:
            continue
        if txn["available_on"] <= when:
            sums.setdefault(txn["currency"], []).append(txn)
    for currency, txns in sorted(sums.items()):
        amount = sum(int(t["net"]) for t in txns)
        if amount <= 0:
            continue
        po = sim.new("po", "payout", clock, {
            "amount": amount, "application_fee": None, "application_fee_amount": None,
            "arrival_date": when + DAY, "automatic": True, "balance_transaction": None, "currency": currency,
            "description": "STRIPE PAYOUT", "destination": "ba_stripe_sim", "failure_balance_transaction": None,
            "failure_code": None, "failure_message": None, "method": "standard", "original_payout": None,
            "payout_method": None, "reconciliation_status": "in_progress", "reversed_by": None,
            "source_type": "card", "statement_descriptor": None, "status": "pending",
            "trace_id": {"status": "pending", "value": None}, "type": "bank_account"})
        own = add_txn(sim, amount=-amount, currency=currency, fee=0, type_="payout", category="payout",
                      source=po["id"], description="STRIPE PAYOUT", clock=clock, available_now=True)
        po["balance_transaction"] = own["id"]
        for t in txns + [own]:
            sim.store.m(t["id"])["payout"] = po["id"]
        sim.emit("payout.created", po)
        sim.schedule(clock, when + DAY, "payout_paid", po["id"])
    sim.schedule(clock, when + DAY, "payout_daily", key)


def _paid(sim: Sim, pid: str, when: int) -> None:
    po = sim.store.get(pid)
    if po["status"] != "pending":
        return
    before = sim.render(po)
    po.update(status="paid", trace_id={"status": "supported", "value": "SIM" + pid[-10:].upper()})
    sim.emit("payout.paid", po)
    sim.emit_updated("payout.updated", po, before)
    po["reconciliation_status"] = "completed"
    sim.emit("payout.reconciliation_completed", po)


DUE["payout_daily"] = _daily
DUE["payout_paid"] = _paid


def start_daily(sim: Sim, clock: str | None) -> None:
    sim.schedule(clock, next_midnight(sim.now(clock)), "payout_daily", clock or "")


@route("GET", "/v1/payouts/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "payout"))


@route("POST", "/v1/payouts/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    po = sim.store.get(req.args["id"], "payout")
    po["metadata"] = metadata(req.params, po["metadata"])
    return sim.render(po)


@route("GET", "/v1/payouts")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    status = as_str(req.params, "status")
    return paginate(sim, req.params, "payout", "/v1/payouts", [(lambda o: o["status"] == status) if status else None])
