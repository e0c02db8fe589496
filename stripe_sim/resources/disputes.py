"""Disputes for ``pm_card_createDispute`` charges; evidence decides won/lost.

As in Stripe test mode, evidence whose text contains ``winning_evidence``
wins and ``losing_evidence`` (or closing the dispute) loses.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import DAY, DUE, Sim
from ..listing import paginate
from ..params import as_dict, as_str, metadata
from ..routing import Request, route
from .ledger import add_txn

# Every text/file field of ``dispute.evidence`` in this API version (enhanced_evidence is an object).
_EVIDENCE_KEYS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier",
    "shipping_date", "shipping_documentation", "shipping_tracking_number", "uncategorized_file",
    "uncategorized_text")


def _open(sim: Sim, cid: str, when: int) -> None:
    ch = sim.store.get(cid)
    if ch["disputed"]:
        return
    clock = sim.clock_of(ch)
    pmd = ch["payment_method_details"]["card"]
    dp = sim.new("du", "dispute", clock, {
        "amount": ch["amount"], "balance_transactions": [], "charge": ch["id"], "currency": ch["currency"],
        "enhanced_eligibility_types": [], "evidence": dict(dict.fromkeys(_EVIDENCE_KEYS), enhanced_evidence={}),
        "evidence_details": {"due_by": when + 7 * DAY, "enhanced_eligibility": {}, "has_evidence": False,
                             "past_due": False, "submission_count": 0, "submission_method": "not_submitted"},
        "is_charge_refundable": False, "payment_intent": ch["payment_intent"],
        "payment_method_details": {"card": {"brand": pmd.get("brand"), "case_type": "chargeback",
                                            "network": pmd.get("network") or pmd.get("brand"),
                                            "network_reason_code": "10.4"}, "type": "card"},
        "reason": "fraudulent", "status": "needs_response"})
    ch["disputed"] = True
    sim.emit("charge.dispute.created", dp)
    fee = sim.config.dispute_fee_minor
    txn = add_txn(sim, amount=-int(ch["amount"]), currency=ch["currency"], fee=fee, type_="adjustment",
                  category="dispute", source=dp["id"], description=f"Chargeback withdrawal for {ch['id']}",
                  clock=clock, fee_type="stripe_fee", available_now=True)
    dp["balance_transactions"] = [sim.render(txn)]
    sim.emit("charge.dispute.funds_withdrawn", dp)


def _close(sim: Sim, did: str, when: int) -> None:
    dp = sim.store.get(did)
    outcome = sim.store.m(did).get("outcome")
    if dp["status"] not in ("under_review", "needs_response") or outcome is None:
        return
    if outcome == "won":
        fee = sim.config.dispute_fee_minor
        txn = add_txn(sim, amount=int(dp["amount"]), currency=dp["currency"], fee=-fee, type_="adjustment",
                      category="dispute_reversal", source=dp["id"],
                      description=f"Chargeback reversal for {dp['charge']}", clock=sim.clock_of(dp),
                      available_now=True)
        dp["balance_transactions"] = list(dp["balance_transactions"]) + [sim.render(txn)]
        dp["status"] = "won"
        sim.emit("charge.dispute.funds_reinstated", dp)
    else:
        dp["status"] = "lost"
    sim.emit("charge.dispute.closed", dp)


DUE["dispute_open"] = _open
DUE["dispute_close"] = _close


@route("GET", "/v1/disputes/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "dispute"))


@route("POST", "/v1/disputes/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    dp = sim.store.get(req.args["id"], "dispute")
    if dp["status"] in ("won", "lost"):
        raise errors.invalid("This dispute is already closed.")
    before = sim.render(dp)
    if "metadata" in req.params:
        dp["metadata"] = metadata(req.params, dp["metadata"])
    ev = as_dict(req.params, "evidence")
    if ev:
        dp["evidence"] = dict(dp["evidence"], **{k: v for k, v in ev.items() if k in _EVIDENCE_KEYS})
        dp["evidence_details"] = dict(dp["evidence_details"], has_evidence=True)
    submit = str(req.params.get("submit", "true")).lower() != "false"
    text = " ".join(str(v) for v in dp["evidence"].values() if v)
    if ev and submit:
        dp["evidence_details"]["submission_count"] = int(dp["evidence_details"]["submission_count"]) + 1
        dp["evidence_details"]["submission_method"] = "manual"
        outcome = "won" if "winning_evidence" in text else "lost" if "losing_evidence" in text else None
        dp["status"] = "under_review"
        if outcome:
            sim.store.m(dp["id"])["outcome"] = outcome
            clock = sim.clock_of(dp)
            sim.schedule(clock, sim.now(clock), "dispute_close", dp["id"])
    sim.emit_updated("charge.dispute.updated", dp, before)
    return sim.render(dp)


@route("POST", "/v1/disputes/{id}/close")
def _accept(sim: Sim, req: Request) -> dict[str, Any]:
    dp = sim.store.get(req.args["id"], "dispute")
    if dp["status"] in ("won", "lost"):
        raise errors.invalid("This dispute is already closed.")
    sim.store.m(dp["id"])["outcome"] = "lost"
    _close(sim, dp["id"], sim.now(sim.clock_of(dp)))
    return sim.render(dp)


@route("GET", "/v1/disputes")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    ch, pi = as_str(req.params, "charge"), as_str(req.params, "payment_intent")
    return paginate(sim, req.params, "dispute", "/v1/disputes", [
        (lambda o: o["charge"] == ch) if ch else None,
        (lambda o: o["payment_intent"] == pi) if pi else None,
    ])
