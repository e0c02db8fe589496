"""One-off invoices: a draft made for a customer, filled with invoice items, then finalized.

Drafts are editable (invoice items join or leave, totals follow) and deletable;
finalizing takes the number, applies the customer's credit balance (for one-off
invoices Stripe does that at finalization, not at creation) and, for
``send_invoice``, fixes ``due_date`` from ``days_until_due``. With
``auto_advance=true`` the draft finalizes itself an hour after creation and, when
``charge_automatically``, is charged off-session then, as Stripe's automatic
collection does. Pay, void and mark_uncollectible are the shared invoice endpoints.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import DAY, DUE, Sim
from ..params import as_bool, as_int, as_list, as_str, metadata
from ..routing import Request, route
from . import invoice_items, tax_rates
from . import invoices as inv_mod
from .payment_methods import resolve_pm

AUTO_FINALIZE_AFTER = 3600


@route("POST", "/v1/invoices")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    cus = sim.store.get(as_str(p, "customer", required=True), "customer", "customer")
    sub = sim.store.get(as_str(p, "subscription"), "subscription", "subscription") if p.get("subscription") else None
    if sub is not None and sub["customer"] != cus["id"]:
        raise errors.invalid("The subscription belongs to another customer.", "subscription")
    method = as_str(p, "collection_method", "charge_automatically") or "charge_automatically"
    if method not in ("charge_automatically", "send_invoice"):
        raise errors.invalid(f"Invalid collection_method: {method}", "collection_method")
    days, due_date = as_int(p, "days_until_due"), as_int(p, "due_date")
    if method == "send_invoice" and days is None and due_date is None:
        raise errors.invalid("Invoices with `collection_method=send_invoice` need `days_until_due` or `due_date`.",
                             "days_until_due")
    if method == "charge_automatically" and (days is not None or due_date is not None):
        raise errors.invalid("`days_until_due` and `due_date` only apply to `collection_method=send_invoice`.",
                             "days_until_due" if days is not None else "due_date")
    currency = ((as_str(p, "currency") or "").lower() or (sub or {}).get("currency") or cus.get("currency")
                or "usd")
    behavior = as_str(p, "pending_invoice_items_behavior", "exclude")
    if behavior not in ("include", "exclude"):
        raise errors.invalid(f"Invalid pending_invoice_items_behavior: {behavior}", "pending_invoice_items_behavior")
    rates = tax_rates.resolve_rates(sim, as_list(p, "default_tax_rates"), "default_tax_rates")
    ref = as_str(p, "default_payment_method")
    pm = resolve_pm(sim, ref, cus["id"], "default_payment_method")["id"] if ref else None
    clock = cus.get("test_clock")
    now = sim.now(clock)
    items = invoice_items.pending(sim, cus["id"], currency, sub["id"] if sub else None) if behavior == "include" \
        else []
    lines = [invoice_items.to_line(sim, i) for i in items]
    body = inv_mod.invoice_body(sim, cus, sub, lines, "manual", currency, (now, now), rates, use_balance=False)
    auto = bool(as_bool(p, "auto_advance", False))
    body.update(auto_advance=auto, automatically_finalizes_at=now + AUTO_FINALIZE_AFTER if auto else None,
                collection_method=method, default_payment_method=pm, default_tax_rates=rates,
                description=as_str(p, "description"), due_date=due_date, footer=as_str(p, "footer"),
                metadata=metadata(p), statement_descriptor=as_str(p, "statement_descriptor"))
    inv = sim.new("in", "invoice", clock, body, oneoff=True, days_until_due=days)
    inv["lines"]["url"] = f"/v1/invoices/{inv['id']}/lines"
    for ln in inv["lines"]["data"]:
        ln["invoice"] = inv["id"]
    invoice_items.claim(sim, inv)
    sim.emit("invoice.created", inv)
    if auto:
        sim.schedule(clock, now + AUTO_FINALIZE_AFTER, "invoice_auto_advance", inv["id"])
    return sim.render(inv)


def _before_finalize(sim: Sim, inv: dict[str, Any]) -> None:
    """Customer credit and the due date are settled when a one-off draft is finalized."""
    meta = sim.store.meta.get(inv["id"]) or {}
    if not meta.get("oneoff"):
        return
    cus = sim.store.get(inv["customer"])
    bal = int(cus.get("balance") or 0)
    total = int(inv["total"])
    applied = max(bal, -total) if bal < 0 and total > 0 else 0
    if applied:
        cus["balance"] = bal - applied
    due = max(0, total + applied)
    inv.update(starting_balance=bal, amount_due=due, amount_remaining=due, automatically_finalizes_at=None)
    if inv["collection_method"] == "send_invoice" and inv["due_date"] is None and meta.get("days_until_due") is not None:
        inv["due_date"] = sim.now(sim.clock_of(inv)) + int(meta["days_until_due"]) * DAY


inv_mod.BEFORE_FINALIZE.append(_before_finalize)


def _auto_advance(sim: Sim, iid: str, when: int) -> None:
    inv = sim.store.find(iid)
    if inv is None or inv.get("deleted") or inv["status"] != "draft" or not inv["auto_advance"]:
        return
    inv_mod.finalize(sim, inv)
    if inv["collection_method"] == "charge_automatically":
        inv_mod.attempt(sim, inv, inv_mod.default_pm(sim, inv), off_session=True)


DUE["invoice_auto_advance"] = _auto_advance


@route("DELETE", "/v1/invoices/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    """Only drafts can go; their invoice items become pending again."""
    inv = sim.store.get(req.args["id"], "invoice")
    if inv.get("deleted"):
        raise errors.missing("invoice", inv["id"])
    if inv["status"] != "draft":
        raise errors.invalid("You can only delete draft invoices. Void or mark the invoice uncollectible instead.",
                             code="invoice_not_editable")
    for item in sim.store.iter_newest("invoiceitem", lambda o: o["invoice"] == inv["id"]):
        item["invoice"] = None
    sim.emit("invoice.deleted", inv)
    inv["deleted"] = True
    return {"id": inv["id"], "object": "invoice", "deleted": True}
