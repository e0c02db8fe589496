"""Payment methods and Stripe's test cards.

``pm_card_*`` / ``tok_*`` tokens and the hosted page's card numbers map to one
behaviour each; using a token mints a fresh ``pm_...`` as Stripe does. The
behaviour lives in the object's meta, never in its JSON.
"""

from __future__ import annotations

from typing import Any

from ..engine import Sim
from ..errors import StripeError, invalid
from ..listing import paginate
from ..params import as_dict, as_str, metadata
from ..routing import Request, route

# number -> (brand, behaviour)
CARD_NUMBERS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("visa", "ok"),
    "5555555555554444": ("mastercard", "ok"),
    "4000000000000002": ("visa", "generic_decline"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000000000000069": ("visa", "expired_card"),
    "4000000000000341": ("visa", "customer_fail"),
    "4000000000000259": ("visa", "dispute"),
    "4000000000005126": ("visa", "refund_fail"),
}
TOKENS: dict[str, str] = {
    "visa": "4242424242424242", "mastercard": "5555555555554444",
    "chargeDeclined": "4000000000000002", "chargeDeclinedInsufficientFunds": "4000000000009995",
    "chargeDeclinedExpiredCard": "4000000000000069", "chargeCustomerFail": "4000000000000341",
    "createDispute": "4000000000000259", "refundFail": "4000000000005126",
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
}


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def card_for_number(number: str) -> tuple[str, str]:
    """(brand, behaviour) for a typed card number; any other Luhn-valid number succeeds."""
    clean = "".join(c for c in number if c.isdigit())
    if clean in CARD_NUMBERS:
        return CARD_NUMBERS[clean]
    if not luhn_ok(clean):
        raise StripeError(402, "card_error", "Your card number is incorrect.", code="incorrect_number",
                          param="number")
    return ("mastercard" if clean.startswith("5") else "visa", "ok")


def new_card_pm(sim: Sim, number: str, customer: str | None = None,
                md: dict[str, Any] | None = None) -> dict[str, Any]:
    brand, behaviour = card_for_number(number)
    clean = "".join(c for c in number if c.isdigit())
    clock = sim.clock_of_customer(customer)
    year = 2030 + (sim.now(clock) // (365 * 86400)) % 5
    pm = sim.new("pm", "payment_method", clock, {
        "allow_redisplay": "unspecified",
        "billing_details": {"address": {"city": None, "country": None, "line1": None, "line2": None,
                                        "postal_code": None, "state": None},
                            "email": None, "name": None, "phone": None, "tax_id": None},
        "card": {"brand": brand, "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                            "cvc_check": "pass"},
                 "country": "US", "display_brand": brand, "exp_month": 12, "exp_year": int(year),
                 "fingerprint": "fp" + clean[-4:] + clean[:6], "funding": "credit", "generated_from": None,
                 "last4": clean[-4:], "networks": {"available": [brand], "preferred": None},
                 "regulated_status": "unregulated", "three_d_secure_usage": {"supported": True}, "wallet": None},
        "customer": None, "customer_account": None, "metadata": md or {}, "type": "card",
    }, behaviour=behaviour)
    if customer:
        attach(sim, pm, customer)
    return pm


def behaviour(sim: Sim, pm_id: str | None) -> str:
    if not pm_id:
        return "none"
    return str(sim.store.m(pm_id).get("behaviour", "ok"))


def attach(sim: Sim, pm: dict[str, Any], customer: str) -> dict[str, Any]:
    sim.store.get(customer, "customer", "customer")
    if pm["customer"] == customer:
        return pm
    if pm["customer"]:
        raise invalid("The payment method you provided has already been attached to a customer.", "payment_method")
    pm["customer"] = customer
    sim.store.m(pm["id"])["clock"] = sim.clock_of_customer(customer)
    sim.emit("payment_method.attached", pm)
    return pm


def resolve_pm(sim: Sim, ref: str, customer: str | None = None, param: str = "payment_method") -> dict[str, Any]:
    """A test token (minted fresh, attached) or an existing pm, attached to ``customer`` if given."""
    name = ref.removeprefix("pm_card_").removeprefix("tok_") if ref.startswith(("pm_card_", "tok_")) else None
    if name is not None:
        number = TOKENS.get(name) or TOKENS.get(name.lower())
        if number is None:
            raise invalid(f"No such PaymentMethod: '{ref}'", param, code="resource_missing")
        return new_card_pm(sim, number, customer)
    pm = sim.store.get(ref, "payment_method", param)
    if customer:
        attach(sim, pm, customer)
    return pm


@route("POST", "/v1/payment_methods")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    if (as_str(p, "type") or "card") != "card":
        raise invalid("stripe_sim supports card payment methods only.", "type")
    card = as_dict(p, "card")
    if card.get("token"):
        pm = resolve_pm(sim, card["token"], None, "card[token]")
    elif card.get("number"):
        pm = new_card_pm(sim, str(card["number"]))
    else:
        raise invalid("Missing required param: card.", "card")
    pm["metadata"] = metadata(p)
    return sim.render(pm)


@route("GET", "/v1/payment_methods/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(resolve_pm(sim, req.args["id"], None, "id"))


@route("POST", "/v1/payment_methods/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    pm = sim.store.get(req.args["id"], "payment_method")
    before = sim.render(pm)
    if "metadata" in req.params:
        pm["metadata"] = metadata(req.params, pm["metadata"])
    bd = as_dict(req.params, "billing_details")
    if bd:
        pm["billing_details"] = dict(pm["billing_details"], **{k: v for k, v in bd.items() if k != "address"})
    sim.emit_updated("payment_method.updated", pm, before)
    return sim.render(pm)


@route("POST", "/v1/payment_methods/{id}/attach")
def _attach(sim: Sim, req: Request) -> dict[str, Any]:
    customer = as_str(req.params, "customer", required=True) or ""
    return sim.render(resolve_pm(sim, req.args["id"], customer, "id"))


@route("POST", "/v1/payment_methods/{id}/detach")
def _detach(sim: Sim, req: Request) -> dict[str, Any]:
    pm = sim.store.get(req.args["id"], "payment_method")
    if not pm["customer"]:
        raise invalid("The payment method you provided is not attached to a customer so detachment is impossible.")
    before = sim.render(pm)
    pm["customer"] = None
    sim.emit("payment_method.detached", pm, {"customer": before["customer"]})
    return sim.render(pm)


def _list_for(sim: Sim, req: Request, customer: str, url: str) -> dict[str, Any]:
    sim.store.get(customer, "customer", "customer")
    return paginate(sim, req.params, "payment_method", url, [lambda o: o["customer"] == customer])


@route("GET", "/v1/payment_methods")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    customer = as_str(req.params, "customer", required=True) or ""
    return _list_for(sim, req, customer, "/v1/payment_methods")


@route("GET", "/v1/customers/{id}/payment_methods")
def _list_customer(sim: Sim, req: Request) -> dict[str, Any]:
    cid = req.args["id"]
    return _list_for(sim, req, cid, f"/v1/customers/{cid}/payment_methods")
