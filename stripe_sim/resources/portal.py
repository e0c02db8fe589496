"""Billing portal sessions and what the hosted portal does (pages.py renders it)."""

from __future__ import annotations

from typing import Any

from ..engine import Sim
from ..params import as_str
from ..routing import Request, route
from . import invoices as inv_mod
from .payment_methods import new_card_pm
from .portal_configs import for_session
from .sub_update import update_subscription


@route("POST", "/v1/billing_portal/sessions")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    cus = sim.store.get(as_str(p, "customer", required=True), "customer", "customer")
    bps = sim.new("bps", "billing_portal.session", cus.get("test_clock"), {
        "configuration": for_session(sim, as_str(p, "configuration"))["id"], "customer": cus["id"],
        "customer_account": None, "flow": None, "locale": as_str(p, "locale"), "on_behalf_of": None,
        "return_url": as_str(p, "return_url"), "url": None})
    bps.pop("metadata", None)
    bps["url"] = f"{sim.url}/portal/{bps['id']}"
    return sim.render(bps)


def live_subs(sim: Sim, customer: str) -> list[dict[str, Any]]:
    return list(sim.store.iter_newest("subscription", lambda s: s["customer"] == customer and s["status"] in (
        "active", "past_due", "trialing", "unpaid", "paused", "incomplete")))


def cancel(sim: Sim, sub: dict[str, Any], mode: str = "at_period_end") -> None:
    """The portal's default: cancel at period end; a configuration may say immediately."""
    if mode == "immediately":
        from .subscriptions import cancel_now

        cancel_now(sim, sub)
        return
    update_subscription(sim, sub, {"cancel_at_period_end": "true"})


def switch(sim: Sim, sub: dict[str, Any], price: str, proration: str = "none") -> None:
    si = sim.store.m(sub["id"])["items"][0]
    update_subscription(sim, sub, {"items": [{"id": si, "price": price}], "proration_behavior": proration})


def update_card(sim: Sim, customer: dict[str, Any], card_number: str) -> dict[str, Any]:
    """New default card on the customer and every live sub; past-due invoices are retried at once."""
    pm = new_card_pm(sim, card_number, customer["id"])
    before = sim.render(customer)
    customer["invoice_settings"] = dict(customer["invoice_settings"], default_payment_method=pm["id"])
    sim.emit_updated("customer.updated", customer, before)
    for sub in live_subs(sim, customer["id"]):
        update_subscription(sim, sub, {"default_payment_method": pm["id"]})
        inv = sim.store.find(sub.get("latest_invoice"))
        if sub["status"] in ("past_due", "unpaid") and inv is not None and inv["status"] == "open":
            inv["next_payment_attempt"] = None
            if inv_mod.attempt(sim, inv, pm["id"], off_session=False):
                from .subscriptions import after_invoice_paid

                after_invoice_paid(sim, inv)
    return pm
