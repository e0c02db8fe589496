"""Subscriptions: create (API and Checkout), retrieve, list, update, cancel, resume.

Period bounds live on the items (basil); the period clock is the sub's
``billing_cycle_anchor``. Renewals, dunning and trials run from lifecycle.py
when a clock reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import errors
from ..engine import RENDERERS, Sim, list_object
from ..listing import paginate
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route
from . import discounts, invoice_items, lifecycle
from . import invoices as inv_mod
from .catalog import create_price, plan_of
from .payment_methods import behaviour, resolve_pm


def _item_render(sim: Sim, si: dict[str, Any]) -> dict[str, Any]:
    out = dict(si)
    price = sim.store.get(si["price"])
    out["price"] = dict(price)
    out["plan"] = plan_of(price)
    if si.get("tax_rates"):  # stored as ids, rendered as objects
        out["tax_rates"] = [dict(sim.store.get(r)) for r in si["tax_rates"]]
    return out


def items_of(sim: Sim, sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [sim.store.get(i) for i in sim.store.m(sub["id"])["items"]]


def _render(sim: Sim, sub: dict[str, Any]) -> dict[str, Any]:
    out = dict(sub)
    out["items"] = list_object([_item_render(sim, si) for si in items_of(sim, sub)],
                               f"/v1/subscription_items?subscription={sub['id']}")
    return out


RENDERERS["subscription"] = _render
RENDERERS["subscription_item"] = _item_render


def resolve_price(sim: Sim, spec: dict[str, Any], param: str) -> dict[str, Any]:
    if spec.get("price"):
        return sim.store.get(spec["price"], "price", f"{param}[price]")
    pdata = spec.get("price_data")
    if isinstance(pdata, dict):
        return create_price(sim, pdata)
    raise errors.invalid(f"Missing required param: {param}[price].", f"{param}[price]")


def create_subscription(sim: Sim, cus: dict[str, Any], items: list[tuple[dict[str, Any], int, int | None]], *,
                        pm_id: str | None, md: dict[str, Any], trial_end: int | None = None,
                        missing_pm: str = "create_invoice", payment_behavior: str = "allow_incomplete",
                        description: str | None = None, cancel_at_period_end: bool = False,
                        set_default: bool = True, coupons: Sequence[discounts.Redeem] = ()) -> dict[str, Any]:
    """Create the sub, its first invoice and payment; events batched into Stripe's order.

    ``coupons`` were validated by the caller (discounts.requested_coupons): each becomes a
    discount before the first invoice so that invoice is already discounted.
    """
    if not items:
        raise errors.invalid("Missing required param: items.", "items")
    currency = items[0][0]["currency"]
    for price, _q, _a in items:
        if price["type"] != "recurring":
            raise errors.invalid("The price specified is set to `type=one_time` but this field only accepts prices "
                                 "with `type=recurring`.", "items")
    clock = cus.get("test_clock")
    now = sim.now(clock)
    rec = items[0][0]["recurring"]
    trialing = trial_end is not None and trial_end > now
    end = trial_end if trialing and trial_end else lifecycle.period_after(now, rec, 1)
    if payment_behavior == "error_if_incomplete" and not trialing and behaviour(sim, pm_id) in (
            "generic_decline", "insufficient_funds", "expired_card", "none"):
        code = behaviour(sim, pm_id)
        code = "generic_decline" if code == "none" else code
        raise errors.card_declined(code, "Your card was declined." if code == "generic_decline" else
                                   "Your card has insufficient funds." if code == "insufficient_funds" else
                                   "Your card has expired.")
    sim.begin_batch()
    try:
        sub = sim.new("sub", "subscription", clock, {
            "application": None, "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": end if trialing else now, "billing_cycle_anchor_config": None,
            "billing_mode": {"flexible": None, "type": "classic", "updated_at": None}, "billing_schedules": [],
            "billing_thresholds": None, "cancel_at": None, "cancel_at_period_end": cancel_at_period_end,
            "canceled_at": now if cancel_at_period_end else None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically", "currency": currency, "customer": cus["id"],
            "customer_account": None, "days_until_due": None, "default_payment_method": pm_id if set_default else None,
            "default_source": None, "default_tax_rates": [], "description": description, "discounts": [],
            "ended_at": None, "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": None, "latest_invoice": None, "managed_payments": None, "metadata": md,
            "next_pending_invoice_item_invoice": None, "on_behalf_of": None, "pause_collection": None,
            "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                                 "save_default_payment_method": "off"},
            "pending_invoice_item_interval": None, "pending_setup_intent": None, "pending_update": None,
            "schedule": None, "start_date": now, "status": "incomplete", "test_clock": clock,
            "transfer_data": None, "trial_end": trial_end if trialing else None,
            "trial_settings": {"end_behavior": {"missing_payment_method": missing_pm}},
            "trial_start": now if trialing else None,
        })
        discounts.replace(sim, sub, list(coupons), now)
        meta = sim.store.m(sub["id"])
        meta["items"] = []
        meta["amounts"] = {}
        lines = []
        for price, qty, amount in items:
            si = sim.new("si", "subscription_item", clock, {
                "billing_thresholds": None, "current_period_end": end, "current_period_start": now,
                "discounts": [], "price": price["id"], "quantity": qty, "subscription": sub["id"],
                "tax_rates": []})
            si.pop("livemode", None)
            meta["items"].append(si["id"])
            if amount is not None:
                meta["amounts"][si["id"]] = amount
            ln = inv_mod.item_line(sim, price, qty, now, end, sub["id"], si["id"], 0 if trialing else amount)
            if trialing:
                ln["description"] = f"Trial period for {sim.store.get(price['product'])['name']}"
            lines.append(ln)
        lines.extend(invoice_items.pending_lines(sim, cus["id"], currency, sub["id"]))
        inv = inv_mod.new_invoice(sim, cus, sub, lines, "subscription_create", currency, (now, now))
        invoice_items.claim(sim, inv)
        sub["latest_invoice"] = inv["id"]
        if payment_behavior == "default_incomplete" and inv["amount_due"] > 0:
            inv_mod.finalize(sim, inv)
            paid = False
        else:
            paid = inv_mod.attempt(sim, inv, pm_id, off_session=False)
        if paid:
            sub["status"] = "trialing" if trialing else "active"
        else:
            sim.schedule(clock, now + sim.config.incomplete_expire_seconds, "sub_incomplete_expire", sub["id"])
        sim.emit("customer.subscription.created", sub)
    finally:
        sim.flush_batch(first=("customer.subscription.created",))
    lifecycle.schedule_period(sim, sub)
    return sub


def after_invoice_paid(sim: Sim, inv: dict[str, Any]) -> None:
    """A late payment (retry, portal card update, /pay) reactivates the subscription."""
    sub = sim.store.find(inv_mod.sub_of(inv))
    if sub is None or sub.get("latest_invoice") != inv["id"]:
        return
    if sub["status"] in ("incomplete", "past_due", "unpaid"):
        before = sim.render(sub)
        sub["status"] = "active"
        sim.emit_updated("customer.subscription.updated", sub, before)


def cancel_now(sim: Sim, sub: dict[str, Any], reason: str = "cancellation_requested",
               details: dict[str, Any] | None = None) -> None:
    now = sim.now(sim.clock_of(sub))
    sub.update(status="canceled", ended_at=now, canceled_at=sub.get("canceled_at") or now)
    sub["cancellation_details"] = dict(sub["cancellation_details"], reason=reason, **(details or {}))
    sim.emit("customer.subscription.deleted", sub)


def _item_specs(sim: Sim, params: dict[str, Any]) -> list[tuple[dict[str, Any], int, int | None]]:
    out: list[tuple[dict[str, Any], int, int | None]] = []
    for i, spec in enumerate(as_list(params, "items")):
        if not isinstance(spec, dict):
            raise errors.invalid("Invalid items", f"items[{i}]")
        out.append((resolve_price(sim, spec, f"items[{i}]"), int(spec.get("quantity") or 1), None))
    return out


@route("POST", "/v1/subscriptions")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    cus = sim.store.get(as_str(p, "customer", required=True), "customer", "customer")
    ref = as_str(p, "default_payment_method")
    pm_id = resolve_pm(sim, ref, cus["id"], "default_payment_method")["id"] if ref else None
    if pm_id is None:
        pm_id = cus["invoice_settings"].get("default_payment_method")
        sub_pm = None
    else:
        sub_pm = pm_id
    items = _item_specs(sim, p)
    trial_end = None
    if p.get("trial_end") and p["trial_end"] != "now":
        trial_end = as_int(p, "trial_end")
    days = as_int(p, "trial_period_days")
    if days is None and as_bool(p, "trial_from_plan", False) and items:
        days = (items[0][0]["recurring"] or {}).get("trial_period_days")
    if days:
        trial_end = sim.now(cus.get("test_clock")) + days * 86400
    missing = (as_dict(as_dict(p, "trial_settings"), "end_behavior").get("missing_payment_method")
               or "create_invoice")
    first = sum(int(price["unit_amount"] or 0) * qty for price, qty, _a in items)
    wanted = discounts.requested_coupons(sim, p, items[0][0]["currency"], sim.now(cus.get("test_clock")),
                                         customer=cus["id"], amount=first) if items else []
    coupons = [c for c in wanted if isinstance(c, discounts.Redeem)]
    sub = create_subscription(sim, cus, items, pm_id=pm_id, md=metadata(p), trial_end=trial_end,
                              missing_pm=missing, description=as_str(p, "description"),
                              payment_behavior=as_str(p, "payment_behavior", "allow_incomplete") or "",
                              cancel_at_period_end=bool(as_bool(p, "cancel_at_period_end", False)),
                              set_default=sub_pm is not None, coupons=coupons)
    return sim.render(sub)


@route("GET", "/v1/subscriptions/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "subscription"))


@route("GET", "/v1/subscriptions")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    customer, status, price, clock = (as_str(p, "customer"), as_str(p, "status"), as_str(p, "price"),
                                      as_str(p, "test_clock"))

    def status_ok(o: dict[str, Any]) -> bool:
        if status == "all":
            return True
        if status:
            return bool(o["status"] == status)
        return o["status"] not in ("canceled", "incomplete_expired")

    return paginate(sim, p, "subscription", "/v1/subscriptions", [
        status_ok, (lambda o: o["customer"] == customer) if customer else None,
        (lambda o: any(si["price"] == price for si in items_of(sim, o))) if price else None,
        (lambda o: o["test_clock"] == clock) if clock else None,
    ])


@route("DELETE", "/v1/subscriptions/{id}")
def _cancel(sim: Sim, req: Request) -> dict[str, Any]:
    sub = sim.store.get(req.args["id"], "subscription")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise errors.invalid("A canceled subscription can only update its cancellation_details and metadata.")
    details = {k: v or None for k, v in as_dict(req.params, "cancellation_details").items()
               if k in ("comment", "feedback")}
    cancel_now(sim, sub, "cancellation_requested", details)
    return sim.render(sub)


@route("POST", "/v1/subscriptions/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    from .sub_update import update_subscription

    sub = sim.store.get(req.args["id"], "subscription")
    return sim.render(update_subscription(sim, sub, req.params))


@route("DELETE", "/v1/subscriptions/{id}/discount")
def _delete_discount(sim: Sim, req: Request) -> dict[str, Any]:
    """Remove the subscription's discounts; answers the (first) removed discount marked deleted."""
    sub = sim.store.get(req.args["id"], "subscription")
    if not sub["discounts"]:
        raise errors.invalid(f"The subscription {sub['id']} has no discount to remove.", code="resource_missing")
    gone = sim.store.get(sub["discounts"][0])
    before = sim.render(sub)
    discounts.replace(sim, sub, [], sim.now(sim.clock_of(sub)))
    sim.emit_updated("customer.subscription.updated", sub, before)
    return dict(sim.render(gone), deleted=True)


@route("POST", "/v1/subscriptions/{id}/resume")
def _resume(sim: Sim, req: Request) -> dict[str, Any]:
    sub = sim.store.get(req.args["id"], "subscription")
    if sub["status"] != "paused":
        raise errors.invalid("Only paused subscriptions can be resumed.", code="subscription_not_paused")
    lifecycle.resume(sim, sub)
    return sim.render(sub)


@route("GET", "/v1/subscription_items")
def _list_items(sim: Sim, req: Request) -> dict[str, Any]:
    sub_id = as_str(req.params, "subscription", required=True)
    return paginate(sim, req.params, "subscription_item", "/v1/subscription_items",
                    [lambda o: o["subscription"] == sub_id and not o.get("deleted")])


@route("GET", "/v1/subscription_items/{id}")
def _get_item(sim: Sim, req: Request) -> dict[str, Any]:
    si = sim.store.get(req.args["id"], "subscription_item")
    if si.get("deleted"):
        raise errors.missing("subscription_item", si["id"])
    return sim.render(si)
