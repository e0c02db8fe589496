"""Subscription items: add, change and remove the prices a subscription bills.

Every change is a subscription update (``customer.subscription.updated`` with
``previous_attributes.items``) and prorates like one: an added item charges the
rest of the current period, a removed one credits it, a changed one does both
(sub_update's arithmetic). ``create_prorations`` leaves the lines for the next
invoice, ``always_invoice`` bills them now, ``none`` skips them. The same
helpers serve ``items[i]`` without an id and ``items[i][deleted]`` on
``POST /v1/subscriptions/{id}``.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import Sim
from ..params import as_int, as_list, as_str, metadata
from ..routing import Request, route
from . import invoices as inv_mod
from . import lifecycle, tax_rates
from .subscriptions import items_of, resolve_price

_BEHAVIORS = ("none", "create_prorations", "always_invoice")


def _proration(sim: Sim, sub: dict[str, Any], si: dict[str, Any], price: dict[str, Any], qty: int, at: int,
               sign: int) -> list[dict[str, Any]]:
    """One proration line: +remaining time of an added item, -unused time of a removed one."""
    start, end = int(si["current_period_start"]), int(si["current_period_end"])
    if end <= start or at >= end:
        return []
    amount = sign * round(int(price["unit_amount"] or 0) * qty * (end - max(at, start)) / (end - start))
    label = "Remaining time on" if sign > 0 else "Unused time on"
    name = sim.store.get(price["product"])["name"]
    return [inv_mod.line(sim, amount=amount, currency=price["currency"], description=f"{label} {qty} × {name}",
                         price=price, quantity=qty, start=max(at, start), end=end, sub=sub["id"], si=si["id"],
                         proration=True)]


def _live_sub(sim: Sim, sid: str | None, param: str = "subscription") -> dict[str, Any]:
    sub = sim.store.get(sid, "subscription", param)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise errors.invalid("A canceled subscription cannot change its items.", param)
    return sub


def add_item(sim: Sim, sub: dict[str, Any], price: dict[str, Any], qty: int, at: int, behavior: str,
             param: str, md: dict[str, Any] | None = None, rates: list[str] | None = None
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A new item on the current period; returns it and its proration lines."""
    current = items_of(sim, sub)
    if price["type"] != "recurring":
        raise errors.invalid("The price specified is set to `type=one_time` but this field only accepts prices "
                             "with `type=recurring`.", param)
    if price["currency"] != sub["currency"]:
        raise errors.invalid("Prices in a subscription must all use the same currency.", param)
    first = sim.store.get(current[0]["price"])["recurring"]
    rec = price["recurring"]
    if (rec["interval"], rec.get("interval_count") or 1) != (first["interval"], first.get("interval_count") or 1):
        raise errors.invalid("All prices on a subscription must have the same `recurring.interval` and "
                             "`recurring.interval_count`.", param)
    if any(si["price"] == price["id"] for si in current):
        raise errors.invalid("Cannot add multiple subscription items with the same price.", param)
    start, end = lifecycle.current_period(sim, sub)
    si = sim.new("si", "subscription_item", sim.clock_of(sub), {
        "billing_thresholds": None, "current_period_end": end, "current_period_start": start, "discounts": [],
        "metadata": md or {}, "price": price["id"], "quantity": qty, "subscription": sub["id"],
        "tax_rates": rates or []})
    si.pop("livemode", None)
    sim.store.m(sub["id"])["items"].append(si["id"])
    pro = _proration(sim, sub, si, price, qty, at, +1) if behavior != "none" and sub["status"] != "trialing" else []
    return si, pro


def remove_item(sim: Sim, sub: dict[str, Any], si: dict[str, Any], at: int, behavior: str,
                param: str) -> list[dict[str, Any]]:
    """Take an item off (never the last one); returns its credit proration."""
    ids = sim.store.m(sub["id"])["items"]
    if si["id"] not in ids:
        raise errors.missing("subscription_item", si["id"], param)
    if len(ids) == 1:
        raise errors.invalid("A subscription must have at least one active item. Cancel the subscription instead.",
                             param)
    pro = _proration(sim, sub, si, sim.store.get(si["price"]), int(si["quantity"]), at, -1) \
        if behavior != "none" and sub["status"] != "trialing" else []
    ids.remove(si["id"])
    sim.store.m(sub["id"]).get("amounts", {}).pop(si["id"], None)
    si["deleted"] = True
    return pro


def settle(sim: Sim, sub: dict[str, Any], pro: list[dict[str, Any]], behavior: str, now: int) -> None:
    """Leave prorations for the next invoice, or bill them at once."""
    if not pro:
        return
    if behavior == "always_invoice":
        from .sub_update import _invoice_now

        _invoice_now(sim, sub, pro, now)
    else:
        sim.store.m(sub["id"]).setdefault("pending_lines", []).extend(pro)


def _behavior(p: dict[str, Any]) -> str:
    behavior = as_str(p, "proration_behavior", "create_prorations") or "create_prorations"
    if behavior not in _BEHAVIORS:
        raise errors.invalid("Invalid proration_behavior", "proration_behavior")
    return behavior


@route("POST", "/v1/subscription_items")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    sub = _live_sub(sim, as_str(p, "subscription", required=True))
    price = resolve_price(sim, p, "price") if (p.get("price") or p.get("price_data")) else None
    if price is None:
        raise errors.invalid("Missing required param: price.", "price")
    behavior = _behavior(p)
    now = sim.now(sim.clock_of(sub))
    rates = tax_rates.resolve_rates(sim, as_list(p, "tax_rates"), "tax_rates")
    before = sim.render(sub)
    si, pro = add_item(sim, sub, price, as_int(p, "quantity", 1) or 1, as_int(p, "proration_date", now) or now,
                       behavior, "price", metadata(p), rates)
    sim.emit_updated("customer.subscription.updated", sub, before)
    settle(sim, sub, pro, behavior, now)
    return sim.render(si)


def _item(sim: Sim, sid: str) -> dict[str, Any]:
    si = sim.store.get(sid, "subscription_item")
    if si.get("deleted"):
        raise errors.missing("subscription_item", sid)
    return si


@route("POST", "/v1/subscription_items/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    """Price and quantity go through the subscription update (same prorations); the rest is the item's own."""
    from .sub_update import update_subscription

    p = req.params
    si = _item(sim, req.args["id"])
    sub = _live_sub(sim, si["subscription"], "id")
    spec: dict[str, Any] = {"id": si["id"]}
    for key in ("price", "price_data", "quantity"):
        if key in p:
            spec[key] = p[key]
    if "metadata" in p or "tax_rates" in p:
        before = sim.render(sub)
        if "metadata" in p:
            si["metadata"] = metadata(p, si.get("metadata"))
        if "tax_rates" in p:
            si["tax_rates"] = tax_rates.resolve_rates(sim, as_list(p, "tax_rates"), "tax_rates")
        if len(spec) == 1:
            sim.emit_updated("customer.subscription.updated", sub, before)
    if len(spec) > 1:
        args: dict[str, Any] = {"items": [spec], "proration_behavior": _behavior(p)}
        if "proration_date" in p:
            args["proration_date"] = p["proration_date"]
        update_subscription(sim, sub, args)
    return sim.render(si)


@route("DELETE", "/v1/subscription_items/{id}")
def _delete(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    si = _item(sim, req.args["id"])
    sub = _live_sub(sim, si["subscription"], "id")
    behavior = _behavior(p)
    now = sim.now(sim.clock_of(sub))
    before = sim.render(sub)
    pro = remove_item(sim, sub, si, as_int(p, "proration_date", now) or now, behavior, "id")
    sim.emit_updated("customer.subscription.updated", sub, before)
    settle(sim, sub, pro, behavior, now)
    return {"id": si["id"], "object": "subscription_item", "deleted": True}
