"""Invoices, their lines and invoice payments (the basil shapes).

The subscription an invoice bills sits at ``parent.subscription_details``;
payments are ``invoice_payment`` objects (``payment.type == "payment_intent"``),
includable as ``invoice.payments``. One PaymentIntent per invoice, re-confirmed
on every retry, as Stripe does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import INCLUDABLE, RENDERERS, Sim, list_object
from ..money import fmt
from . import discounts, tax_rates
from .payments import confirm_pi, create_pi

_DESCRIPTIONS = {"subscription_create": "Subscription creation", "subscription_cycle": "Subscription cycle",
                 "subscription_update": "Subscription update", "manual": None}
# Run as a draft is finalized, before its number is taken (one-off invoices apply customer credit here).
BEFORE_FINALIZE: list[Callable[[Sim, dict[str, Any]], None]] = []


def line(sim: Sim, *, amount: int, currency: str, description: str, price: dict[str, Any] | None,
         quantity: int, start: int, end: int, sub: str | None, si: str | None, proration: bool = False) -> dict[str, Any]:
    return {
        "id": sim.store.new_id("il"), "object": "line_item", "amount": amount, "currency": currency,
        "description": description, "discount_amounts": [], "discountable": not proration, "discounts": [],
        "invoice": None, "livemode": False, "metadata": {},
        "parent": {"invoice_item_details": None, "subscription_item_details": {
            "invoice_item": None, "proration": proration, "proration_details": {"credited_items": None},
            "subscription": sub, "subscription_item": si}, "type": "subscription_item_details"},
        "period": {"end": end, "start": start}, "pretax_credit_amounts": [],
        "pricing": {"price_details": {"price": price["id"], "product": price["product"]} if price else None,
                    "type": "price_details",
                    "unit_amount_decimal": str(price["unit_amount"]) if price and price["unit_amount"] is not None
                    else None},
        "quantity": quantity, "quantity_decimal": str(quantity), "subscription": sub, "subtotal": amount,
        "taxes": [],
    }


def item_line(sim: Sim, price: dict[str, Any], quantity: int, start: int, end: int, sub: str | None,
              si: str | None, amount: int | None = None) -> dict[str, Any]:
    unit = price["unit_amount"] if amount is None else amount
    total = int(unit or 0) * quantity
    from .catalog import plan_of

    plan = plan_of(price)
    name = sim.store.get(price["product"])["name"]
    per = f" / {plan['interval']}" if plan["interval"] else ""
    desc = f"{quantity} × {name} (at {fmt(int(unit or 0), price['currency'])}{per})"
    return line(sim, amount=total, currency=price["currency"], description=desc, price=price, quantity=quantity,
                start=start, end=end, sub=sub, si=si)


def totals(sim: Sim, sub: dict[str, Any] | None, lines: list[dict[str, Any]],
           default_rates: list[str] | None = None) -> dict[str, Any]:
    """Subtotal, discounts and taxes of a set of lines (what a draft recomputes as lines change)."""
    subtotal = sum(int(ln["amount"]) for ln in lines)
    discount_ids, discount_totals = discounts.apply(sim, sub, lines)
    defaults = list(default_rates if default_rates is not None else (sub or {}).get("default_tax_rates") or [])
    incl, excl, total_taxes = tax_rates.apply(sim, lines, [tax_rates.line_rates(sim, ln, defaults) for ln in lines])
    total = subtotal - sum(int(d["amount"]) for d in discount_totals) + excl
    return {"discounts": discount_ids, "subtotal": subtotal, "subtotal_excluding_tax": subtotal - incl,
            "total": total, "total_discount_amounts": discount_totals, "total_excluding_tax": total - incl - excl,
            "total_taxes": total_taxes}


def invoice_body(sim: Sim, cus: dict[str, Any], sub: dict[str, Any] | None, lines: list[dict[str, Any]],
                 reason: str, currency: str, period: tuple[int, int], default_rates: list[str] | None = None,
                 use_balance: bool = True) -> dict[str, Any]:
    sums = totals(sim, sub, lines, default_rates)
    total = sums["total"]
    start_bal = int(cus.get("balance") or 0) if use_balance else 0
    applied = max(start_bal, -total) if start_bal < 0 and total > 0 else 0
    due = max(0, total + applied)
    parent = None
    if sub is not None:
        parent = {"quote_details": None, "subscription_details": {"metadata": dict(sub["metadata"]),
                                                                  "subscription": sub["id"]},
                  "type": "subscription_details"}
    return {
        "account_country": "US", "account_name": "stripe_sim", "account_tax_ids": None, "amount_due": due,
        "amount_overpaid": 0, "amount_paid": 0, "amount_remaining": due, "amount_shipping": 0,
        "application": None, "attempt_count": 0, "attempted": False, "auto_advance": True,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "provider": None,
                          "status": None},
        "automatically_finalizes_at": None, "billing_reason": reason, "collection_method": "charge_automatically",
        "currency": currency, "custom_fields": None, "customer": cus["id"], "customer_account": None,
        "customer_address": cus.get("address"), "customer_email": cus.get("email"),
        "customer_name": cus.get("name"), "customer_phone": cus.get("phone"), "customer_shipping": cus.get("shipping"),
        "customer_tax_exempt": cus.get("tax_exempt", "none"), "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": [], "description": None,
        "discounts": sums["discounts"], "due_date": None, "effective_at": None, "ending_balance": None, "footer": None,
        "from_invoice": None, "hosted_invoice_url": None, "invoice_pdf": None, "issuer": {"type": "self"},
        "last_finalization_error": None, "latest_revision": None,
        "lines": list_object(lines, ""), "next_payment_attempt": None, "number": None,
        "on_behalf_of": None, "parent": parent,
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": period[1], "period_start": period[0], "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0, "receipt_number": None, "rendering": None, "shipping_cost": None,
        "shipping_details": None, "starting_balance": start_bal, "statement_descriptor": None, "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None,
                               "voided_at": None},
        "subtotal": sums["subtotal"], "subtotal_excluding_tax": sums["subtotal_excluding_tax"],
        "test_clock": cus.get("test_clock"), "total": total, "total_discount_amounts": sums["total_discount_amounts"],
        "total_excluding_tax": sums["total_excluding_tax"], "total_pretax_credit_amounts": [],
        "total_taxes": sums["total_taxes"], "webhooks_delivered_at": None,
    }


def new_invoice(sim: Sim, cus: dict[str, Any], sub: dict[str, Any] | None, lines: list[dict[str, Any]],
                reason: str, currency: str, period: tuple[int, int]) -> dict[str, Any]:
    """Draft invoice + ``invoice.created``; applies the sub's discounts, then customer credit, like Stripe."""
    inv = sim.new("in", "invoice", cus.get("test_clock"), invoice_body(sim, cus, sub, lines, reason, currency, period))
    inv["lines"]["url"] = f"/v1/invoices/{inv['id']}/lines"
    for ln in inv["lines"]["data"]:
        ln["invoice"] = inv["id"]
    applied = inv["amount_due"] - inv["total"]  # credit used (>0), or a net credit to keep (<0 total)
    if inv["total"] < 0:
        cus["balance"] = int(cus["balance"]) + int(inv["total"])
    elif applied:
        cus["balance"] = int(cus["balance"]) - applied
    inv["ending_balance"] = None
    discounts.consume(sim, inv)
    sim.emit("invoice.created", inv)
    return inv


def finalize(sim: Sim, inv: dict[str, Any]) -> None:
    for hook in BEFORE_FINALIZE:
        hook(sim, inv)
    cus = sim.store.get(inv["customer"])
    seq = int(cus.get("next_invoice_sequence") or 1)
    cus["next_invoice_sequence"] = seq + 1
    now = sim.now(sim.clock_of(inv))
    inv.update(status="open", number=f"{cus['invoice_prefix']}-{seq:04d}", effective_at=now,
               ending_balance=int(cus.get("balance") or 0),
               hosted_invoice_url=f"{sim.url}/invoice/{inv['id']}", invoice_pdf=f"{sim.url}/invoice/{inv['id']}/pdf")
    inv["status_transitions"] = dict(inv["status_transitions"], finalized_at=now)
    sim.emit("invoice.finalized", inv)


def mark_paid(sim: Sim, inv: dict[str, Any]) -> None:
    now = sim.now(sim.clock_of(inv))
    inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0, next_payment_attempt=None)
    inv["status_transitions"] = dict(inv["status_transitions"], paid_at=now)
    ip_id = sim.store.m(inv["id"]).get("invoice_payment")
    if ip_id:
        ip = sim.store.get(ip_id)
        ip.update(status="paid", amount_paid=inv["amount_due"])
        ip["status_transitions"] = dict(ip["status_transitions"], paid_at=now)
        sim.emit("invoice_payment.paid", ip)
    sim.emit("invoice.paid", inv)
    sim.emit("invoice.payment_succeeded", inv)


def default_pm(sim: Sim, inv: dict[str, Any]) -> str | None:
    """Subscription default first, then the customer's invoice default (Smart Retries order)."""
    sub_id = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = sim.store.find(sub_id)
    if inv.get("default_payment_method"):
        return str(inv["default_payment_method"])
    if sub is not None and sub.get("default_payment_method"):
        return str(sub["default_payment_method"])
    cus = sim.store.get(inv["customer"])
    pm = cus["invoice_settings"].get("default_payment_method")
    return str(pm) if pm else None


def attempt(sim: Sim, inv: dict[str, Any], pm_id: str | None, off_session: bool) -> bool:
    """Finalize if needed, then charge; ``invoice.payment_failed`` on decline. True when paid."""
    if inv["status"] == "draft":
        finalize(sim, inv)
    if inv["amount_due"] <= 0:
        mark_paid(sim, inv)
        return True
    meta = sim.store.m(inv["id"])
    pi = sim.store.find(meta.get("pi"))
    if pi is None:
        pi = create_pi(sim, amount=inv["amount_due"], currency=inv["currency"], customer=inv["customer"],
                       pm=pm_id, description=_DESCRIPTIONS.get(inv["billing_reason"]))
        meta["pi"] = pi["id"]
        ip = sim.new("inpay", "invoice_payment", sim.clock_of(inv), {
            "amount_paid": None, "amount_requested": inv["amount_due"], "currency": inv["currency"],
            "invoice": inv["id"], "is_default": True,
            "payment": {"payment_intent": pi["id"], "type": "payment_intent"}, "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None}})
        ip.pop("metadata", None)
        meta["invoice_payment"] = ip["id"]
    inv["attempt_count"] = int(inv["attempt_count"]) + 1
    inv["attempted"] = True
    _ch, ok = confirm_pi(sim, pi, pm_id, off_session)
    if ok:
        mark_paid(sim, inv)
        return True
    sim.emit("invoice.payment_failed", inv)
    return False


def _render_invoice(sim: Sim, obj: dict[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    if obj.get("default_tax_rates"):  # stored as ids, rendered as the TaxRate objects Stripe returns
        out["default_tax_rates"] = tax_rates.expanded(sim, obj["default_tax_rates"])
    return out


def _payments(sim: Sim, inv: dict[str, Any]) -> dict[str, Any]:
    rows = [sim.render(p) for p in sim.store.iter_newest("invoice_payment", lambda p: p["invoice"] == inv["id"])]
    return list_object(rows, f"/v1/invoice_payments?invoice={inv['id']}")


RENDERERS["invoice"] = _render_invoice
INCLUDABLE[("invoice", "payments")] = _payments


def sub_of(inv: dict[str, Any]) -> str | None:
    return ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")


def void(sim: Sim, inv: dict[str, Any]) -> None:
    inv.update(status="void", amount_remaining=0, next_payment_attempt=None)
    inv["status_transitions"] = dict(inv["status_transitions"], voided_at=sim.now(sim.clock_of(inv)))
    sim.emit("invoice.voided", inv)
