"""Refunds: created ``pending``, settled right after the request (or failed for refundFail cards)."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import DUE, Sim
from ..listing import paginate
from ..money import fmt
from ..params import as_int, as_str, metadata
from ..routing import Request, route
from .ledger import add_txn
from .payment_methods import behaviour


def create_refund(sim: Sim, ch: dict[str, Any], amount: int | None, reason: str | None,
                  md: dict[str, Any]) -> dict[str, Any]:
    if ch["status"] != "succeeded":
        raise errors.invalid(f"Charge {ch['id']} has not succeeded and cannot be refunded.", "charge")
    if ch["disputed"]:
        raise errors.invalid(f"Charge {ch['id']} has been charged back; cannot issue a refund.", "charge",
                             code="charge_disputed")
    left = int(ch["amount"]) - int(ch["amount_refunded"])
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise errors.invalid(f"Refund amount ({fmt(amount, ch['currency'])}) is greater than unrefunded amount on "
                             f"charge ({fmt(left, ch['currency'])})", "amount", code="amount_too_large")
    clock = sim.clock_of(ch)
    re = sim.new("re", "refund", clock, {
        "amount": amount, "balance_transaction": None, "charge": ch["id"], "currency": ch["currency"],
        "customer": ch["customer"], "customer_account": None,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number", "type": "refund"},
                                "type": "card"},
        "metadata": md, "payment_intent": ch["payment_intent"], "payment_method": ch["payment_method"],
        "reason": reason, "receipt_number": None, "source_transfer_reversal": None, "status": "pending",
        "transfer_reversal": None})
    re.pop("livemode", None)
    txn = add_txn(sim, amount=-amount, currency=ch["currency"], fee=0, type_="refund", category="refund",
                  source=re["id"], description="REFUND FOR CHARGE", clock=clock)
    re["balance_transaction"] = txn["id"]
    ch["amount_refunded"] = int(ch["amount_refunded"]) + amount
    ch["refunded"] = ch["amount_refunded"] == ch["amount"]
    sim.emit("refund.created", re)
    sim.emit("charge.refunded", ch)
    sim.schedule(clock, sim.now(clock), "refund_settle", re["id"])
    return re


def _settle(sim: Sim, rid: str, when: int) -> None:
    re = sim.store.get(rid)
    if re["status"] != "pending":
        return
    ch = sim.store.get(re["charge"])
    before = sim.render(re)
    if behaviour(sim, ch["payment_method"]) == "refund_fail":
        txn = add_txn(sim, amount=re["amount"], currency=re["currency"], fee=0, type_="refund_failure",
                      category="refund_failure", source=re["id"], description="REFUND FAILURE",
                      clock=sim.clock_of(re))
        re.update(status="failed", failure_reason="expired_or_canceled_card", failure_balance_transaction=txn["id"])
        ch["amount_refunded"] = int(ch["amount_refunded"]) - int(re["amount"])
        ch["refunded"] = False
        sim.emit("refund.failed", re)
        sim.emit_updated("refund.updated", re, before)
        return
    re["status"] = "succeeded"
    re["destination_details"]["card"].update(reference="sim" + rid[-12:], reference_status="available")
    sim.emit_updated("refund.updated", re, before)


DUE["refund_settle"] = _settle


@route("POST", "/v1/refunds")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    ch_id = as_str(p, "charge")
    if not ch_id and as_str(p, "payment_intent"):
        pi = sim.store.get(as_str(p, "payment_intent"), "payment_intent", "payment_intent")
        ch_id = pi["latest_charge"]
    if not ch_id:
        raise errors.invalid("One of the following params should be provided for this request: payment_intent or "
                             "charge.", "charge")
    ch = sim.store.get(ch_id, "charge", "charge")
    return sim.render(create_refund(sim, ch, as_int(p, "amount"), as_str(p, "reason"), metadata(p)))


@route("GET", "/v1/refunds/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "refund"))


@route("POST", "/v1/refunds/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    re = sim.store.get(req.args["id"], "refund")
    re["metadata"] = metadata(req.params, re["metadata"])
    return sim.render(re)


@route("POST", "/v1/refunds/{id}/cancel")
def _cancel(sim: Sim, req: Request) -> dict[str, Any]:
    """Stripe cancels only refunds waiting on the customer (``requires_action``); card refunds never are."""
    re = sim.store.get(req.args["id"], "refund")
    if re["status"] != "requires_action":
        raise errors.invalid(f"Only refunds with status requires_action can be canceled; this one is "
                             f"{re['status']}.")
    return sim.render(re)


@route("GET", "/v1/refunds")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    ch, pi = as_str(req.params, "charge"), as_str(req.params, "payment_intent")
    return paginate(sim, req.params, "refund", "/v1/refunds", [
        (lambda o: o["charge"] == ch) if ch else None,
        (lambda o: o["payment_intent"] == pi) if pi else None,
    ])


@route("GET", "/v1/charges/{id}/refunds")
def _list_for_charge(sim: Sim, req: Request) -> dict[str, Any]:
    cid = req.args["id"]
    sim.store.get(cid, "charge")
    return paginate(sim, req.params, "refund", f"/v1/charges/{cid}/refunds", [lambda o: o["charge"] == cid])
