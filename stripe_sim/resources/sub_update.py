"""Subscription updates: cancel flags, pause_collection, default pm, price changes with prorations.

Prorations follow Stripe's arithmetic: credit the unused fraction of the old
price, charge the remaining fraction of the new one, both over the current
period, and either leave them for the next invoice (create_prorations),
invoice them now (always_invoice) or skip them (none).
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import Sim
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from . import discounts, lifecycle
from . import invoices as inv_mod
from .payment_methods import resolve_pm
from .subscriptions import items_of, resolve_price


def _proration_lines(sim: Sim, sub: dict[str, Any], si: dict[str, Any], old: dict[str, Any], new: dict[str, Any],
                     old_qty: int, new_qty: int, at: int) -> list[dict[str, Any]]:
    start, end = int(si["current_period_start"]), int(si["current_period_end"])
    if end <= start or at >= end:
        return []
    frac_num, frac_den = end - max(at, start), end - start
    credit = -round(int(old["unit_amount"] or 0) * old_qty * frac_num / frac_den)
    charge = round(int(new["unit_amount"] or 0) * new_qty * frac_num / frac_den)
    out = []
    for amount, price, qty, label in ((credit, old, old_qty, "Unused time on"), (charge, new, new_qty, "Remaining time on")):
        name = sim.store.get(price["product"])["name"]
        out.append(inv_mod.line(sim, amount=amount, currency=price["currency"],
                                description=f"{label} {qty} × {name} after {at}", price=price, quantity=qty,
                                start=max(at, start), end=end, sub=sub["id"], si=si["id"], proration=True))
    return out


def update_subscription(sim: Sim, sub: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    if sub["status"] in ("canceled", "incomplete_expired") and set(p) - {"metadata", "cancellation_details", "expand"}:
        raise errors.invalid("A canceled subscription can only update its cancellation_details and metadata.")
    clock = sim.clock_of(sub)
    now = sim.now(clock)
    wanted = discounts.requested_coupons(sim, p, sub["currency"], now, keep=sub["discounts"],
                                         customer=sub["customer"]) \
        if "discounts" in p else None  # validated before anything changes: a 400 leaves no trace
    before = sim.render(sub)
    if wanted is not None:
        discounts.replace(sim, sub, wanted, now)
    if "metadata" in p:
        sub["metadata"] = metadata(p, sub["metadata"])
    if "description" in p:
        sub["description"] = p["description"] or None
    if "cancel_at_period_end" in p:
        flag = bool(as_bool(p, "cancel_at_period_end"))
        sub["cancel_at_period_end"] = flag
        sub["canceled_at"] = now if flag else None
        sub["cancel_at"] = lifecycle.current_period(sim, sub)[1] if flag else None
    if "cancel_at" in p:
        sub["cancel_at"] = as_int(p, "cancel_at")
        sub["canceled_at"] = now if sub["cancel_at"] else None
        if sub["cancel_at"]:
            sim.schedule(clock, int(sub["cancel_at"]), "sub_cancel_at", sub["id"])
    cd = as_dict(p, "cancellation_details")
    if cd:
        sub["cancellation_details"] = dict(sub["cancellation_details"],
                                           **{k: v or None for k, v in cd.items() if k in ("comment", "feedback")})
    if "default_payment_method" in p:
        ref = as_str(p, "default_payment_method")
        sub["default_payment_method"] = resolve_pm(sim, ref, sub["customer"], "default_payment_method")["id"] \
            if ref else None
    if "pause_collection" in p:
        pc = p["pause_collection"]
        if isinstance(pc, dict) and pc.get("behavior"):
            if pc["behavior"] not in ("keep_as_draft", "mark_uncollectible", "void"):
                raise errors.invalid("Invalid pause_collection[behavior]", "pause_collection[behavior]")
            resumes = int(pc["resumes_at"]) if pc.get("resumes_at") else None
            sub["pause_collection"] = {"behavior": pc["behavior"], "resumes_at": resumes}
            if resumes:
                sim.schedule(clock, resumes, "sub_pause_resumes", sub["id"])
        else:
            sub["pause_collection"] = None
    if p.get("trial_end") == "now" and sub["status"] == "trialing":
        for si in items_of(sim, sub):
            si["current_period_end"] = now
        sub["trial_end"] = now
        sim.schedule(clock, now, "sub_period_end", sub["id"])
    behavior = as_str(p, "proration_behavior", "create_prorations") or "create_prorations"
    if behavior not in ("none", "create_prorations", "always_invoice"):
        raise errors.invalid("Invalid proration_behavior", "proration_behavior")
    at = as_int(p, "proration_date", now) or now
    pro_lines: list[dict[str, Any]] = []
    for i, spec in enumerate(as_list(p, "items")):
        if not isinstance(spec, dict):
            continue
        if not spec.get("id"):  # a new item (sub_items.py prorates it)
            from .sub_items import add_item

            price = resolve_price(sim, spec, f"items[{i}]")
            added_md = metadata(spec) if isinstance(spec.get("metadata"), dict) else {}
            pro_lines.extend(add_item(sim, sub, price, int(spec.get("quantity") or 1), at, behavior,
                                      f"items[{i}][price]", added_md)[1])
            continue
        si = sim.store.get(spec["id"], "subscription_item", f"items[{i}][id]")
        if si["subscription"] != sub["id"] or si.get("deleted"):
            raise errors.missing("subscription_item", spec["id"], f"items[{i}][id]")
        if as_bool(spec, "deleted", False):
            from .sub_items import remove_item

            pro_lines.extend(remove_item(sim, sub, si, at, behavior, f"items[{i}][id]"))
            continue
        old_price = sim.store.get(si["price"])
        old_qty = int(si["quantity"])
        new_price = resolve_price(sim, spec, f"items[{i}]") if (spec.get("price") or spec.get("price_data")) \
            else old_price
        new_qty = int(spec.get("quantity") or old_qty)
        if new_price["currency"] != sub["currency"]:
            raise errors.invalid("Prices in a subscription must all use the same currency.", f"items[{i}][price]")
        if behavior != "none" and (new_price["id"] != old_price["id"] or new_qty != old_qty):
            pro_lines.extend(_proration_lines(sim, sub, si, old_price, new_price, old_qty, new_qty, at))
        si["price"], si["quantity"] = new_price["id"], new_qty
        sim.store.m(sub["id"]).get("amounts", {}).pop(si["id"], None)
    sim.emit_updated("customer.subscription.updated", sub, before)
    if pro_lines and behavior == "create_prorations":
        sim.store.m(sub["id"]).setdefault("pending_lines", []).extend(pro_lines)
    elif pro_lines and behavior == "always_invoice":
        _invoice_now(sim, sub, pro_lines, now)
    return sub


def _invoice_now(sim: Sim, sub: dict[str, Any], lines: list[dict[str, Any]], now: int) -> None:
    """always_invoice: bill prorations at once; a net credit lands on the customer balance."""
    cus = sim.store.get(sub["customer"])
    inv = inv_mod.new_invoice(sim, cus, sub, lines, "subscription_update", sub["currency"], (now, now))
    sub["latest_invoice"] = inv["id"]
    if not lifecycle.charge_invoice(sim, sub, inv, now) and sub["status"] == "active":
        before = sim.render(sub)
        sub["status"] = "past_due"
        sim.emit_updated("customer.subscription.updated", sub, before)


def on_cancel_at(sim: Sim, sid: str, when: int) -> None:
    sub = sim.store.get(sid)
    if sub["status"] in lifecycle.LIVE and sub.get("cancel_at") == when:
        lifecycle._end(sim, sub, when, "cancellation_requested")


lifecycle.DUE["sub_cancel_at"] = on_cancel_at
